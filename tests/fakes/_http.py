"""A tiny threaded loopback HTTP server that the fakes build on.

Each fake binds ``127.0.0.1`` on a free port (port 0), serves from a daemon thread and
answers with JSON. Subclasses implement :meth:`LoopbackJsonServer.handle` only.
"""

from __future__ import annotations

import json
import threading
from abc import ABC, abstractmethod
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self


class JsonReply:
    """What a fake answers: an HTTP status and a JSON (or raw text) body."""

    def __init__(
        self, status: int, body: Any = None, *, raw: str | None = None, headers: dict[str, str] | None = None
    ):
        self.status = status
        self.body = body
        self.raw = raw
        self.headers = headers or {}

    def encode(self) -> bytes:
        if self.raw is not None:
            return self.raw.encode()
        return json.dumps(self.body).encode()


class LoopbackJsonServer(ABC):
    """Base for the loopback fakes: start/stop, context manager, JSON in and out."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._host = host
        self._port = port
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.lock = threading.Lock()

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> Self:
        """Bind and serve in a background thread; returns ``self``."""
        if self._httpd is not None:
            return self
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self._dispatch("GET")

            def do_POST(self) -> None:
                self._dispatch("POST")

            def _dispatch(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body: Any = json.loads(raw) if raw else None
                except ValueError:
                    reply = JsonReply(400, {"error": {"type": "InvalidJSON", "message": "body is not JSON"}})
                else:
                    headers = {k.lower(): v for k, v in self.headers.items()}
                    reply = server.handle(method, self.path, body, headers)
                data = reply.encode()
                try:
                    self.send_response(reply.status)
                    self.send_header(
                        "Content-Type", "text/plain" if reply.raw is not None else "application/json"
                    )
                    self.send_header("Content-Length", str(len(data)))
                    for key, value in reply.headers.items():
                        self.send_header(key, value)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    # The client gave up (e.g. a timeout test); nothing to answer.
                    pass

            def log_message(self, format: str, *args: Any) -> None:
                # Keep test output quiet; the fakes record requests themselves.
                return

        self._httpd = ThreadingHTTPServer((self._host, self._port), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            name=type(self).__name__,
            kwargs={"poll_interval": 0.05},
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and release the port."""
        if self._httpd is None:
            return
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = None
        self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError(f"{type(self).__name__} is not started")
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT`` (no trailing slash)."""
        return f"http://{self._host}:{self.port}"

    # -- to implement ------------------------------------------------------------------

    @abstractmethod
    def handle(self, method: str, path: str, body: Any, headers: dict[str, str]) -> JsonReply:
        """Answer one request; runs on a server thread."""


class Failure:
    """A scripted failure for the next ``times`` matching calls."""

    def __init__(self, reply: JsonReply, times: int, match: str | None = None) -> None:
        self.reply = reply
        self.remaining = times
        self.match = match


def take_failure(failures: list[Failure], key: str | None) -> JsonReply | None:
    """Pop one use of the first failure matching ``key`` (caller holds the lock)."""
    for failure in failures:
        if failure.match is None or failure.match == key:
            failure.remaining -= 1
            if failure.remaining <= 0:
                failures.remove(failure)
            return failure.reply
    return None
