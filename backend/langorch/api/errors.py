"""Every error the API returns, mapped in one place.

Body shape for every 4xx/5xx: ``{"error": {"code", "message", "details"}}``.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from langorch.runtime.errors import InputError
from langorch.services.errors import (
    Conflict,
    Forbidden,
    Invalid,
    NotFound,
    RateLimited,
    ServiceError,
    TooLarge,
    Unauthenticated,
    Unavailable,
)

_STATUS: dict[type[ServiceError], int] = {NotFound: 404, Conflict: 409, Invalid: 422, TooLarge: 413,
                                          Unavailable: 503, Unauthenticated: 401, Forbidden: 403,
                                          RateLimited: 429}


_HTTP_CODES = {404: "not_found", 405: "method_not_allowed", 408: "request_timeout", 413: "payload_too_large"}


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details}}


def _json_safe(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ServiceError)
    async def _service(_: Request, exc: ServiceError) -> JSONResponse:
        status = next((s for cls, s in _STATUS.items() if isinstance(exc, cls)), 400)
        return JSONResponse(error_body(exc.code, exc.message, _json_safe(exc.details)), status_code=status,
                            headers=getattr(exc, "headers", None))

    @app.exception_handler(InputError)
    async def _inputs(_: Request, exc: InputError) -> JSONResponse:
        details = [{"field": p.field, "message": p.message} for p in exc.problems]
        return JSONResponse(error_body("invalid_input", "input_vars do not match the procedure's variables_schema",
                                       details), status_code=422)

    @app.exception_handler(RequestValidationError)
    async def _request(_: Request, exc: RequestValidationError) -> JSONResponse:
        details = [{"loc": list(e.get("loc", ())), "message": e.get("msg"), "type": e.get("type")}
                   for e in exc.errors()]
        return JSONResponse(error_body("invalid_request", "the request does not match the API schema",
                                       _json_safe(details)), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, "http_error")
        return JSONResponse(error_body(code, str(exc.detail)), status_code=exc.status_code,
                            headers=getattr(exc, "headers", None))

    @app.exception_handler(IntegrityError)
    async def _integrity(_: Request, exc: IntegrityError) -> JSONResponse:
        return JSONResponse(error_body("conflict", "the change conflicts with existing data"), status_code=409)

    @app.exception_handler(DataError)
    async def _data(_: Request, exc: DataError) -> JSONResponse:
        # The body check refuses what the stores cannot keep; this is the net under it.
        return JSONResponse(error_body("invalid_request", "a value in the request cannot be stored or compared "
                                       "by the database"), status_code=422)

    @app.exception_handler(OperationalError)
    async def _operational(_: Request, exc: OperationalError) -> JSONResponse:
        return JSONResponse(error_body("unavailable", "the database is busy; retry"), status_code=503)
