"""Browser safety at the door: answer only the host names this server is meant to be
reached by (a DNS-rebinding page names its own), and refuse cross-origin writes unless
the origin is configured for CORS."""

from __future__ import annotations

import json
from collections.abc import Iterable
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Receive, Scope, Send

LOOPBACK = ("localhost", "127.0.0.1", "::1")
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _host_name(value: str) -> str:
    """``example.com:8000`` → ``example.com``; ``[::1]:8000`` → ``::1``."""
    value = value.strip().lower()
    if value.startswith("["):
        return value[1:].split("]", 1)[0]
    if value.count(":") == 1:
        return value.split(":", 1)[0]
    return value


class HostOriginMiddleware:
    def __init__(self, app: ASGIApp, *, allowed_hosts: Iterable[str], cors_origins: Iterable[str]) -> None:
        self.app = app
        hosts = {_host_name(h) for h in [*LOOPBACK, *allowed_hosts] if h}
        self.any_host = "*" in hosts
        self.hosts = frozenset(hosts - {"*"})
        self.origins = frozenset(o.rstrip("/").lower() for o in cors_origins)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        host = headers.get("host", "")
        if not self.any_host and _host_name(host) not in self.hosts:
            await _refuse(send, 400, "host_not_allowed",
                          f"this server does not answer to the host name {host[:200]!r}; add it to "
                          "LANGORCH_API__ALLOWED_HOSTS if it is yours")
            return
        method = scope.get("method", "GET")
        origin = headers.get("origin")
        if method not in SAFE_METHODS and origin and not self._same_origin(origin, host, scope):
            await _refuse(send, 403, "cross_origin_refused",
                          f"a page of {origin[:200]!r} may not change anything here; configure "
                          "LANGORCH_API__CORS_ORIGINS to allow it")
            return
        if method not in SAFE_METHODS and not origin and headers.get("sec-fetch-site") == "cross-site":
            await _refuse(send, 403, "cross_origin_refused", "cross-site requests may not change anything here")
            return
        await self.app(scope, receive, send)

    def _same_origin(self, origin: str, host: str, scope: Scope) -> bool:
        origin = origin.rstrip("/").lower()
        if origin in self.origins:
            return True
        parts = urlsplit(origin)
        return bool(parts.netloc) and parts.netloc == host.strip().lower()


async def _refuse(send: Send, status: int, code: str, message: str) -> None:
    body = json.dumps({"error": {"code": code, "message": message, "details": None}}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
