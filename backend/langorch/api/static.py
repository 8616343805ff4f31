"""Serves the operator UI (the Next.js static export in ``frontend/out``) from the API's origin.

Routes of the export are HTML files: ``/runs`` is ``runs.html``, ``/runs/view?id=…`` is
``runs/view.html``, ``/`` is ``index.html``; assets live under ``/_next/``. A path that
is neither a file nor a page gets the export's ``404.html`` (status 404), or
``index.html`` when the export has no 404 page. Paths under ``/api`` are never served
from here: an unknown API path still answers the API's JSON 404 envelope.

Mount it after the API routers (Starlette matches routes in order)::

    app = create_app()
    mount_ui(app, settings.api.static_dir)
"""

from __future__ import annotations

import mimetypes
from pathlib import Path

from fastapi import FastAPI
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.types import Receive, Scope, Send

from langorch.api.errors import error_body

__all__ = ["StaticUI", "mount_ui"]

_IMMUTABLE = "public, max-age=31536000, immutable"
_REVALIDATE = "no-cache"

# Content types the export uses that some systems' mime tables lack.
for _ext, _type in ((".js", "text/javascript"), (".css", "text/css"), (".txt", "text/plain"),
                    (".json", "application/json"), (".svg", "image/svg+xml"), (".woff2", "font/woff2"),
                    (".ico", "image/x-icon"), (".webmanifest", "application/manifest+json")):
    mimetypes.add_type(_type, _ext)


class StaticUI:
    """ASGI app answering GET/HEAD with files of a static export, confined to ``directory``."""

    def __init__(self, directory: str | Path) -> None:
        self.root = Path(directory).resolve()
        if not (self.root / "index.html").is_file():
            raise ValueError(f"{self.root} has no index.html: build the UI first (cd frontend && npm run build)")

    def _file(self, relative: str) -> Path | None:
        """``relative`` inside the root as an existing file, or None (also for any path escaping the root)."""
        if not relative or "\x00" in relative:
            return None
        candidate = (self.root / relative).resolve()
        if not candidate.is_relative_to(self.root) or not candidate.is_file():
            return None
        return candidate

    def resolve(self, path: str) -> tuple[Path, int] | None:
        """The file answering ``path`` and its status; None when nothing (not even a 404 page) can."""
        clean = path.lstrip("/")
        if clean == "":
            return self.root / "index.html", 200
        stripped = clean.rstrip("/")
        for name in (clean, f"{stripped}.html", f"{stripped}/index.html"):
            found = self._file(name)
            if found is not None:
                return found, 200
        not_found = self._file("404.html")
        if not_found is not None:
            return not_found, 404
        return self.root / "index.html", 200

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        path: str = scope.get("path", "/")
        response: Response
        if path == "/api" or path.startswith("/api/"):
            response = JSONResponse(error_body("not_found", f"no API route for {path}"), status_code=404)
        elif scope["method"] not in ("GET", "HEAD"):
            response = JSONResponse(error_body("method_not_allowed", "the UI only answers GET and HEAD"),
                                    status_code=405, headers={"Allow": "GET, HEAD"})
        else:
            found = self.resolve(path)
            if found is None:
                response = JSONResponse(error_body("not_found", f"{path} not found"), status_code=404)
            else:
                file, status = found
                cache = _IMMUTABLE if path.startswith("/_next/static/") else _REVALIDATE
                media_type = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
                if file.suffix == ".html":
                    media_type = "text/html; charset=utf-8"
                response = FileResponse(file, status_code=status, media_type=media_type,
                                        headers={"Cache-Control": cache})
        await response(scope, receive, send)


def mount_ui(app: FastAPI, directory: str) -> None:
    """Serve the UI export in ``directory`` at ``/`` without shadowing ``/api`` or the docs.

    Call after the API routers are included: the mount matches every path, so it must
    come last. Raises ValueError when ``directory`` holds no built UI.
    """
    app.mount("/", StaticUI(directory), name="ui")
