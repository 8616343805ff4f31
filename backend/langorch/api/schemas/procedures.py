"""Procedures: create, read, update, lifecycle, validate, graph and explain shapes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, Field, field_validator

from langorch.api.schemas.common import ApiModel, DiagnosticOut

ProcedureStatus = Literal["draft", "active", "deprecated", "archived"]
Tier = Literal["deterministic", "intelligent", "control"]
MAX_CHANGE_NOTE = 2000


def _no_nul(value: str | None) -> str | None:
    if value is not None and "\x00" in value:
        raise ValueError("change_note may not contain NUL characters")
    return value


ChangeNote = Annotated[str | None, Field(max_length=MAX_CHANGE_NOTE), AfterValidator(_no_nul)]


class ProcedureCreate(BaseModel):
    """``POST /api/procedures`` (wire-compatible with the seed system)."""

    ckp_json: dict[str, Any] = Field(description="The CKP document.")
    project_id: str | None = Field(default=None, max_length=64, description="Project to file the procedure under.")
    procedure_id: str | None = Field(default=None, max_length=200,
                                     description="Optional; must equal the CKP's procedure_id.")
    version: str | None = Field(default=None, max_length=64, description="Optional; must equal the CKP's version.")
    status: ProcedureStatus | None = Field(default=None, description="Overrides the CKP's status field.")
    change_note: ChangeNote = Field(default=None, description="What changed in this version and why (at most "
                                                             "2000 characters, no NUL); stored with the version.")


class ProcedureUpdate(BaseModel):
    """``PUT /api/procedures/{procedure_id}/{version}``: replace the CKP of a version without runs."""

    ckp_json: dict[str, Any] = Field(description="The new CKP; its procedure_id and version must match the path.")
    status: ProcedureStatus | None = Field(default=None, description="New status; must be an allowed lifecycle step.")
    project_id: str | None = Field(default=None, max_length=64, description="Move to this project (null: none).")
    change_note: ChangeNote = Field(default=None, description="Replaces the version's change note when given.")


class ProcedureStatusChange(BaseModel):
    status: ProcedureStatus


class ProcedureRead(ApiModel):
    """A procedure version without its document (list items)."""

    id: str = Field(description="Row id (opaque).")
    procedure_id: str
    version: str
    status: ProcedureStatus
    effective_date: str | None = None
    description: str | None = None
    project_id: str | None = None
    ir_hash: str = Field(description="Identifies the compiled definition; runs record the hash they started with.")
    tags: list[str] = Field(default_factory=list, description="tags and retrieval_metadata.tags of the CKP.")
    provenance: dict[str, Any] | None = None
    retrieval_metadata: dict[str, Any] | None = None
    created_by: str | None = None
    change_note: str | None = Field(default=None, description="The note the version was created with.")
    created_at: datetime
    updated_at: datetime
    run_count: int = Field(default=0, description="Runs started from this version; when > 0 the version is immutable.")

    @field_validator("tags", mode="before")
    @classmethod
    def _none_is_empty(cls, value: Any) -> Any:
        return [] if value is None else value


class ProcedureDetail(ProcedureRead):
    """One version with its CKP and the compiler's current warnings."""

    ckp_json: dict[str, Any]
    warnings: list[DiagnosticOut] = Field(default_factory=list)
    unchanged: bool = Field(default=False, description="An import of a document identical to this stored "
                            "version (answered 200, nothing written).")


class ValidateRequest(BaseModel):
    ckp_json: Any = Field(description="A CKP document (an object, or its JSON text).")
    scopes_for: list[Annotated[str, Field(max_length=200)]] | None = Field(
        default=None, max_length=1000,
        description="Node ids to answer scopes for (an editor sends the node it shows; [] for none). Unset: every "
                    "node — large for a large document (nodes × variables).")


class ValidateResult(BaseModel):
    valid: bool = Field(description="True when there are no error diagnostics.")
    diagnostics: list[DiagnosticOut]
    procedure_id: str | None = None
    version: str | None = None
    ir_hash: str | None = Field(default=None, description="Set when valid.")
    scopes: dict[str, list[str]] = Field(
        description="For each node id, the variables known when the node starts, sorted: declared in "
                    "variables_schema, built-ins (run_id, secrets, ...) and everything written by a node it can "
                    "be reached from (what the node's own earlier steps write is not included). Empty when the "
                    "document does not parse.")


class Position(BaseModel):
    x: float
    y: float


class GraphNode(BaseModel):
    id: str
    type: str = Field(description="CKP node type, e.g. sequence, logic, llm_action.")
    tier: Tier
    label: str
    agent: str | None = None
    is_start: bool = False
    is_terminal: bool = False
    data: dict[str, Any] = Field(default_factory=dict, description="Type-specific summary (steps, rules, ...).")
    position: Position = Field(description="A layered layout: x grows with depth from the start node.")


class GraphEdge(BaseModel):
    id: str
    source: str
    target: str
    kind: str = Field(description="next | default | rule | approve | reject | timeout | pass | fail | body | "
                                  "branch | fallback | escalation")
    label: str = ""


class ProcedureGraph(BaseModel):
    procedure_id: str
    version: str
    ir_hash: str
    start_node: str
    nodes: list[GraphNode]
    edges: list[GraphEdge]


class ExplainRequest(BaseModel):
    input_vars: dict[str, Any] | None = Field(default=None, description="Inputs to check against variables_schema.")


class ExternalCall(BaseModel):
    node_id: str
    step_id: str | None = None
    kind: Literal["agent", "mcp", "llm", "http", "subflow"]
    action: str
    channel: str | None = None
    server: str | None = None
    model: str | None = None
    procedure_id: str | None = None
    side_effect: bool = True


class ApprovalGate(BaseModel):
    node_id: str
    prompt: str
    decision_type: str
    options: list[str] = Field(default_factory=list)
    approval_level: str | None = None
    timeout_ms: float | None = None
    timeout_action: str | None = None


class VariableInfo(BaseModel):
    name: str
    type: str
    required: bool
    has_default: bool
    default: Any = None
    description: str = ""
    sensitive: bool = False


class SecretInfo(BaseModel):
    name: str
    provider: str
    key: str


class ExplainNode(BaseModel):
    id: str
    type: str
    tier: Tier
    agent: str | None = None
    description: str = ""
    max_visits: int | None = Field(default=None,
                                   description="Upper bound of executions (loops multiply); null: unbounded.")


class ExplainResult(BaseModel):
    """Static analysis of a procedure: what running it would touch. Nothing is executed."""

    procedure_id: str
    version: str
    ir_hash: str
    start_node: str
    nodes: list[ExplainNode]
    edges: list[GraphEdge]
    external_calls: list[ExternalCall]
    approvals: list[ApprovalGate]
    variables: list[VariableInfo]
    variables_required: list[str] = Field(description="Required variables without a default.")
    missing_inputs: list[str] = Field(description="variables_required not present in the posted input_vars.")
    secrets: list[SecretInfo]
    llm_models: list[str]
    estimated_max_llm_calls: int | None = Field(description="Upper bound including retries and loop iterations; "
                                                            "null when a cycle outside loop nodes makes it unbounded.")
    has_unbounded_cycles: bool
    side_effects: bool = Field(description="True when any step may change the outside world.")
    trigger: dict[str, Any] | None = None
    execution_mode: str
    warnings: list[DiagnosticOut] = Field(default_factory=list)
