"""SQLAlchemy 2 models: the durable record of procedures, runs, events and approvals.

Works on SQLite (embedded) and PostgreSQL (scaled out). Timestamps are UTC. JSON columns
use the generic JSON type so both dialects read and write the same shapes.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_id() -> str:
    return uuid.uuid4().hex


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on both dialects (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UtcDateTime(), dict[str, Any]: JSON, list[Any]: JSON}


class Project(Base):
    __tablename__ = "projects"
    id: Mapped[str] = mapped_column(String(64), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    description: Mapped[str | None] = mapped_column(Text)
    allowed_hosts: Mapped[list[Any] | None] = mapped_column(JSON)
    """Hosts and networks this project's procedures may reach although they are not public."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Procedure(Base):
    __tablename__ = "procedures"
    __table_args__ = (
        UniqueConstraint("procedure_id", "version", name="uq_procedures_id_version"),
        Index("ix_procedures_status", "status"),
        Index("ix_procedures_project", "project_id"),
    )
    id: Mapped[str] = mapped_column(String(64), primary_key=True, default=new_id)
    procedure_id: Mapped[str] = mapped_column(String(200))
    version: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(32), default="draft")
    effective_date: Mapped[str | None] = mapped_column(String(32))
    description: Mapped[str | None] = mapped_column(Text)
    ckp_json: Mapped[dict[str, Any]] = mapped_column(JSON)
    ir_hash: Mapped[str] = mapped_column(String(64))
    provenance: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    retrieval_metadata: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    tags: Mapped[list[Any] | None] = mapped_column(JSON)
    project_id: Mapped[str | None] = mapped_column(ForeignKey("projects.id", ondelete="SET NULL"))
    created_by: Mapped[str | None] = mapped_column(String(200))
    change_note: Mapped[str | None] = mapped_column(Text)
    """What changed in this version and why, as given when it was created (the builder's save)."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Run(Base):
    __tablename__ = "runs"
    __table_args__ = (
        Index("ix_runs_status_created_at", "status", "created_at"),
        Index("ix_runs_procedure_created_at", "procedure_id", "created_at"),
        Index("ix_runs_project_created_at", "project_id", "created_at"),
        Index("ix_runs_created_at", "created_at"),
    )
    run_id: Mapped[str] = mapped_column(String(64), primary_key=True, default=new_id)
    procedure_id: Mapped[str] = mapped_column(String(200))
    procedure_version: Mapped[str] = mapped_column(String(64))
    procedure_row_id: Mapped[str | None] = mapped_column(ForeignKey("procedures.id", ondelete="SET NULL"))
    ir_hash: Mapped[str] = mapped_column(String(64))
    thread_id: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(32), default="queued")
    mode: Mapped[str] = mapped_column(String(16), default="production", server_default="production")
    """production | dry_run | test (runtime/modes.py)."""
    input_vars: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    output_vars: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    variables: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error_message: Mapped[str | None] = mapped_column(Text)
    last_node_id: Mapped[str | None] = mapped_column(String(200))
    total_prompt_tokens: Mapped[int] = mapped_column(Integer, default=0)
    total_completion_tokens: Mapped[int] = mapped_column(Integer, default=0)
    estimated_cost_usd: Mapped[float] = mapped_column(Float, default=0.0)
    trigger_type: Mapped[str] = mapped_column(String(32), default="manual")
    triggered_by: Mapped[str | None] = mapped_column(String(200))
    trigger_id: Mapped[str | None] = mapped_column(String(64))
    payload_hash: Mapped[str | None] = mapped_column(String(64))
    """SHA-256 of the trigger payload that started the run (webhook body, event message…)."""
    project_id: Mapped[str | None] = mapped_column(ForeignKey("projects.id", ondelete="SET NULL"))
    retry_of: Mapped[str | None] = mapped_column(String(64))
    sensitive_vars: Mapped[list[Any] | None] = mapped_column(JSON)
    """Names of inputs marked sensitive: the API masks their values in every answer."""
    cancellation_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    checkpoints_pruned_at: Mapped[datetime | None] = mapped_column()
    """When the retention sweep deleted this finished run's LangGraph checkpoints."""
    started_at: Mapped[datetime | None] = mapped_column()
    ended_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class RunEvent(Base):
    """Append-only timeline; ``seq`` is strictly increasing per run."""

    __tablename__ = "run_events"
    __table_args__ = (UniqueConstraint("run_id", "seq", name="uq_run_events_run_seq"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.run_id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    type: Mapped[str] = mapped_column(String(64))
    node_id: Mapped[str | None] = mapped_column(String(400))
    step_id: Mapped[str | None] = mapped_column(String(200))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Approval(Base):
    __tablename__ = "approvals"
    __table_args__ = (
        Index("ix_approvals_status_created_at", "status", "created_at"),
        Index("ix_approvals_run", "run_id"),
        UniqueConstraint("run_id", "interrupt_id", name="uq_approvals_run_interrupt"),
    )
    approval_id: Mapped[str] = mapped_column(String(64), primary_key=True, default=new_id)
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.run_id", ondelete="CASCADE"))
    node_id: Mapped[str] = mapped_column(String(400))
    interrupt_id: Mapped[str] = mapped_column(String(128))
    prompt: Mapped[str] = mapped_column(Text, default="")
    decision_type: Mapped[str] = mapped_column(String(32), default="approve_reject")
    options: Mapped[list[Any] | None] = mapped_column(JSON)
    context_data: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    approval_level: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(32), default="pending")
    decision: Mapped[str | None] = mapped_column(String(200))
    decided_by: Mapped[str | None] = mapped_column(String(200))
    comment: Mapped[str | None] = mapped_column(Text)
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    expires_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column()


class StepIdempotency(Base):
    __tablename__ = "step_idempotency"
    key: Mapped[str] = mapped_column(String(512), primary_key=True)
    run_id: Mapped[str | None] = mapped_column(String(64), index=True)
    result: Mapped[Any] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Artifact(Base):
    __tablename__ = "artifacts"
    artifact_id: Mapped[str] = mapped_column(String(64), primary_key=True, default=new_id)
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.run_id", ondelete="CASCADE"), index=True)
    node_id: Mapped[str | None] = mapped_column(String(400))
    step_id: Mapped[str | None] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(400))
    mime_type: Mapped[str] = mapped_column(String(200), default="application/octet-stream")
    size: Mapped[int] = mapped_column(Integer, default=0)
    uri: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AgentInstance(Base):
    __tablename__ = "agent_instances"
    __table_args__ = (Index("ix_agent_instances_channel", "channel"), Index("ix_agent_instances_pool", "pool_id"))
    agent_id: Mapped[str] = mapped_column(String(64), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200))
    channel: Mapped[str] = mapped_column(String(64))
    base_url: Mapped[str] = mapped_column(String(1000))
    capabilities: Mapped[list[Any] | None] = mapped_column(JSON)
    pool_id: Mapped[str | None] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(32), default="online")
    concurrency_limit: Mapped[int] = mapped_column(Integer, default=1)
    circuit_state: Mapped[str] = mapped_column(String(16), default="closed")
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    circuit_open_until: Mapped[datetime | None] = mapped_column()
    last_heartbeat_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ResourceLease(Base):
    __tablename__ = "resource_leases"
    __table_args__ = (Index("ix_resource_leases_key_active", "resource_key", "released_at"),)
    lease_id: Mapped[str] = mapped_column(String(64), primary_key=True, default=new_id)
    resource_key: Mapped[str] = mapped_column(String(400))
    run_id: Mapped[str | None] = mapped_column(String(64))
    node_id: Mapped[str | None] = mapped_column(String(400))
    step_id: Mapped[str | None] = mapped_column(String(200))
    acquired_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column()
    released_at: Mapped[datetime | None] = mapped_column()


class RunJob(Base):
    """The durable run queue: one row per unit of work (start a run, resume it)."""

    __tablename__ = "run_jobs"
    __table_args__ = (Index("ix_run_jobs_status_available", "status", "available_at"),
                      Index("ix_run_jobs_run", "run_id"))
    job_id: Mapped[str] = mapped_column(String(64), primary_key=True, default=new_id)
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.run_id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32), default="start")
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(32), default="queued")
    worker_id: Mapped[str | None] = mapped_column(String(128))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    available_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_at: Mapped[datetime | None] = mapped_column()
    heartbeat_at: Mapped[datetime | None] = mapped_column()
    finished_at: Mapped[datetime | None] = mapped_column()
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Worker(Base):
    """A worker process, as last seen by its heartbeat (queue stats, reclaim diagnostics)."""

    __tablename__ = "workers"
    worker_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    hostname: Mapped[str] = mapped_column(String(200), default="")
    pid: Mapped[int] = mapped_column(Integer, default=0)
    concurrency: Mapped[int] = mapped_column(Integer, default=1)
    running_jobs: Mapped[int] = mapped_column(Integer, default=0)
    embedded: Mapped[bool] = mapped_column(Boolean, default=False)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    heartbeat_at: Mapped[datetime] = mapped_column(default=utcnow)
    stopped_at: Mapped[datetime | None] = mapped_column()
    liveness: Mapped[str | None] = mapped_column(String(32))
    """How its death shows at once (services/liveness.py): "pg_advisory" or "flock"; None: by the heartbeat only."""


class TriggerRegistration(Base):
    """Something that starts runs by itself: a schedule, a webhook, an event, a file, another run.

    ``source`` is ``ckp`` for the registration derived from an active version's ``trigger``
    (replaced when the active version changes) and ``api`` for those made through the API/UI.
    """

    __tablename__ = "trigger_registrations"
    __table_args__ = (Index("ix_trigger_registrations_procedure", "procedure_id"),
                      Index("ix_trigger_registrations_due", "enabled", "next_fire_at"))
    id: Mapped[str] = mapped_column(String(64), primary_key=True, default=new_id)
    procedure_id: Mapped[str] = mapped_column(String(200))
    version: Mapped[str | None] = mapped_column(String(64))
    """None: the procedure's active version at fire time."""
    source: Mapped[str] = mapped_column(String(16), default="api")
    name: Mapped[str | None] = mapped_column(String(200))
    trigger_type: Mapped[str] = mapped_column(String(32))
    """scheduled | webhook | event | file_watch | run_completed"""
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    cron: Mapped[str | None] = mapped_column(String(200))
    rrule: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime | None] = mapped_column()
    timezone: Mapped[str | None] = mapped_column(String(64))
    misfire_grace_s: Mapped[int] = mapped_column(Integer, default=300)
    coalesce: Mapped[bool] = mapped_column(Boolean, default=True)
    overlap: Mapped[str] = mapped_column(String(16), default="allow")
    """skip | queue | allow: what a fire does while earlier runs of this trigger are unfinished."""
    max_concurrent: Mapped[int] = mapped_column(Integer, default=0)
    """With overlap=allow (or webhooks): at most this many unfinished runs; 0 = no limit."""
    dedupe_window_s: Mapped[int] = mapped_column(Integer, default=86400)
    input_mapping: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    config: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    secret: Mapped[str | None] = mapped_column(Text)
    """The webhook HMAC key, encrypted with the secret store's master key."""
    previous_secret: Mapped[str | None] = mapped_column(Text)
    previous_secret_until: Mapped[datetime | None] = mapped_column()
    next_fire_at: Mapped[datetime | None] = mapped_column()
    last_fired_at: Mapped[datetime | None] = mapped_column()
    last_run_id: Mapped[str | None] = mapped_column(String(64))
    fire_count: Mapped[int] = mapped_column(Integer, default=0)
    created_by: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class TriggerFire(Base):
    """One fire of a trigger and what came of it (its history)."""

    __tablename__ = "trigger_fires"
    __table_args__ = (Index("ix_trigger_fires_trigger", "trigger_id", "fired_at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    trigger_id: Mapped[str] = mapped_column(String(64))
    fired_at: Mapped[datetime] = mapped_column(default=utcnow)
    scheduled_for: Mapped[datetime | None] = mapped_column()
    outcome: Mapped[str] = mapped_column(String(32))
    """queued | deduplicated | skipped_overlap | refused_concurrency | failed"""
    run_id: Mapped[str | None] = mapped_column(String(64))
    payload_hash: Mapped[str | None] = mapped_column(String(64))
    payload: Mapped[Any] = mapped_column(JSON, nullable=True)
    """Kept only while the fire waits (overlap=queue) for the trigger's earlier runs to finish."""
    detail: Mapped[str | None] = mapped_column(Text)


class TriggerDedupe(Base):
    __tablename__ = "trigger_dedupe"
    key: Mapped[str] = mapped_column(String(512), primary_key=True)
    procedure_id: Mapped[str] = mapped_column(String(200))
    trigger_id: Mapped[str | None] = mapped_column(String(64))
    run_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class LeaderLease(Base):
    """A singleton's leadership: ``holder`` until ``expires_at``; ``token`` grows with every
    new holder, so a deposed leader's writes can be fenced off."""

    __tablename__ = "leader_leases"
    name: Mapped[str] = mapped_column(String(128), primary_key=True)
    holder: Mapped[str] = mapped_column(String(128))
    expires_at: Mapped[datetime] = mapped_column()
    token: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class User(Base):
    """A local user (embedded profile) or one first seen through OIDC (no password)."""

    __tablename__ = "users"
    user_id: Mapped[str] = mapped_column(String(64), primary_key=True, default=new_id)
    username: Mapped[str] = mapped_column(String(200), unique=True)
    display_name: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    password_hash: Mapped[str | None] = mapped_column(String(400))
    external_id: Mapped[str | None] = mapped_column(String(400), unique=True)
    """``issuer|subject`` of a user who signs in through OIDC (no password)."""
    role: Mapped[str] = mapped_column(String(16), default="viewer")
    project_roles: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    """project id → role, granted on that project only (above the global role)."""
    groups: Mapped[list[Any] | None] = mapped_column(JSON)
    """Approver groups and levels (manager, executive, finance...) human_approval nodes may require."""
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    password_is_initial: Mapped[bool] = mapped_column(Boolean, default=False)
    """The one-time password printed at first start has not been changed yet."""
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    """Bumped on logout-everywhere, password change or disable: older sessions stop working."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column()


class ApiKey(Base):
    """A key for a service or an agent: only its SHA-256 is stored; the key is shown once."""

    __tablename__ = "api_keys"
    key_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    project_id: Mapped[str | None] = mapped_column(String(64))
    """Set: the key's role holds on this project only."""
    groups: Mapped[list[Any] | None] = mapped_column(JSON)
    created_by: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column()
    last_used_at: Mapped[datetime | None] = mapped_column()
    revoked_at: Mapped[datetime | None] = mapped_column()


class StoredSecret(Base):
    """A secret of the built-in store: the value only as AES-GCM ciphertext."""

    __tablename__ = "secrets"
    __table_args__ = (UniqueConstraint("scope", "name", name="uq_secrets_scope_name"),)
    secret_id: Mapped[str] = mapped_column(String(64), primary_key=True, default=new_id)
    scope: Mapped[str] = mapped_column(String(64), default="")
    """'' for a global secret, else the project id it belongs to."""
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, default=1)
    ciphertext: Mapped[str] = mapped_column(Text)
    """base64(nonce ‖ AES-GCM ciphertext ‖ tag); the associated data binds scope, name and version."""
    key_fingerprint: Mapped[str] = mapped_column(String(64))
    """Which master key encrypted it (rotation re-encrypts rows with an older one)."""
    created_by: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column()


class AuditEntry(Base):
    """One mutating action; ``hash`` = SHA-256 over the previous hash and this row's fields."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_at", "at"), Index("ix_audit_log_subject", "subject_type", "subject_id"))
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(200))
    actor_kind: Mapped[str] = mapped_column(String(16))
    """user | api_key | token | system | anonymous (signed webhooks)."""
    role: Mapped[str | None] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(64))
    subject_type: Mapped[str | None] = mapped_column(String(32))
    subject_id: Mapped[str | None] = mapped_column(String(400))
    project_id: Mapped[str | None] = mapped_column(String(64))
    request_id: Mapped[str | None] = mapped_column(String(64))
    outcome: Mapped[int | None] = mapped_column(Integer)
    """The HTTP status the action answered."""
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class AlertRule(Base):
    """Who hears about a run that failed, breached an SLA, or hit a ``notify_on_error`` handler.

    Scope: one procedure (``procedure_id``, any version), a project's procedures
    (``project_id``), or, with neither, every procedure."""

    __tablename__ = "alert_rules"
    __table_args__ = (Index("ix_alert_rules_enabled", "enabled"),)
    rule_id: Mapped[str] = mapped_column(String(64), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200))
    project_id: Mapped[str | None] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    procedure_id: Mapped[str | None] = mapped_column(String(200))
    events: Mapped[list[Any]] = mapped_column(JSON)
    webhook: Mapped[bool] = mapped_column(Boolean, default=False)
    email_to: Mapped[list[Any] | None] = mapped_column(JSON)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class AlertEvent(Base):
    """Outbox: a run event that may raise alerts, written in the same transaction as the event
    and deleted once its deliveries are made."""

    __tablename__ = "alert_events"
    __table_args__ = (UniqueConstraint("run_id", "seq", name="uq_alert_events_run_seq"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.run_id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    type: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AlertDelivery(Base):
    """One alert to one channel, retried with backoff until delivered or out of attempts."""

    __tablename__ = "alert_deliveries"
    __table_args__ = (UniqueConstraint("rule_id", "run_id", "seq", "channel", name="uq_alert_deliveries_once"),
                      Index("ix_alert_deliveries_due", "status", "next_attempt_at"),
                      Index("ix_alert_deliveries_run", "run_id"))
    delivery_id: Mapped[str] = mapped_column(String(64), primary_key=True, default=new_id)
    rule_id: Mapped[str] = mapped_column(ForeignKey("alert_rules.rule_id", ondelete="CASCADE"))
    run_id: Mapped[str] = mapped_column(String(64))
    seq: Mapped[int] = mapped_column(Integer)
    event_type: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_until: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column()
