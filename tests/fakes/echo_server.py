"""A loopback HTTP service that answers with what it was sent (for secret-leak tests).

``GET|POST /anything`` answers 200 ``{method, path, headers, body, x_key_b64}`` (the
``X-Key`` header base64-encoded, as a server might return a credential); a path starting
with ``/fail`` answers 500 with the same echo. Every request is kept in :attr:`seen`, so a test
can check what was really sent while the run itself must never store it.
"""

from __future__ import annotations

import base64
from typing import Any

from tests.fakes._http import JsonReply, LoopbackJsonServer


class EchoServer(LoopbackJsonServer):
    def __init__(self) -> None:
        super().__init__()
        self.seen: list[dict[str, Any]] = []

    def handle(self, method: str, path: str, body: Any, headers: dict[str, str]) -> JsonReply:
        echo = {"method": method, "path": path, "body": body,
                "headers": {k: v for k, v in headers.items()
                            if k.startswith("x-") or k in ("authorization", "idempotency-key")},
                "x_key_b64": base64.b64encode(headers.get("x-key", "").encode()).decode()}
        with self.lock:
            self.seen.append(echo)
        return JsonReply(500 if path.startswith("/fail") else 200, echo)
