"""Every API request in ``langorch_http_request_duration_seconds``, by method, route
template (``/api/runs/{run_id}``, never the id itself) and status class (2xx, 4xx …)."""

from __future__ import annotations

import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from langorch.services.metrics import HTTP_REQUESTS


class HttpMetricsMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope.get("path", "").startswith("/api/"):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def watched(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, watched)
        finally:
            route = scope.get("route")
            template = str(getattr(route, "path_format", None) or getattr(route, "path", None) or "unmatched")
            if template.startswith("/") and not template.startswith("/api/"):
                template = "/api" + template  # the route as its router declared it, under the /api prefix
            HTTP_REQUESTS.labels(scope.get("method", "GET"), template, f"{status // 100}xx").observe(
                time.perf_counter() - started)
