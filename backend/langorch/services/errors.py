"""Domain errors of the services layer; ``langorch.api.errors`` maps them to HTTP once."""

from __future__ import annotations

from typing import Any

from langorch.runtime.errors import LangOrchError


class ServiceError(LangOrchError):
    code = "error"

    def __init__(self, message: str, *, details: Any = None) -> None:
        super().__init__(message)
        self.details = details


class NotFound(ServiceError):
    """404: an id that does not exist."""

    code = "not_found"


class Conflict(ServiceError):
    """409: the request contradicts the current state (duplicate, already decided, has runs)."""

    code = "conflict"


class Invalid(ServiceError):
    """422: well-formed but unacceptable (CKP diagnostics, inputs against variables_schema)."""

    code = "invalid"


class TooLarge(ServiceError):
    """413: the body is bigger than the server accepts."""

    code = "payload_too_large"


class Unavailable(ServiceError):
    """503: a dependency is temporarily unavailable (retry)."""

    code = "unavailable"


class Unauthenticated(ServiceError):
    """401: no identity, or credentials that do not check out."""

    code = "unauthenticated"
    headers = {"WWW-Authenticate": 'Bearer realm="langorch"'}


class Forbidden(ServiceError):
    """403: an identity whose role does not allow the request (or a failed CSRF check)."""

    code = "forbidden"

    def __init__(self, message: str, *, details: Any = None, code: str | None = None) -> None:
        super().__init__(message, details=details)
        if code:
            self.code = code


class RateLimited(ServiceError):
    """429: too many requests; retry after ``retry_after`` seconds."""

    code = "rate_limited"

    def __init__(self, message: str, *, retry_after: float) -> None:
        super().__init__(message, details={"retry_after_s": round(retry_after, 1)})
        self.headers = {"Retry-After": str(max(1, int(retry_after + 0.999)))}
