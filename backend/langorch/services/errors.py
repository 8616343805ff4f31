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
