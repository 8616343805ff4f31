"""Every JSON body, path and query string is checked before a route sees it.

A body the API would parse as JSON (content type ``application/json``, ``*+json`` or
none) must be UTF-8 JSON that the stores can keep and the runtime can carry:

- nesting at most ``max_depth`` levels (deeper input broke the run list and the runtime);
- no NUL character and no lone surrogate in any string or key (PostgreSQL refuses both);
- no NaN or Infinity (not JSON; PostgreSQL refuses them) and no float that overflows;
- integers within the signed 64-bit range (the checkpointer's limit).

Anything else is answered 422 ``invalid_request`` with ``details`` naming where
(``loc`` as ``["body", key, index, ...]``), before anything runs or is stored. A NUL in
the path or the query string is refused the same way. The body is parsed once here and
then handed on unchanged (the route parses it again: a C-speed ``json.loads`` of at
most ``max_body_bytes``), so signatures over the raw bytes (webhooks) still hold.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any
from urllib.parse import unquote_to_bytes

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from langorch.api.errors import error_body

_BAD_CHAR = re.compile("[\x00\ud800-\udfff]")
_INT64 = (-(2**63), 2**63 - 1)
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_MAX_DIGITS = 20


class _Refused(Exception):
    """A body the API does not accept: ``message`` for people, ``loc`` where, ``kind`` for machines."""

    def __init__(self, message: str, loc: list[str | int], kind: str) -> None:
        super().__init__(message)
        self.message = message
        self.loc = loc
        self.kind = kind


class _Bad:
    """A number JSON parsing produced that the API refuses; the walk reports it at its place."""

    __slots__ = ("kind", "text", "why")

    def __init__(self, text: str, why: str, kind: str) -> None:
        self.text, self.why, self.kind = text, why, kind


def _parse_int(text: str) -> int | _Bad:
    if len(text.lstrip("-")) > _MAX_DIGITS:
        return _Bad(text[:24] + "…", "an integer outside the signed 64-bit range", "int_range")
    value = int(text)
    if not _INT64[0] <= value <= _INT64[1]:
        return _Bad(text, "an integer outside the signed 64-bit range", "int_range")
    return value


def _parse_float(text: str) -> float | _Bad:
    value = float(text)
    return value if math.isfinite(value) else _Bad(text[:24], "a number too large for a 64-bit float", "float_range")


def _parse_constant(name: str) -> _Bad:
    return _Bad(name, f"{name} is not JSON", "not_json_number")


def _json_content(scope: Scope) -> bool:
    for name, value in scope.get("headers", ()):
        if name == b"content-type":
            mime: bytes = value.split(b";", 1)[0].strip().lower()
            return mime == b"application/json" or mime.endswith(b"+json")
    return True  # FastAPI parses a body without a content type as JSON


def check_json(body: bytes, max_depth: int) -> None:
    """Raises :class:`_Refused` when ``body`` is not JSON the API accepts (see the module doc)."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _Refused(f"the body is not valid UTF-8 (byte {exc.start})", ["body"], "utf8") from None
    try:
        value = json.loads(text, parse_int=_parse_int, parse_float=_parse_float, parse_constant=_parse_constant)
    except RecursionError:
        raise _Refused(f"the body is nested deeper than {max_depth} levels", ["body"], "too_deep") from None
    except json.JSONDecodeError as exc:
        raise _Refused(f"the body is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}",
                       ["body"], "json_invalid") from None
    _walk(value, max_depth)


def _walk(root: Any, max_depth: int) -> None:
    """Checks every value of a parsed body, iteratively (no recursion limit to hit)."""
    stack: list[tuple[Any, list[str | int]]] = [(root, ["body"])]
    while stack:
        value, loc = stack.pop()
        if isinstance(value, str):
            _check_text(value, loc)
        elif isinstance(value, dict | list):
            if len(loc) > max_depth:
                raise _Refused(f"the body is nested deeper than {max_depth} levels", loc[:8], "too_deep")
            if isinstance(value, dict):
                for key, item in value.items():
                    _check_text(key, [*loc, key])
                    stack.append((item, [*loc, key]))
            else:
                stack.extend((item, [*loc, i]) for i, item in enumerate(value))
        elif isinstance(value, _Bad):
            raise _Refused(f"{value.text}: {value.why}", loc, value.kind)


def _check_text(text: str, loc: list[str | int]) -> None:
    found = _BAD_CHAR.search(text)
    if found is None:
        return
    if found.group() == "\x00":
        raise _Refused("a NUL character (\\u0000) is not allowed in text", _printable(loc), "nul_character")
    raise _Refused("a lone surrogate (\\ud800-\\udfff) is not valid Unicode text", _printable(loc), "lone_surrogate")


def _printable(loc: list[str | int]) -> list[str | int]:
    return [p.encode("utf-8", "backslashreplace").decode().replace("\x00", "\\u0000")
            if isinstance(p, str) else p for p in loc]


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
            await _refuse(send, _Refused(f"a NUL character is not allowed in the {where}", [where], "nul_character"))
            return
        if scope["method"] not in _BODY_METHODS or not _json_content(scope):
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
                check_json(body, self.max_depth)
            except _Refused as refused:
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


async def _refuse(send: Send, refused: _Refused) -> None:
    details = [{"loc": refused.loc, "message": refused.message, "type": refused.kind}]
    body = json.dumps(error_body("invalid_request", refused.message, details)).encode()
    await send({"type": "http.response.start", "status": 422,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
