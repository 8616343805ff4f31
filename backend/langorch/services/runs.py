"""Runs: start, list, inspect, cancel, retry, delete — and record what a worker reports.

Every write commits before returning (a 2xx means a GET finds it) and then wakes whom
it concerns through the hub: a new run or job wakes a worker, a status change wakes
SSE streams. Status flow: ``queued → running → (waiting_approval ↔ running) →
completed | failed | canceled``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Select, case, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from langorch.ckp.ir import ProcedureIR
from langorch.runtime.inputs import validate_inputs
from langorch.runtime.modes import resolve_mode
from langorch.runtime.ports import RunEvent as PortEvent
from langorch.runtime.redaction import display
from langorch.runtime.runner import RunOutcome
from langorch.services import checkpoints
from langorch.services.audit import record_system
from langorch.services.errors import Conflict, Invalid, NotFound
from langorch.services.queue import enqueue
from langorch.services.runtime_wiring import ServerRuntime, pick_version
from langorch.store.models import (
    Approval,
    Artifact,
    Procedure,
    Project,
    ResourceLease,
    Run,
    RunEvent,
    RunJob,
    StepIdempotency,
)

__all__ = ["ACTIVE", "TERMINAL", "RunFilters", "cancel_run", "cleanup_history", "create_run", "delete_run",
           "fail_run", "get_artifact", "get_run", "list_artifacts", "list_runs", "metrics_summary",
           "pinned_ir", "record_outcome", "retry_run", "run_diagnostics"]

TERMINAL = ("completed", "failed", "canceled")
ACTIVE = ("queued", "running", "waiting_approval")


def _now() -> datetime:
    return datetime.now(UTC)


async def get_run(session: AsyncSession, run_id: str) -> Run:
    run = await session.get(Run, run_id)
    if run is None:
        raise NotFound(f"run {run_id!r} not found", details={"run_id": run_id})
    return run


def pinned_ir(rt: ServerRuntime, row: Procedure, ir_hash: str | None = None) -> ProcedureIR:
    """The IR of a stored procedure version, exactly as pinned by ``ir_hash`` when given."""
    ir = rt.cache.compile(row.id, ir_hash or row.ir_hash, row.ckp_json)
    if ir is None and not ir_hash:
        ir = rt.cache.compile(row.id, None, row.ckp_json)
    if ir is None:
        raise Conflict(f"procedure {row.procedure_id!r} v{row.version} no longer compiles to the IR this run "
                       "was started with", details={"procedure_id": row.procedure_id, "version": row.version})
    return ir


async def create_run(session: AsyncSession, rt: ServerRuntime, *, procedure_id: str,
                     procedure_version: str | None = None, input_vars: Mapping[str, Any] | None = None,
                     project_id: str | None = None, trigger_type: str = "manual",
                     triggered_by: str | None = None, mode: str | None = None,
                     may_start: Callable[[str, str | None], None] | None = None,
                     trigger_id: str | None = None, payload_hash: str | None = None,
                     commit: bool = True) -> Run:
    """Queue a run of a procedure (the latest active version unless one is named).

    ``mode`` is production, dry_run or test (runtime/modes.py); by default what the
    procedure's global_config declares (production unless it says dry_run or mocks).
    ``may_start(mode, project_id)`` raises when the caller may not start a run in that mode.
    With ``commit=False`` the run and its start job are only flushed: the caller commits (and
    then publishes ``jobs`` on the hub) with whatever else belongs to the same transaction."""
    row = await pick_version(session, procedure_id, procedure_version)
    if row is None:
        which = f" version {procedure_version!r}" if procedure_version else ""
        raise NotFound(f"procedure {procedure_id!r}{which} not found",
                       details={"procedure_id": procedure_id, "version": procedure_version})
    if row.status == "archived":
        raise Conflict(f"procedure {procedure_id!r} v{row.version} is archived; activate a version to run it",
                       details={"procedure_id": procedure_id, "version": row.version, "status": row.status})
    if project_id is not None and await session.get(Project, project_id) is None:
        raise Invalid(f"project {project_id!r} does not exist", details=[{"field": "project_id",
                                                                         "message": "unknown project"}])
    ir = rt.cache.get(row.id, row.ir_hash)
    if ir is None:
        ckp_json = await session.scalar(select(Procedure.ckp_json).where(Procedure.id == row.id))
        ir = rt.cache.compile(row.id, None, ckp_json or {})
    if ir is None:
        raise Invalid(f"procedure {procedure_id!r} v{row.version} does not compile; fix it before running",
                      details={"procedure_id": procedure_id, "version": row.version})
    resolved = resolve_mode(mode, ir.global_config)
    if may_start is not None:
        may_start(resolved, project_id or row.project_id)
    inputs = validate_inputs(ir, dict(input_vars or {}))
    run = _new_run(row, ir, inputs, project_id=project_id or row.project_id, trigger_type=trigger_type,
                   triggered_by=triggered_by, mode=resolved, trigger_id=trigger_id, payload_hash=payload_hash)
    session.add(run)
    await session.flush()
    enqueue(session, run.run_id, "start")
    if not commit:
        return run
    await session.commit()
    rt.hub.publish("jobs")
    return run


def _new_run(row: Any, ir: ProcedureIR, inputs: dict[str, Any], **fields: Any) -> Run:
    now = _now()
    from langorch.store.models import new_id

    run_id = new_id()
    return Run(run_id=run_id, procedure_id=row.procedure_id, procedure_version=row.version, procedure_row_id=row.id,
               ir_hash=ir.ir_hash, thread_id=run_id, status="queued", input_vars=inputs, total_prompt_tokens=0,
               sensitive_vars=sorted(ir.sensitive_names) or None,
               total_completion_tokens=0, estimated_cost_usd=0.0, cancellation_requested=False, created_at=now,
               updated_at=now, **fields)


@dataclass(frozen=True)
class RunFilters:
    status: Sequence[str] = ()
    procedure_id: str | None = None
    project_id: str | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None
    search: str | None = None


def _filtered(query: Select[Any], f: RunFilters) -> Select[Any]:
    if f.status:
        query = query.where(Run.status.in_(list(f.status)))
    if f.procedure_id:
        query = query.where(Run.procedure_id == f.procedure_id)
    if f.project_id:
        query = query.where(Run.project_id == f.project_id)
    if f.created_after:
        query = query.where(Run.created_at >= f.created_after)
    if f.created_before:
        query = query.where(Run.created_at < f.created_before)
    if f.search:
        like = f"%{f.search.strip().lower()}%"
        query = query.where(or_(func.lower(Run.run_id).like(like), func.lower(Run.procedure_id).like(like),
                                func.lower(func.coalesce(Run.error_message, "")).like(like)))
    return query


async def list_runs(session: AsyncSession, filters: RunFilters, *, limit: int, offset: int) -> tuple[list[Run], int]:
    total = await session.scalar(_filtered(select(func.count()).select_from(Run), filters)) or 0
    rows = (await session.scalars(_filtered(select(Run), filters).order_by(Run.created_at.desc(), Run.run_id)
                                  .limit(limit).offset(offset))).all()
    return list(rows), int(total)


async def cancel_run(session: AsyncSession, rt: ServerRuntime, run_id: str) -> Run:
    """Queued or waiting runs end at once; a running one is told to stop (its worker ends it
    at the next node or step, or interrupts it after a short grace)."""
    run = await get_run(session, run_id)
    if run.status in TERMINAL:
        raise Conflict(f"run {run_id!r} is already {run.status}", details={"status": run.status})
    now = _now()
    # Jobs before the run: the order claims and workers lock them in (no deadlock).
    await session.execute(update(RunJob).where(RunJob.run_id == run_id, RunJob.status == "queued")
                          .values(status="canceled", finished_at=now, last_error="run canceled"))
    working = select(RunJob.job_id).where(RunJob.run_id == run_id, RunJob.status == "running").exists()
    ended = await session.execute(
        update(Run).where(Run.run_id == run_id, or_(Run.status.in_(("queued", "waiting_approval")),
                                                    (Run.status == "running") & ~working))
        .values(status="canceled", cancellation_requested=True, ended_at=now, updated_at=now,
                error_message="canceled by request"))
    if (getattr(ended, "rowcount", 0) or 0) > 0:
        decided = await _close_pending_approvals(session, run_id, "canceled")
        # The terminal event commits with the status: a stream that sees one sees the other.
        rows = await rt.sink.stage(session, run_id, [PortEvent(run_id, "run_canceled",
                                                               {"reason": "canceled by request"}, ts=time.time())])
        await session.commit()
        rt.sink.committed(run_id, rows)
        rt.hub.publish("runs", {"run_id": run_id, "status": "canceled"})
        for approval_id in decided:
            rt.hub.publish("approvals", {"approval_id": approval_id, "run_id": run_id, "action": "canceled"})
    else:
        await session.execute(update(Run).where(Run.run_id == run_id)
                              .values(cancellation_requested=True, updated_at=now))
        await session.commit()
        rt.hub.publish("cancel", {"run_id": run_id})
    await session.refresh(run)
    return run


async def _close_pending_approvals(session: AsyncSession, run_id: str, status: str) -> list[str]:
    ids = list((await session.scalars(select(Approval.approval_id).where(
        Approval.run_id == run_id, Approval.status == "pending"))).all())
    if ids:
        await session.execute(update(Approval).where(Approval.approval_id.in_(ids), Approval.status == "pending")
                              .values(status=status, decided_at=_now(), decided_by="system"))
        for approval_id in ids:  # closed with their run: the system's decision, not a person's
            await record_system(session, "approval.cancel", subject_type="approval",
                                subject_id=approval_id, details={"run_id": run_id, "status": status})
    return ids


async def retry_run(session: AsyncSession, rt: ServerRuntime, run_id: str,
                    input_vars: Mapping[str, Any] | None = None, triggered_by: str | None = None) -> Run:
    """A new run (``retry_of``) of the same pinned version, from the node that failed.

    The failed run's checkpoint taken just before that node is copied into the new run's
    thread (with changed inputs merged into its variables), and the new run continues
    from there: earlier nodes are not repeated. Without such a checkpoint (a run that
    failed before its first, or ran with checkpointing disabled) it starts from scratch.
    """
    old = await get_run(session, run_id)
    if old.status not in ("failed", "canceled"):
        raise Conflict(f"only failed or canceled runs can be retried; run {run_id!r} is {old.status}",
                       details={"status": old.status})
    row = await session.get(Procedure, old.procedure_row_id) if old.procedure_row_id else None
    if row is None:
        raise Conflict(f"the procedure version run {run_id!r} used is gone", details={"run_id": run_id})
    ir = pinned_ir(rt, row, old.ir_hash)
    changed = dict(input_vars or {})
    inputs = validate_inputs(ir, {**(old.input_vars or {}), **changed})
    run = _new_run(row, ir, inputs, project_id=old.project_id, trigger_type="retry",
                   triggered_by=triggered_by or old.triggered_by, retry_of=old.run_id, mode=old.mode)
    failed_node = (old.error or {}).get("node_id") if old.status == "failed" else None
    start_at = None
    if ir.global_config.checkpoint_strategy != "disabled":
        start_at = await checkpoints.fork_for_retry(rt.checkpointer, ir, old.thread_id, run.thread_id,
                                                    failed_node, changed)
    session.add(run)
    await session.flush()
    if start_at is not None:
        enqueue(session, run.run_id, "retry", {"retry_of": old.run_id, "from_node": start_at})
    else:
        enqueue(session, run.run_id, "start", {"retry_of": old.run_id})
    await session.commit()
    rt.hub.publish("jobs")
    return run


async def delete_run(session: AsyncSession, rt: ServerRuntime, run_id: str) -> None:
    run = await get_run(session, run_id)
    if run.status in ("queued", "running"):
        raise Conflict(f"run {run_id!r} is {run.status}; cancel it before deleting it",
                       details={"status": run.status})
    await _delete_runs(session, [run_id])
    await session.commit()
    await checkpoints.delete_thread(rt.checkpointer, run.thread_id)


async def _delete_runs(session: AsyncSession, run_ids: list[str]) -> None:
    for table in (RunEvent, Approval, Artifact, RunJob):
        await session.execute(delete(table).where(table.run_id.in_(run_ids)))
    await session.execute(delete(StepIdempotency).where(StepIdempotency.run_id.in_(run_ids)))
    await session.execute(delete(Run).where(Run.run_id.in_(run_ids)))


async def cleanup_history(session: AsyncSession, rt: ServerRuntime, *, before: datetime | None,
                          statuses: Sequence[str]) -> dict[str, Any]:
    """Delete finished runs created before ``before`` (only finished ones, whatever is asked)."""
    wanted = [s for s in (statuses or TERMINAL) if s in TERMINAL]
    if not wanted:
        raise Invalid("status must name finished states: completed, failed, canceled",
                      details=[{"field": "status", "message": "only completed, failed, canceled can be cleaned"}])
    query = select(Run.run_id, Run.thread_id).where(Run.status.in_(wanted))
    if before is not None:
        query = query.where(Run.created_at < before)
    rows = (await session.execute(query)).all()
    run_ids = [r.run_id for r in rows]
    for start in range(0, len(run_ids), 500):
        await _delete_runs(session, run_ids[start:start + 500])
    await session.commit()
    for r in rows:
        await checkpoints.delete_thread(rt.checkpointer, r.thread_id)
    return {"deleted": len(run_ids), "run_ids": run_ids[:1000], "statuses": wanted,
            "before": before.isoformat() if before else None}


async def metrics_summary(session: AsyncSession) -> dict[str, Any]:
    by_status = {s: int(n) for s, n in (await session.execute(
        select(Run.status, func.count()).group_by(Run.status))).all()}
    finished = by_status.get("completed", 0) + by_status.get("failed", 0)
    week_ago = _now() - timedelta(days=7)
    week = (await session.execute(select(
        func.count(), func.coalesce(func.sum(Run.total_prompt_tokens), 0),
        func.coalesce(func.sum(Run.total_completion_tokens), 0),
        func.coalesce(func.sum(Run.estimated_cost_usd), 0.0),
        func.coalesce(func.sum(case((Run.status == "failed", 1), else_=0)), 0),
    ).where(Run.created_at >= week_ago))).one()
    durations = (await session.execute(select(Run.started_at, Run.ended_at).where(
        Run.status == "completed", Run.ended_at.is_not(None), Run.started_at.is_not(None),
        Run.created_at >= week_ago).order_by(Run.created_at.desc()).limit(1000))).all()
    seconds = sorted((e - s).total_seconds() for s, e in durations if s is not None and e is not None)
    return {
        "total_runs": sum(by_status.values()),
        "by_status": {s: by_status.get(s, 0) for s in (*ACTIVE, *TERMINAL)},
        "active_runs": sum(by_status.get(s, 0) for s in ACTIVE),
        "failure_rate": round(by_status.get("failed", 0) / finished, 4) if finished else 0.0,
        "this_week": {"runs": int(week[0]), "failed": int(week[4]), "prompt_tokens": int(week[1]),
                      "completion_tokens": int(week[2]), "cost_usd": round(float(week[3]), 6)},
        "duration_s": {"p50": _pct(seconds, 0.5), "p95": _pct(seconds, 0.95), "count": len(seconds)},
    }


def _pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    return round(values[min(len(values) - 1, int(q * len(values)))], 4)


async def run_diagnostics(session: AsyncSession, run_id: str) -> dict[str, Any]:
    run = await get_run(session, run_id)
    counts = {t: int(n) for t, n in (await session.execute(
        select(RunEvent.type, func.count()).where(RunEvent.run_id == run_id).group_by(RunEvent.type))).all()}
    failed_node = (run.error or {}).get("node_id")
    if failed_node is None and run.status == "failed":
        failed_node = await session.scalar(select(RunEvent.node_id).where(
            RunEvent.run_id == run_id, RunEvent.type.in_(("node_failed", "step_failed")))
            .order_by(RunEvent.seq.desc()).limit(1))
    steps = (await session.scalars(select(StepIdempotency).where(StepIdempotency.run_id == run_id)
                                   .order_by(StepIdempotency.created_at).limit(500))).all()
    leases = (await session.scalars(select(ResourceLease).where(ResourceLease.run_id == run_id,
                                                                ResourceLease.released_at.is_(None)))).all()
    pending = (await session.scalars(select(Approval).where(Approval.run_id == run_id, Approval.status == "pending")
                                     .order_by(Approval.created_at))).all()
    jobs = (await session.scalars(select(RunJob).where(RunJob.run_id == run_id).order_by(RunJob.created_at))).all()
    return {
        "run_id": run.run_id, "status": run.status, "error": run.error, "error_message": run.error_message,
        "failed_node_id": failed_node, "last_node_id": run.last_node_id,
        "cancellation_requested": run.cancellation_requested, "retry_of": run.retry_of,
        "retries": counts.get("step_retry", 0), "event_count": sum(counts.values()), "event_counts": counts,
        "step_idempotency": [{"key": s.key, "created_at": s.created_at,
                              "result_preview": _preview(display(s.result))} for s in steps],
        "active_leases": [{"lease_id": lease.lease_id, "resource_key": lease.resource_key,
                           "node_id": lease.node_id, "step_id": lease.step_id,
                           "acquired_at": lease.acquired_at, "expires_at": lease.expires_at} for lease in leases],
        "pending_approvals": [{"approval_id": a.approval_id, "node_id": a.node_id, "prompt": a.prompt,
                               "created_at": a.created_at, "expires_at": a.expires_at} for a in pending],
        "jobs": [{"job_id": j.job_id, "kind": j.kind, "status": j.status, "attempts": j.attempts,
                  "worker_id": j.worker_id, "claimed_at": j.claimed_at, "heartbeat_at": j.heartbeat_at,
                  "finished_at": j.finished_at, "last_error": j.last_error, "created_at": j.created_at}
                 for j in jobs],
    }


def _preview(value: Any, limit: int = 300) -> Any:
    """Small results as they are; big ones as the start of their text."""
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return value if len(text) <= limit else text[:limit] + "…"


async def list_artifacts(session: AsyncSession, run_id: str) -> list[Artifact]:
    await get_run(session, run_id)
    return list((await session.scalars(select(Artifact).where(Artifact.run_id == run_id)
                                       .order_by(Artifact.created_at))).all())


async def get_artifact(session: AsyncSession, run_id: str, artifact_id: str) -> Artifact:
    artifact = await session.get(Artifact, artifact_id)
    if artifact is None or artifact.run_id != run_id:
        raise NotFound(f"artifact {artifact_id!r} of run {run_id!r} not found")
    return artifact


async def record_outcome(session: AsyncSession, run_id: str, outcome: RunOutcome, *,
                         cancel_requested: bool = False, may_have_approvals: bool = True) -> str:
    """Write what a job ended with onto the run (in the worker's transaction); returns the status.

    A run whose cancellation was requested while it ran ends canceled even if it got
    to a gate first. Pending approvals of a finished run are closed.
    """
    status = outcome.status if outcome.status in ("completed", "failed", "waiting_approval", "canceled") \
        else "failed"
    error = outcome.error
    if outcome.status == "running":
        error = {"type": "RunStopped", "message": "the run stopped without finishing or waiting", "retryable": True}
    if status == "waiting_approval" and (cancel_requested or await session.scalar(
            select(Run.cancellation_requested).where(Run.run_id == run_id))):
        status = "canceled"
    now = _now()
    usage = outcome.usage or {}
    error = display(error)  # the runtime reports secrets as references; never a run's reference nonce either
    values: dict[str, Any] = {
        "status": status, "output_vars": display(dict(outcome.outputs or {})),
        "variables": display(dict(outcome.vars or {})),
        "error": error if status == "failed" else None,
        "error_message": (str(error.get("message")) if status == "failed" and error
                          else "canceled by request" if status == "canceled" else None),
        "total_prompt_tokens": int(usage.get("prompt_tokens", 0) or 0),
        "total_completion_tokens": int(usage.get("completion_tokens", 0) or 0),
        "estimated_cost_usd": float(usage.get("cost_usd", 0.0) or 0.0), "updated_at": now}
    if status == "waiting_approval" and outcome.pending:
        values["last_node_id"] = outcome.pending[0].node_id  # where the run waits
    elif outcome.last_node:
        values["last_node_id"] = outcome.last_node
    if status in TERMINAL:
        values["ended_at"] = now
    await session.execute(update(Run).where(Run.run_id == run_id), values)
    if status in TERMINAL and may_have_approvals:
        await _close_pending_approvals(session, run_id, "canceled")
    return status


async def fail_run(session: AsyncSession, run_id: str, error: dict[str, Any]) -> None:
    """Mark a run failed for a reason outside the procedure (it could not be loaded or resumed)."""
    now = _now()
    error = display(error)
    await session.execute(update(Run).where(Run.run_id == run_id, Run.status.in_(ACTIVE))
                          .values(status="failed", error=error, error_message=str(error.get("message")),
                                  ended_at=now, updated_at=now))
    await _close_pending_approvals(session, run_id, "canceled")
