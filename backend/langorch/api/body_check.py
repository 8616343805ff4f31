"""Every JSON body, path and query string is checked before a route sees it.

A body the API would parse as JSON (content type ``application/json``, ``*+json`` or
none) must be JSON LangOrch accepts (:mod:`langorch.services.strict_json`: depth, NUL
and lone surrogates, NaN/Infinity, 64-bit integers, UTF-8).

Anything else is answered 422 ``invalid_request`` with ``details`` naming where
(``loc`` as ``["body", key, index, ...]``), before anything runs or is stored. A NUL in
the path or the query string is refused the same way. The body is parsed once here and
then handed on unchanged (the route parses it again: a C-speed ``json.loads`` of at
most ``max_body_bytes``), so signatures over the raw bytes (webhooks) still hold.
"""

from __future__ import annotations

import json
from urllib.parse import unquote_to_bytes

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from langorch.api.errors import error_body
from langorch.services.strict_json import JsonRefused, loads

_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_OWN_PARSING = ("/api/triggers/webhook/",)
"""Routes that parse their body themselves, after checking who sent it (a webhook's
signature comes first; it then uses :func:`loads` too)."""


def _json_content(scope: Scope) -> bool:
    for name, value in scope.get("headers", ()):
        if name == b"content-type":
            mime: bytes = value.split(b";", 1)[0].strip().lower()
            return mime == b"application/json" or mime.endswith(b"+json")
    return True  # FastAPI parses a body without a content type as JSON


def _nul_in_url(scope: Scope) -> str | None:
    if "\x00" in scope.get("path", ""):
        return "path"
    query: bytes = scope.get("query_string", b"")
    if b"\x00" in query or (b"%00" in query.lower() and b"\x00" in unquote_to_bytes(query)):
        return "query"
    return None


class BodyCheckMiddleware:
    """Refuses (422) bodies, paths and queries the API cannot take; see the module doc."""

    def __init__(self, app: ASGIApp, max_depth: int) -> None:
        self.app = app
        self.max_depth = max_depth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        where = _nul_in_url(scope)
        if where is not None:
            await _refuse(send, JsonRefused(f"a NUL character is not allowed in the {where}", [where], "nul_character"))
            return
        if scope["method"] not in _BODY_METHODS or not _json_content(scope) or scope["path"].startswith(_OWN_PARSING):
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, _replay([message], receive), send)
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        if body.strip():
            try:
                loads(body, self.max_depth)
            except JsonRefused as refused:
                await _refuse(send, refused)
                return
        await self.app(scope, _replay([{"type": "http.request", "body": body, "more_body": False}], receive), send)


def _replay(messages: list[Message], receive: Receive) -> Receive:
    pending = list(messages)

    async def replay() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replay


async def _refuse(send: Send, refused: JsonRefused) -> None:
    details = [{"loc": refused.loc, "message": refused.message, "type": refused.kind}]
    body = json.dumps(error_body("invalid_request", refused.message, details)).encode()
    await send({"type": "http.response.start", "status": 422,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
