"""The intermediate representation: frozen dataclasses, the runtime's only input.

The same CKP always gives an equal IR and the same :attr:`ProcedureIR.ir_hash`; any
change to the CKP gives a different hash, except to the builder's UI-only ``$ui`` fields.
Templated values (``"{{var}}"``) stay as text here; the runtime renders them.
Secret values never appear: only :class:`SecretRef` lookups do.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

BindingKind = Literal["internal", "agent", "mcp", "llm"]


@dataclass(frozen=True)
class RetryPolicy:
    """How a failing step or node is retried."""

    max_retries: int = 0
    """Attempts after the first one."""
    delay_ms: float = 1000.0
    """Delay before the first retry."""
    strategy: str = "exponential_backoff"
    """fixed | exponential_backoff | linear | fibonacci."""
    max_delay_ms: float = 30000.0
    multiplier: float = 2.0
    jitter: bool = True


@dataclass(frozen=True)
class Binding:
    """Where a step's action runs."""

    kind: BindingKind
    action: str
    channel: str | None = None
    """Agent channel (WEB, DESKTOP, EMAIL, API, DATABASE, ...) for kind == "agent"."""
    server: str | None = None
    """MCP server name for kind == "mcp"."""
    side_effect: bool = True
    """False for actions that only read (used by dry_run and idempotency)."""


@dataclass(frozen=True)
class StepIR:
    step_id: str
    action: str
    binding: Binding
    params: Mapping[str, Any]
    """Every step field that is not control (target, value, url, body, ...), unrendered."""
    output_variable: str | None = None
    wait_ms: float | None = None
    wait_after_ms: float | None = None
    timeout_ms: float | None = None
    retry: RetryPolicy | None = None
    idempotency_key: str | None = None


@dataclass(frozen=True)
class ErrorHandlerIR:
    action: str
    """retry | ignore | fail | screenshot_and_fail | escalate | fallback_node."""
    error_type: str | None = None
    text_contains: str | None = None
    error_code: str | None = None
    http_status_codes: tuple[int, ...] = ()
    retry: RetryPolicy | None = None
    recovery_strategy: str | None = None
    recovery_steps: tuple[StepIR, ...] = ()
    fallback_node: str | None = None
    notify: bool = False


@dataclass(frozen=True)
class SlaIR:
    max_duration_ms: float
    on_breach: str = "warn"
    escalation_handler: str | None = None


@dataclass(frozen=True)
class SequencePayload:
    steps: tuple[StepIR, ...]
    validations: tuple[Mapping[str, Any], ...] = ()


@dataclass(frozen=True)
class LogicRuleIR:
    condition: str
    next_node: str


@dataclass(frozen=True)
class LogicPayload:
    rules: tuple[LogicRuleIR, ...]
    default_next_node: str | None = None


@dataclass(frozen=True)
class LoopPayload:
    body_node: str
    iterator: str | None = None
    condition: str | None = None
    iterator_variable: str = "item"
    index_variable: str | None = None
    collect_variable: str | None = None
    max_iterations: int = 1000
    continue_on_error: bool = False
    body_nodes: frozenset[str] = frozenset()


@dataclass(frozen=True)
class BranchIR:
    branch_id: str
    start_node: str
    nodes: frozenset[str] = frozenset()


@dataclass(frozen=True)
class ParallelPayload:
    branches: tuple[BranchIR, ...]
    wait_strategy: str = "all"
    branch_failure: str = "stop"


@dataclass(frozen=True)
class ProcessingPayload:
    operations: tuple[Mapping[str, Any], ...]


@dataclass(frozen=True)
class VerificationCheckIR:
    check_id: str
    condition: str
    on_fail: str = "fail_workflow"
    message: str = ""


@dataclass(frozen=True)
class VerificationPayload:
    checks: tuple[VerificationCheckIR, ...]
    on_pass: str | None = None
    on_fail: str | None = None


@dataclass(frozen=True)
class LlmPayload:
    prompt: str
    system_prompt: str | None = None
    model: str | None = None
    fallback_model: str | None = None
    temperature: float | None = None
    max_tokens: int | None = None
    json_mode: bool = False
    output_schema: Mapping[str, Any] | None = None
    attachments: tuple[Mapping[str, Any], ...] = ()
    retry: RetryPolicy | None = None
    outputs: Mapping[str, str] = field(default_factory=dict)
    output_variable: str | None = None


@dataclass(frozen=True)
class ApprovalPayload:
    prompt: str
    decision_type: str = "approve_reject"
    options: tuple[str, ...] = ()
    timeout_ms: float | None = None
    timeout_action: str | None = None
    escalation_contact: str | None = None
    context_data: Mapping[str, Any] = field(default_factory=dict)
    approval_level: str | None = None
    on_approve: str | None = None
    on_reject: str | None = None
    on_timeout: str | None = None
    decision_variable: str | None = None


@dataclass(frozen=True)
class TransformPayload:
    transformations: tuple[Mapping[str, Any], ...]


@dataclass(frozen=True)
class SubflowPayload:
    procedure_id: str
    version: str | None = None
    input_mapping: Mapping[str, Any] = field(default_factory=dict)
    output_mapping: Mapping[str, Any] = field(default_factory=dict)
    on_failure: str = "fail_parent"
    inherit_context: bool = False


TerminateActionIR = Mapping[str, Any] | StepIR
"""A processing operation (its raw fields) or a step bound like a sequence step."""


@dataclass(frozen=True)
class TerminatePayload:
    status: str = "success"
    outputs: Mapping[str, Any] = field(default_factory=dict)
    cleanup_actions: tuple[TerminateActionIR, ...] = ()
    error_actions: tuple[TerminateActionIR, ...] = ()
    final_audit_log: Mapping[str, Any] | None = None


Payload = (
    SequencePayload | LogicPayload | LoopPayload | ParallelPayload | ProcessingPayload
    | VerificationPayload | LlmPayload | ApprovalPayload | TransformPayload | SubflowPayload
    | TerminatePayload
)


@dataclass(frozen=True)
class EnclosingRegion:
    """The innermost loop body or parallel branch a node belongs to."""

    owner: str
    kind: str
    """"loop" or "branch"."""
    branch_id: str = ""


@dataclass(frozen=True)
class NodeIR:
    node_id: str
    type: str
    payload: Payload
    agent: str | None = None
    description: str = ""
    next_node: str | None = None
    is_checkpoint: bool = False
    sla: SlaIR | None = None
    telemetry: Mapping[str, Any] = field(default_factory=dict)
    idempotency_key: str | None = None
    error_handlers: tuple[ErrorHandlerIR, ...] = ()
    retry: RetryPolicy | None = None
    timeout_ms: float | None = None
    region: EnclosingRegion | None = None


@dataclass(frozen=True)
class VariableIR:
    name: str
    type: str = "any"
    required: bool = False
    default: Any = None
    has_default: bool = False
    description: str = ""
    origin: str | None = None
    regex: str | None = None
    min: float | None = None
    max: float | None = None
    min_length: int | None = None
    max_length: int | None = None
    allowed_values: tuple[Any, ...] | None = None
    sensitive: bool = False


@dataclass(frozen=True)
class SecretRef:
    """A secret the procedure reads: ``{{secrets.<name>}}`` → provider lookup of ``key``."""

    name: str
    provider: str
    key: str
    vault_url: str | None = None


@dataclass(frozen=True)
class GlobalConfigIR:
    max_retries: int = 0
    retry_delay_ms: float = 1000.0
    timeout_ms: float | None = None
    on_failure: str | None = None
    execution_mode: str = "production"
    mock_external_calls: bool = False
    test_data_overrides: Mapping[str, Any] = field(default_factory=dict)
    max_requests_per_minute: float | None = None
    max_concurrent_operations: int | None = None
    max_cost_usd: float | None = None
    max_tokens_per_run: int | None = None
    budget_warn_percent: float = 80.0
    checkpoint_strategy: str = "every_node"
    checkpoint_retention_days: float | None = None
    screenshot_on_fail: bool = False
    logging_level: str = "INFO"
    telemetry_enabled: bool = True
    default_model: str | None = None
    audit_include_sensitive: bool = False


@dataclass(frozen=True)
class TriggerIR:
    type: str = "manual"
    schedule: str | None = None
    timezone: str | None = None
    config: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class EdgeIR:
    source: str
    target: str
    kind: str
    label: str = ""


@dataclass(frozen=True)
class ProcedureIR:
    procedure_id: str
    version: str
    start_node: str
    nodes: Mapping[str, NodeIR]
    edges: tuple[EdgeIR, ...]
    variables: tuple[VariableIR, ...]
    global_config: GlobalConfigIR
    secrets: tuple[SecretRef, ...] = ()
    trigger: TriggerIR | None = None
    description: str = ""
    ir_hash: str = ""
    """Identifies this IR: sha256 of the IR format and the canonical source document
    (see :func:`langorch.ckp.binder.source_hash`). The same CKP always gives the same hash."""

    def variable(self, name: str) -> VariableIR | None:
        for var in self.variables:
            if var.name == name:
                return var
        return None

    @property
    def sensitive_names(self) -> frozenset[str]:
        return frozenset(v.name for v in self.variables if v.sensitive)
