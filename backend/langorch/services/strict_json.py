"""JSON that LangOrch accepts from outside: what the stores can keep and the runtime can carry.

- nesting at most ``max_depth`` levels (deeper input broke the run list and the runtime);
- no NUL character and no lone surrogate in any string or key (PostgreSQL refuses both);
- no NaN or Infinity (not JSON; PostgreSQL refuses them) and no float that overflows;
- integers within the signed 64-bit range (the checkpointer's limit);
- UTF-8.

:func:`loads` parses and checks; :class:`JsonRefused` says what is wrong and where
(``loc`` as ``["body", key, index, ...]``). Used for every API request body
(``api/body_check.py``) and for webhook deliveries once their signature holds.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

MAX_DEPTH = 64
"""The default nesting limit (``api.max_json_depth`` for request bodies)."""

_BAD_CHAR = re.compile("[\x00\ud800-\udfff]")
_INT64 = (-(2**63), 2**63 - 1)
_MAX_DIGITS = 20


class JsonRefused(ValueError):
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


def loads(body: bytes, max_depth: int = MAX_DEPTH) -> Any:
    """``body`` parsed; :class:`JsonRefused` when it is not JSON LangOrch accepts (see the module doc)."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise JsonRefused(f"the body is not valid UTF-8 (byte {exc.start})", ["body"], "utf8") from None
    try:
        value = json.loads(text, parse_int=_parse_int, parse_float=_parse_float, parse_constant=_parse_constant)
    except RecursionError:
        raise JsonRefused(f"the body is nested deeper than {max_depth} levels", ["body"], "too_deep") from None
    except json.JSONDecodeError as exc:
        raise JsonRefused(f"the body is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}",
                       ["body"], "json_invalid") from None
    _walk(value, max_depth)
    return value


def _walk(root: Any, max_depth: int) -> None:
    """Checks every value of a parsed body, iteratively (no recursion limit to hit)."""
    stack: list[tuple[Any, list[str | int]]] = [(root, ["body"])]
    while stack:
        value, loc = stack.pop()
        if isinstance(value, str):
            _check_text(value, loc)
        elif isinstance(value, dict | list):
            if len(loc) > max_depth:
                raise JsonRefused(f"the body is nested deeper than {max_depth} levels", loc[:8], "too_deep")
            if isinstance(value, dict):
                for key, item in value.items():
                    _check_text(key, [*loc, key])
                    stack.append((item, [*loc, key]))
            else:
                stack.extend((item, [*loc, i]) for i, item in enumerate(value))
        elif isinstance(value, _Bad):
            raise JsonRefused(f"{value.text}: {value.why}", loc, value.kind)


def _check_text(text: str, loc: list[str | int]) -> None:
    found = _BAD_CHAR.search(text)
    if found is None:
        return
    if found.group() == "\x00":
        raise JsonRefused("a NUL character (\\u0000) is not allowed in text", _printable(loc), "nul_character")
    raise JsonRefused("a lone surrogate (\\ud800-\\udfff) is not valid Unicode text", _printable(loc), "lone_surrogate")


def _printable(loc: list[str | int]) -> list[str | int]:
    return [p.encode("utf-8", "backslashreplace").decode().replace("\x00", "\\u0000")
            if isinstance(p, str) else p for p in loc]
