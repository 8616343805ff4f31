"""Runs: create, read, retry, events, diagnostics, checkpoints, artifacts, metrics shapes."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, computed_field, model_validator

from langorch.api.schemas.common import ApiModel, unrenderable
from langorch.runtime import tracing
from langorch.runtime.redaction import Redactor

RunStatus = Literal["queued", "running", "waiting_approval", "completed", "failed", "canceled"]
RunModeField = Literal["production", "dry_run", "test"]


class RunCreate(BaseModel):
    """``POST /api/runs`` (wire-compatible with the seed system). ``triggered_by`` is the caller's
    identity; a ``triggered_by`` in the body is ignored."""

    procedure_id: str = Field(min_length=1, max_length=200)
    procedure_version: str | None = Field(default=None, max_length=64,
                                          description="Default: the latest active version, else the latest.")
    input_vars: dict[str, Any] | None = Field(default=None, description="Checked against the CKP's variables_schema.")
    project_id: str | None = Field(default=None, max_length=64)
    mode: RunModeField | None = Field(
        default=None, description="production: every step does what it says; dry_run: external calls with side "
        "effects are skipped; test: agent, MCP, http_request and LLM calls answer from the procedure's "
        "global_config.test_data_overrides (else a mock result) and nothing outside is reached. Default: "
        "what the procedure's global_config declares (production unless execution_mode is dry_run or "
        "mock_external_calls is true).")


class RunRetry(BaseModel):
    """``POST /api/runs/{run_id}/retry``: changed inputs are merged over the failed run's."""

    input_vars: dict[str, Any] | None = None


class RunRead(ApiModel):
    run_id: str
    procedure_id: str
    procedure_version: str
    thread_id: str
    status: RunStatus
    mode: RunModeField = Field(default="production", description="production | dry_run | test")
    input_vars: dict[str, Any] = Field(default_factory=dict)
    output_vars: dict[str, Any] | None = None
    total_prompt_tokens: int = 0
    total_completion_tokens: int = 0
    estimated_cost_usd: float = 0.0
    started_at: datetime | None = None
    ended_at: datetime | None = None
    last_node_id: str | None = Field(default=None, description="The node the run ended at, or waits at.")
    error_message: str | None = None
    trigger_type: str
    triggered_by: str | None = None
    trigger_id: str | None = Field(default=None, description="The trigger registration that started the run.")
    payload_hash: str | None = Field(default=None, description="SHA-256 of the trigger's payload.")
    created_at: datetime
    updated_at: datetime
    project_id: str | None = None
    error: dict[str, Any] | None = Field(default=None, description="type, message, retryable, node_id, details, cause.")
    ir_hash: str = Field(description="The compiled definition this run is pinned to.")
    retry_of: str | None = Field(default=None, description="The run this one retries.")
    cancellation_requested: bool = False
    sensitive_vars: list[str] | None = Field(default=None,
                                             description="Inputs marked sensitive; their values are masked.")
    render_error: str | None = Field(default=None, description="Set when a stored field cannot be shown (it is "
                                     "left out, as {} or null): which one and why.")

    @computed_field(description="The OpenTelemetry trace id of every span of this run (all its jobs).")
    def trace_id(self) -> str:
        return tracing.trace_id(self.run_id)

    @model_validator(mode="after")
    def _leave_out_unrenderable(self) -> RunRead:
        problems = []
        for name in ("input_vars", "output_vars", "error"):
            why = unrenderable(getattr(self, name))
            if why is not None:
                problems.append(f"{name} {why}")
                setattr(self, name, {} if name == "input_vars" else None)
        if problems:
            self.render_error = "; ".join(problems)
        return self

    @model_validator(mode="after")
    def _mask_sensitive(self) -> RunRead:
        names = set(self.sensitive_vars or ())
        if not names:
            return self
        redactor = Redactor(names)
        for name in names:
            if self.input_vars.get(name) is not None:
                redactor.add_secret(self.input_vars[name])
        self.input_vars = redactor.redact(self.input_vars)
        if self.output_vars is not None:
            self.output_vars = redactor.redact(self.output_vars)
        return self


class RunEventRead(BaseModel):
    """One timeline event; ``seq`` is 1, 2, 3… per run (the SSE event id)."""

    run_id: str
    seq: int
    event_type: str = Field(description="run_started, node_started, step_completed, approval_requested, …")
    node_id: str | None = None
    step_id: str | None = None
    payload: dict[str, Any] = Field(default_factory=dict)
    created_at: str | None = None

    @model_validator(mode="after")
    def _leave_out_unrenderable(self) -> RunEventRead:
        why = unrenderable(self.payload)
        if why is not None:
            self.payload = {"render_error": f"payload {why}"}
        return self


class ArtifactRead(ApiModel):
    artifact_id: str
    run_id: str
    node_id: str | None = None
    step_id: str | None = None
    name: str
    mime_type: str
    size: int
    uri: str
    created_at: datetime


class CheckpointRead(BaseModel):
    checkpoint_id: str | None
    parent_checkpoint_id: str | None = None
    thread_id: str | None = None
    step: int | None = None
    source: str | None = Field(default=None, description="input | loop | update | fork")
    created_at: str | None = None
    next: list[str] = Field(default_factory=list, description="Nodes that run after this checkpoint.")
    last_node: str | None = None
    status: str | None = None
    interrupts: list[str] = Field(default_factory=list, description="Pending approval interrupt ids.")


class CheckpointDetail(CheckpointRead):
    values: dict[str, Any] = Field(default_factory=dict, description="Run state (sensitive variables masked).")
    tasks: list[dict[str, Any]] = Field(default_factory=list)
    metadata: dict[str, Any] = Field(default_factory=dict)


class CleanupResult(BaseModel):
    deleted: int
    run_ids: list[str]
    statuses: list[str]
    before: str | None = None


class RunMetrics(BaseModel):
    total_runs: int
    by_status: dict[str, int]
    active_runs: int
    failure_rate: float = Field(description="failed / (completed + failed), all time.")
    this_week: dict[str, Any] = Field(description="runs, failed, prompt_tokens, completion_tokens, cost_usd.")
    duration_s: dict[str, Any] = Field(description="p50/p95 of completed runs this week.")


class RunDiagnostics(BaseModel):
    run_id: str
    status: str
    error: dict[str, Any] | None = None
    error_message: str | None = None
    failed_node_id: str | None = None
    last_node_id: str | None = None
    cancellation_requested: bool = False
    retry_of: str | None = None
    retries: int = Field(description="step_retry events.")
    event_count: int
    event_counts: dict[str, int]
    step_idempotency: list[dict[str, Any]]
    active_leases: list[dict[str, Any]]
    pending_approvals: list[dict[str, Any]]
    jobs: list[dict[str, Any]]
