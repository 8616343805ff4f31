"""Compiler diagnostics: data, never exceptions.

Every problem the compiler finds is a :class:`Diagnostic` with a stable ``code``,
a ``severity``, a JSON Pointer ``path`` into the submitted document, a ``message``
that says what is wrong and a ``hint`` that says how to fix it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


class Code(StrEnum):
    """Stable diagnostic codes. Never renumber; add new ones at the end of a group."""

    # 1xx: input and structure
    INPUT_TOO_LARGE = "CKP100"
    JSON_SYNTAX = "CKP101"
    NOT_AN_OBJECT = "CKP102"
    TOO_MANY_NODES = "CKP103"
    TOO_DEEP = "CKP104"
    MISSING_FIELD = "CKP105"
    WRONG_TYPE = "CKP106"
    INVALID_VALUE = "CKP107"
    UNKNOWN_FIELD = "CKP108"
    UNKNOWN_NODE_TYPE = "CKP109"
    LEGACY_DIALECT = "CKP110"
    # 2xx: graph
    MISSING_START_NODE = "CKP200"
    UNKNOWN_START_NODE = "CKP201"
    DANGLING_EDGE = "CKP202"
    DUPLICATE_NODE_ID = "CKP203"
    DUPLICATE_STEP_ID = "CKP204"
    UNREACHABLE_NODE = "CKP205"
    CYCLE_WITHOUT_EXIT = "CKP206"
    NO_OUTGOING_EDGE = "CKP207"
    EMPTY_GRAPH = "CKP208"
    # 3xx: data flow, expressions, templates
    UNDEFINED_VARIABLE = "CKP300"
    CONDITION_SYNTAX = "CKP301"
    TEMPLATE_SYNTAX = "CKP302"
    INVALID_CRON = "CKP303"
    INVALID_REGEX = "CKP304"
    UNDECLARED_VARIABLE = "CKP305"
    # 4xx: node payloads
    LLM_WITHOUT_PROMPT = "CKP400"
    APPROVAL_WITHOUT_ROUTE = "CKP401"
    EMPTY_STEPS = "CKP402"
    OPTIONS_REQUIRED = "CKP403"
    UNKNOWN_OPERATION = "CKP404"
    UNKNOWN_TRANSFORMATION = "CKP405"
    BAD_POLICY = "CKP406"
    VALIDATION_WITHOUT_CONDITION = "CKP407"
    # 5xx: binding and procedures
    SUBFLOW_RECURSION = "CKP500"
    UNKNOWN_ACTION = "CKP501"
    UNKNOWN_SECRET = "CKP502"
    UNRESOLVED_SUBFLOW = "CKP503"
    SANDBOX_REFUSED_URL = "CKP504"


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One problem found in a CKP document."""

    code: Code
    severity: Severity
    path: str
    """JSON Pointer (RFC 6901) into the submitted document; "" is the whole document."""
    message: str
    hint: str = ""

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["code"] = str(self.code)
        data["severity"] = str(self.severity)
        return data

    def format(self, filename: str = "") -> str:
        """Compiler-style line: ``file:/json/pointer: error CKP123: message (hint)``."""
        where = f"{filename}:{self.path or '/'}" if filename else (self.path or "/")
        tail = f" ({self.hint})" if self.hint else ""
        return f"{where}: {self.severity} {self.code}: {self.message}{tail}"


def pointer(*parts: str | int) -> str:
    """Build a JSON Pointer from path parts, escaping ``~`` and ``/``."""
    out = []
    for part in parts:
        text = str(part).replace("~", "~0").replace("/", "~1")
        out.append(text)
    return "/" + "/".join(out) if out else ""


def error(code: Code, path: str, message: str, hint: str = "") -> Diagnostic:
    return Diagnostic(code, Severity.ERROR, path, message, hint)


def warning(code: Code, path: str, message: str, hint: str = "") -> Diagnostic:
    return Diagnostic(code, Severity.WARNING, path, message, hint)


def has_errors(diagnostics: list[Diagnostic]) -> bool:
    return any(d.severity is Severity.ERROR for d in diagnostics)
