"""Shapes shared by every resource: the error envelope, diagnostics, pagination."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query, Response
from pydantic import BaseModel, ConfigDict, Field

MAX_PAGE = 1000
"""The largest ``limit`` a list endpoint accepts."""


class ApiModel(BaseModel):
    """Base of response models: built from ORM rows by attribute."""

    model_config = ConfigDict(from_attributes=True)


class ErrorDetail(BaseModel):
    code: str = Field(description="Stable machine-readable code, e.g. not_found, conflict, invalid_ckp.")
    message: str = Field(description="What went wrong, for a person.")
    details: Any = Field(default=None,
                          description="Structured context: diagnostics, field errors, the conflicting object.")


class ErrorResponse(BaseModel):
    """The body of every 4xx/5xx answer."""

    error: ErrorDetail


class DiagnosticOut(BaseModel):
    """One compiler diagnostic (see docs/ckp.md for the codes)."""

    code: str = Field(description="Stable code, e.g. CKP202.")
    severity: str = Field(description="error | warning | info")
    path: str = Field(description="JSON Pointer into the submitted document; empty for the whole document.")
    message: str
    hint: str = ""


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses=`` entries documenting the error envelope for ``codes``."""
    meaning = {400: "Bad request", 401: "Unauthenticated", 403: "Forbidden", 404: "Not found", 409: "Conflict",
               413: "Body too large", 422: "Invalid input", 429: "Too many requests", 503: "Unavailable"}
    return {code: {"model": ErrorResponse, "description": meaning.get(code, "Error")} for code in codes}


Limit = Annotated[int, Query(ge=1, le=MAX_PAGE, description="Page size.")]
Offset = Annotated[int, Query(ge=0, le=10_000_000, description="Rows to skip.")]


def set_total(response: Response, total: int) -> None:
    """List endpoints answer a JSON array and carry the unpaginated count in ``X-Total-Count``."""
    response.headers["X-Total-Count"] = str(total)


class HealthRead(BaseModel):
    status: str = Field(description="ok | degraded")
    version: str
    db: str = Field(description="ok | error")
    db_error: str | None = None
    worker: dict[str, Any] | None = Field(default=None, description="The embedded worker's state, when one runs.")


RENDER_DEPTH = 100
"""JSON stored before the body check existed (or written by an agent) may be deeper than a
response can carry; such a value is left out of the response, with a reason."""


def unrenderable(value: Any, max_depth: int = RENDER_DEPTH) -> str | None:
    """Why ``value`` cannot go into a JSON response (nesting past ``max_depth``, a float
    that is not finite), or None. Iterative: the value may be deeper than the recursion limit."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth >= max_depth:
                return f"nested deeper than {max_depth} levels"
            stack.extend((child, depth + 1) for child in (item.values() if isinstance(item, dict) else item))
        elif isinstance(item, float) and (item != item or item in (float("inf"), float("-inf"))):
            return "holds a number that is not finite"
    return None
