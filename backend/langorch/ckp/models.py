"""Pydantic v2 models of the CKP language (root document and shared parts).

Every model keeps fields it does not know (``extra="allow"``): they round-trip through
``model_dump`` and the parser reports them as warnings. Node payloads live in
:mod:`langorch.ckp.nodes`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag

from langorch.ckp.catalog import OPERATIONS, UNSUPPORTED_OPERATIONS

Number = int | float


class CkpModel(BaseModel):
    """Base of every CKP model: keeps unknown fields so nothing is silently dropped."""

    model_config = ConfigDict(extra="allow", populate_by_name=True, protected_namespaces=())


# --------------------------------------------------------------------------- trigger
class WebhookConfig(CkpModel):
    endpoint: str | None = None
    authentication: dict[str, Any] | None = None
    allowed_sources: list[str] | None = None
    secret_ref: str | None = Field(default=None, description="Secret name holding the HMAC key.")


class EventConfig(CkpModel):
    event_source: str | None = None
    event_filter: dict[str, Any] | None = None
    event_type: list[str] | str | None = None


class FileWatchConfig(CkpModel):
    path: str | None = None
    pattern: str | None = None
    event_types: list[Literal["created", "modified", "deleted"]] | None = None


class Trigger(CkpModel):
    type: Literal["manual", "scheduled", "webhook", "event", "file_watch", "run_completed"] = "manual"
    schedule: str | None = Field(default=None, description="Five-field cron expression.")
    rrule: str | None = Field(default=None, description="RFC 5545 recurrence rule instead of cron, e.g. "
                              "FREQ=WEEKLY;BYDAY=MO,FR;BYHOUR=9;BYMINUTE=0 (LangOrch extension).")
    at: str | None = Field(default=None, description="One-off ISO 8601 time instead of cron (LangOrch extension).")
    timezone: str | None = None
    webhook_config: WebhookConfig | None = None
    event_config: EventConfig | None = None
    file_watch_config: FileWatchConfig | None = None


# --------------------------------------------------------------------------- metadata
class Applicability(CkpModel):
    application_names: list[str] | None = None
    account_types: list[str] | None = None
    channel: list[str] | None = None


class RetrievalMetadata(CkpModel):
    primary_intents: list[str] | None = None
    negative_intents: list[str] | None = None
    business_domain: str | None = None
    applicability: Applicability | None = None
    keywords: list[str] | None = None
    tags: list[str] | None = None


class ProvenanceSource(CkpModel):
    doc_id: str | None = None
    version: str | None = None
    section_ref: str | None = None


class Provenance(CkpModel):
    compiled_on: str | None = None
    compiler_agent_version: str | None = None
    human_reviewer: str | None = None
    sources: list[ProvenanceSource] | None = None


# --------------------------------------------------------------------------- global_config
class RateLimiting(CkpModel):
    enabled: bool | None = None
    max_requests_per_minute: Number | None = Field(default=None, ge=0)
    max_concurrent_operations: int | None = Field(default=None, ge=0)


class SecretsConfig(CkpModel):
    provider: Literal["azure_keyvault", "aws_secrets", "hashicorp_vault", "env_vars", "langorch",
                      "builtin"] | None = None
    """``langorch``/``builtin``: the server's built-in encrypted secret store."""
    vault_url: str | None = None
    secret_references: dict[str, str] | None = None


class AuditConfig(CkpModel):
    enabled: bool | None = None
    audit_level: Literal["minimal", "standard", "detailed"] | None = None
    storage_location: str | None = None
    retention_days: Number | None = None
    include_sensitive_data: bool | None = None


class LlmBudget(CkpModel):
    max_tokens_per_run: int | None = Field(default=None, ge=0)
    max_cost_usd: Number | None = Field(default=None, ge=0)
    warn_at_percent: Number | None = Field(default=None, ge=0, le=100)


class GlobalConfig(CkpModel):
    screenshot_on_fail: bool | None = None
    max_retries: int | None = Field(default=None, ge=0, le=100)
    retry_delay_ms: Number | None = Field(default=None, ge=0)
    timeout_ms: Number | None = Field(default=None, ge=0)
    on_failure: str | None = None
    logging_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] | None = None
    telemetry_enabled: bool | None = None
    checkpoint_strategy: Literal["every_node", "critical_nodes_only", "disabled"] | None = None
    checkpoint_storage: Literal["local", "database", "cloud"] | None = None
    resume_on_failure: bool | None = None
    checkpoint_retention_days: Number | None = Field(default=None, ge=0)
    execution_mode: Literal["production", "dry_run", "validation_only"] | None = None
    mock_external_calls: bool | None = None
    test_data_overrides: dict[str, Any] | None = None
    rate_limiting: RateLimiting | None = None
    secrets_config: SecretsConfig | None = None
    audit_config: AuditConfig | None = None
    max_cost_usd: Number | None = Field(default=None, ge=0)
    llm_budget: LlmBudget | None = None
    default_model: str | None = None


# --------------------------------------------------------------------------- variables
class VariableValidation(CkpModel):
    regex: str | None = None
    min: Number | None = None
    max: Number | None = None
    min_length: int | None = None
    max_length: int | None = None
    allowed_values: list[Any] | None = None
    sensitive: bool | None = None


VariableType = Literal["string", "number", "integer", "boolean", "array", "object", "any"]


class VariableSpec(CkpModel):
    type: VariableType = "any"
    description: str | None = None
    origin: str | None = None
    default: Any = None
    required: bool | None = None
    sensitive: bool | None = None
    validation: VariableValidation | None = None


class VariablesSchema(BaseModel):
    """The split shape: ``{"required": {name: spec}, "optional": {name: spec}}``.

    The other shape real files use is a flat ``{name: spec}`` map (see
    :data:`VariablesField`); :func:`declared_variables` reads either.
    """

    model_config = ConfigDict(extra="forbid")

    required: dict[str, VariableSpec] | None = None
    optional: dict[str, VariableSpec] | None = None


def variables_shape(value: Any) -> str:
    """Which shape a ``variables_schema`` value has: ``"split"`` or ``"flat"``.

    Split when it has ``required`` or ``optional`` holding a map of specs (objects);
    a flat map may still name a variable "required" (``{"required": {"type": ...}}``).
    """
    if isinstance(value, VariablesSchema):
        return "split"
    if not isinstance(value, dict):
        return "flat"
    groups = [value[k] for k in ("required", "optional") if k in value]
    if groups and all(isinstance(g, dict) and all(isinstance(s, dict) for s in g.values()) for g in groups):
        return "split"
    return "flat"


VariablesField = Annotated[
    Annotated[VariablesSchema, Tag("split")] | Annotated[dict[str, VariableSpec], Tag("flat")],
    Discriminator(variables_shape),
]
"""Either shape; mixing them (``required`` next to flat variables) is an error."""


def declared_variables(schema: VariablesField | None) -> dict[str, tuple[VariableSpec, bool]]:
    """Every declared variable with whether the caller must supply it."""
    out: dict[str, tuple[VariableSpec, bool]] = {}
    if schema is None:
        return out
    if isinstance(schema, VariablesSchema):
        for name, spec in (schema.required or {}).items():
            out[name] = (spec, spec.required is not False)
        for name, spec in (schema.optional or {}).items():
            out[name] = (spec, bool(spec.required))
        return out
    for name, spec in schema.items():
        out[name] = (spec, bool(spec.required))
    return out


# --------------------------------------------------------------------------- shared node parts
class Sla(CkpModel):
    max_duration_ms: Number | None = Field(default=None, ge=0)
    on_breach: Literal["warn", "fail", "escalate"] | None = None
    escalation_handler: str | None = None


class Telemetry(CkpModel):
    track_duration: bool | None = None
    track_retries: bool | None = None
    custom_metrics: dict[str, Any] | list[Any] | None = None
    trace_id: str | None = None
    span_id: str | None = None


class RetryPolicy(CkpModel):
    strategy: Literal["fixed", "exponential_backoff", "fibonacci", "linear"] | None = None
    base_delay_ms: Number | None = Field(default=None, ge=0)
    max_delay_ms: Number | None = Field(default=None, ge=0)
    multiplier: Number | None = Field(default=None, ge=0)
    jitter: bool | None = None


class ErrorTrigger(CkpModel):
    error_text_contains: str | None = None
    error_code: str | int | None = None
    http_status_codes: list[int] | None = None


class Step(CkpModel):
    step_id: str | None = None
    action: str
    agent: str | None = None
    target: str | None = None
    value: Any = None
    wait_ms: Number | None = Field(default=None, ge=0)
    duration_ms: Number | None = Field(default=None, ge=0)
    timeout_ms: Number | None = Field(default=None, ge=0)
    wait_after_ms: Number | None = Field(default=None, ge=0)
    title: str | None = None
    text: str | None = None
    keys: list[str] | None = None
    cell: str | None = None
    file_path: str | None = None
    path: str | None = None
    sheet_name: str | None = None
    output_variable: str | None = None
    connection_string: str | None = None
    query: str | None = None
    parameters: dict[str, Any] | None = None
    params: dict[str, Any] | None = None
    headers: dict[str, Any] | None = None
    method: str | None = None
    url: str | None = None
    body: Any = None
    recipients: Any = None
    subject: str | None = None
    retry_on_failure: bool | None = None
    max_retries: int | None = Field(default=None, ge=0, le=100)
    retry_delay_ms: Number | None = Field(default=None, ge=0)
    screenshot_on_complete: bool | None = None
    idempotency_key: str | None = None
    message: str | None = None
    level: str | None = None
    variable: str | None = None


class ErrorHandler(CkpModel):
    error_type: str | None = None
    action: Literal["retry", "screenshot_and_fail", "fail", "ignore", "escalate", "fallback_node"] = "fail"
    max_retries: int | None = Field(default=None, ge=0, le=100)
    delay_ms: Number | None = Field(default=None, ge=0)
    retry_policy: RetryPolicy | None = None
    trigger: ErrorTrigger | None = None
    recovery_strategy: Literal["retry_node", "continue", "stop", "fallback_node"] | None = None
    recovery_steps: list[Step] | None = None
    fallback_node: str | None = None
    notify_on_error: bool | None = None
    error_metadata: dict[str, Any] | None = None


class ValidationCheck(CkpModel):
    id: str | None = None
    check: str | None = None
    expected_values: list[Any] | None = None
    condition: str | None = None
    on_failure: Literal["throw_exception", "retry_node", "fail_workflow", "warn"] | None = None
    message: str | None = None


class VerificationCheck(CkpModel):
    id: str | None = None
    condition: str
    on_fail: Literal["fail_workflow", "warn", "continue"] = "fail_workflow"
    message: str | None = None


class Operation(CkpModel):
    action: str
    variable: str | None = None
    value: Any = None
    array: str | None = None
    expression: str | None = None
    source: Any = None
    pattern: str | None = None
    output_variable: str | None = None
    channel: str | None = None
    recipients: Any = None
    subject: str | None = None
    message: str | None = None
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] | None = None
    schema_: dict[str, Any] | None = Field(default=None, alias="schema")
    algorithm: str | None = None
    key_reference: str | None = None
    target_type: str | None = None
    template: str | None = None
    delimiter: str | None = None


def action_kind(value: Any) -> str:
    """``"operation"`` for a terminate action that is a processing operation, else ``"step"``:
    every other action is a step action, bound to where it runs like a sequence step."""
    action = value.get("action") if isinstance(value, dict) else getattr(value, "action", None)
    if not isinstance(action, str):
        return "step"  # a missing or mistyped action is reported against the step's fields
    return "operation" if action in OPERATIONS or action in UNSUPPORTED_OPERATIONS else "step"


TerminateAction = Annotated[
    Annotated[Operation, Tag("operation")] | Annotated[Step, Tag("step")],
    Discriminator(action_kind),
]
"""A terminate node's cleanup or error action: an operation (``log``, ``notify``...) or a step."""


class LlmAttachment(CkpModel):
    type: Literal["image", "csv", "text", "json"]
    source: Any
    description: str | None = None


class LlmRetry(CkpModel):
    max_retries: int | None = Field(default=None, ge=0, le=20)
    delay_ms: Number | None = Field(default=None, ge=0)


class Transformation(CkpModel):
    type: Literal["filter", "map", "reduce", "join", "aggregate", "pivot", "sort", "deduplicate"]
    source_variable: str
    expression: str | None = None
    output_variable: str
    params: dict[str, Any] | None = None


class LogicRule(CkpModel):
    condition: str
    next_node: str


class ParallelBranch(CkpModel):
    branch_id: str
    start_node: str


FieldNames = tuple[tuple[str, str], ...]
"""(attribute, JSON name) pairs of a model's fields."""
_FIELDS_WHERE: dict[tuple[type[BaseModel], Callable[[Any], bool]], FieldNames] = {}


def fields_where(cls: type[BaseModel], test: Callable[[Any], bool]) -> FieldNames:
    """The fields of ``cls`` whose type mentions a type passing ``test`` anywhere
    (``int | None``, ``list[Step]``...). Cached per class and test: the compiler asks for
    every model it meets."""
    key = (cls, test)
    found = _FIELDS_WHERE.get(key)
    if found is None:
        found = _FIELDS_WHERE[key] = tuple((name, info.alias or name) for name, info in cls.model_fields.items()
                                           if _mentions(info.annotation, test))
    return found


def _mentions(annotation: Any, test: Callable[[Any], bool]) -> bool:
    return test(annotation) or any(_mentions(arg, test) for arg in get_args(annotation))
