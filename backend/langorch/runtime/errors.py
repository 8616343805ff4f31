"""The runtime's error tree.

    LangOrchError                  base, with a stable ``code``
    ├── StepError                  a step or node failed; data for the timeline
    │   ├── StepTimeout            a step ran past its timeout_ms
    │   ├── AgentError             an agent answered with an error or not at all
    │   ├── LlmError               the LLM endpoint failed or answered unusably
    │   └── McpError               an MCP tool call failed
    ├── TemplateError              a {{template}} could not be rendered
    ├── ConditionError             a condition could not be parsed or evaluated
    ├── BudgetExceeded             the next LLM call would overspend the run's budget
    ├── InputError                 run inputs violate variables_schema (one message per field)
    └── ProcedureNotFound          a subflow's procedure could not be resolved

Third-party errors are converted at the connector boundary and re-raised ``from exc``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class LangOrchError(Exception):
    code = "langorch_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class StepError(LangOrchError):
    """A failure that the timeline stores as data: type, message, retryable, details."""

    code = "step_failed"

    def __init__(
        self,
        message: str,
        *,
        error_type: str = "StepError",
        retryable: bool = True,
        status_code: int | None = None,
        error_code: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.retryable = retryable
        self.status_code = status_code
        self.error_code = error_code
        self.details = details or {}

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"type": self.error_type, "message": self.message, "retryable": self.retryable}
        if self.status_code is not None:
            data["status_code"] = self.status_code
        if self.error_code is not None:
            data["code"] = self.error_code
        if self.details:
            data["details"] = self.details
        if self.__cause__ is not None:
            data["cause"] = f"{type(self.__cause__).__name__}: {self.__cause__}"
        return data


class StepTimeout(StepError):
    code = "step_timeout"

    def __init__(self, message: str, **kwargs: Any) -> None:
        kwargs.setdefault("error_type", "TimeoutException")
        super().__init__(message, **kwargs)


class AgentError(StepError):
    code = "agent_error"


class LlmError(StepError):
    code = "llm_error"


class McpError(StepError):
    code = "mcp_error"


class TemplateError(StepError):
    code = "template_error"

    def __init__(self, message: str, **kwargs: Any) -> None:
        kwargs.setdefault("error_type", "TemplateError")
        kwargs.setdefault("retryable", False)
        super().__init__(message, **kwargs)


class ConditionError(StepError):
    code = "condition_error"

    def __init__(self, message: str, **kwargs: Any) -> None:
        kwargs.setdefault("error_type", "ConditionError")
        kwargs.setdefault("retryable", False)
        super().__init__(message, **kwargs)


class BudgetExceeded(StepError):
    code = "budget_exceeded"

    def __init__(self, message: str, **kwargs: Any) -> None:
        kwargs.setdefault("error_type", "BudgetExceeded")
        kwargs.setdefault("retryable", False)
        super().__init__(message, **kwargs)


class ProcedureNotFound(LangOrchError):
    code = "procedure_not_found"


@dataclass
class FieldProblem:
    field: str
    message: str


@dataclass
class InputError(LangOrchError):
    problems: list[FieldProblem] = field(default_factory=list)
    code = "invalid_input"

    def __post_init__(self) -> None:
        super().__init__("; ".join(f"{p.field}: {p.message}" for p in self.problems))
