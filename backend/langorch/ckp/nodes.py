"""Node models: the fields every node shares and the payload of each of the 11 types.

``Node`` is a discriminated union on ``type``. The root document model
(:class:`Procedure`) lives here too because it embeds the node map.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, TypeAdapter

from langorch.ckp.models import (
    CkpModel,
    ErrorHandler,
    GlobalConfig,
    LlmAttachment,
    LlmRetry,
    LogicRule,
    Number,
    Operation,
    ParallelBranch,
    Provenance,
    RetrievalMetadata,
    Sla,
    Step,
    Telemetry,
    TerminateAction,
    Transformation,
    Trigger,
    ValidationCheck,
    VariablesField,
    VerificationCheck,
)

NODE_TYPES = (
    "sequence",
    "logic",
    "loop",
    "parallel",
    "processing",
    "verification",
    "llm_action",
    "human_approval",
    "transform",
    "subflow",
    "terminate",
)


class NodeBase(CkpModel):
    """Fields every node type shares."""

    agent: str | None = Field(default=None, description="Agent channel: WEB, DESKTOP, EMAIL, API, ...")
    description: str | None = None
    inputs: dict[str, Any] | None = None
    outputs: dict[str, Any] | None = None
    next_node: str | None = None
    is_checkpoint: bool | None = None
    sla: Sla | None = None
    telemetry: Telemetry | None = None
    idempotency_key: str | None = None
    error_handlers: list[ErrorHandler] | None = None
    max_retries: int | None = Field(default=None, ge=0, le=100)
    retry_delay_ms: Number | None = Field(default=None, ge=0)
    timeout_ms: Number | None = Field(default=None, ge=0)


class SequenceNode(NodeBase):
    type: Literal["sequence"]
    steps: list[Step] = Field(default_factory=list)
    validations: list[ValidationCheck] | None = None


class LogicNode(NodeBase):
    type: Literal["logic"]
    rules: list[LogicRule] = Field(default_factory=list)
    default_next_node: str | None = None


class LoopNode(NodeBase):
    type: Literal["loop"]
    iterator: str | None = Field(default=None, description="Variable holding the array to iterate over.")
    condition: str | None = Field(default=None, description="Loop while this is true (instead of iterator).")
    iterator_variable: str | None = None
    index_variable: str | None = None
    body_node: str
    collect_variable: str | None = None
    max_iterations: int | None = Field(default=None, ge=0)
    continue_on_error: bool | None = None


class ParallelNode(NodeBase):
    type: Literal["parallel"]
    branches: list[ParallelBranch] = Field(default_factory=list)
    wait_strategy: Literal["all", "any", "first"] | None = None
    branch_failure: Literal["continue", "stop", "retry"] | None = None


class ProcessingNode(NodeBase):
    type: Literal["processing"]
    operations: list[Operation] = Field(default_factory=list)


class VerificationNode(NodeBase):
    type: Literal["verification"]
    checks: list[VerificationCheck] = Field(default_factory=list)
    on_pass: str | None = None
    on_fail: str | None = None


class LlmActionNode(NodeBase):
    type: Literal["llm_action"]
    prompt: str | None = None
    system_prompt: str | None = None
    model: str | None = None
    fallback_model: str | None = None
    temperature: Number | None = Field(default=None, ge=0, le=2)
    max_tokens: int | None = Field(default=None, ge=1)
    json_mode: bool | None = None
    output_schema: dict[str, Any] | None = None
    attachments: list[LlmAttachment] | None = None
    retry: LlmRetry | None = None
    output_variable: str | None = None


class HumanApprovalNode(NodeBase):
    type: Literal["human_approval"]
    prompt: str | None = None
    decision_type: Literal["approve_reject", "select_option", "provide_input"] = "approve_reject"
    options: list[str] | None = None
    timeout_ms: Number | None = Field(default=None, ge=0)
    timeout_action: Literal["auto_approve", "auto_reject", "escalate"] | None = None
    escalation_contact: str | None = None
    context_data: dict[str, Any] | None = None
    approval_level: str | None = None
    approvers: list[str] | None = None
    """Usernames or emails that may decide this gate (LangOrch extension; with approver_groups: either)."""
    approver_groups: list[str] | None = None
    """Groups whose members may decide this gate (LangOrch extension)."""
    on_approve: str | None = None
    on_reject: str | None = None
    on_timeout: str | None = None
    decision_variable: str | None = None


class TransformNode(NodeBase):
    type: Literal["transform"]
    transformations: list[Transformation] = Field(default_factory=list)


class SubflowNode(NodeBase):
    type: Literal["subflow"]
    procedure_id: str
    version: str | None = None
    input_mapping: dict[str, Any] | None = None
    output_mapping: dict[str, Any] | None = None
    on_failure: Literal["fail_parent", "continue", "retry"] | None = None
    inherit_context: bool | None = None


class TerminateNode(NodeBase):
    type: Literal["terminate"]
    status: Literal["success", "failed"] = "success"
    cleanup_actions: list[TerminateAction] | None = None
    error_actions: list[TerminateAction] | None = None
    final_audit_log: dict[str, Any] | None = None


Node = Annotated[
    SequenceNode
    | LogicNode
    | LoopNode
    | ParallelNode
    | ProcessingNode
    | VerificationNode
    | LlmActionNode
    | HumanApprovalNode
    | TransformNode
    | SubflowNode
    | TerminateNode,
    Field(discriminator="type"),
]

NODE_ADAPTER: TypeAdapter[Node] = TypeAdapter(Node)


PROCEDURE_ID_PATTERN = r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,199}$"
"""Procedure ids name URLs (/api/procedures/{id}/{version}): no '/', spaces or control characters."""
VERSION_PATTERN = r"^[A-Za-z0-9_][A-Za-z0-9_.+-]{0,63}$"
"""Versions likewise (semantic versions with a +build suffix fit)."""


class WorkflowGraph(CkpModel):
    start_node: str | None = None
    nodes: dict[str, Node] = Field(default_factory=dict)


class Procedure(CkpModel):
    """A whole CKP document."""

    procedure_id: str = Field(pattern=PROCEDURE_ID_PATTERN)
    version: str = Field(default="1.0.0", pattern=VERSION_PATTERN)
    status: str | None = None
    effective_date: str | None = None
    description: str | None = None
    trigger: Trigger | None = None
    retrieval_metadata: RetrievalMetadata | None = None
    global_config: GlobalConfig | None = None
    variables_schema: VariablesField | None = None
    workflow_graph: WorkflowGraph
    provenance: Provenance | None = None
    tags: list[str] | None = None
