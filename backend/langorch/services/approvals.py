"""Approvals: the inbox of human_approval gates, and decisions that resume their runs.

A gate that pauses a run becomes one approval row per LangGraph interrupt id (unique per
run). A decision is recorded and a ``resume`` job carrying ``{interrupt_id, decision}``
is queued in the same transaction, so a decision is never lost and never applied twice:
the row moves from ``pending`` with a conditional UPDATE, and a second decision gets 409
with the first one in its details. Approval states: ``pending → approved | rejected |
timed_out | canceled``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, case, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from langorch.runtime.executors.human_approval import APPROVE, REJECT
from langorch.runtime.runner import PendingApproval
from langorch.services import approval_rules, metrics
from langorch.services.audit import record_system
from langorch.services.errors import Conflict, Invalid, NotFound
from langorch.services.hub import Hub
from langorch.services.queue import enqueue
from langorch.services.runtime_wiring import ServerRuntime
from langorch.store.models import Approval, Run

__all__ = ["ApprovalFilters", "Decision", "decide", "expire_due", "get_approval", "known_interrupts",
           "list_approvals", "record_pending"]

_STATUS_ALIASES = {"approved": "approve", "approve": "approve", "rejected": "reject", "reject": "reject"}


def _now() -> datetime:
    return datetime.now(UTC)


def _expires(request: Mapping[str, Any]) -> datetime | None:
    value = request.get("expires_at")
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(float(value), UTC)
    return None


async def record_pending(session: AsyncSession, run_id: str, pending: Sequence[PendingApproval]) -> list[str]:
    """Create the approvals of newly pending gates (idempotent per interrupt); returns new ids.

    Called in the worker's transaction; one job per run runs at a time, so reading the
    existing interrupts first is race-free.
    """
    if not pending:
        return []
    known = set((await session.scalars(select(Approval.interrupt_id).where(Approval.run_id == run_id))).all())
    created: list[str] = []
    now = _now()
    for gate in pending:
        if gate.interrupt_id in known:
            continue
        request = gate.request
        options = request.get("options")
        context = request.get("context_data")
        approval = Approval(
            run_id=run_id, node_id=gate.node_id or str(request.get("node_id") or ""),
            interrupt_id=gate.interrupt_id, prompt=str(request.get("prompt") or ""),
            decision_type=str(request.get("decision_type") or "approve_reject"),
            options=list(options) if isinstance(options, list | tuple) else None,
            context_data=dict(context) if isinstance(context, Mapping) else None,
            approval_level=str(request["approval_level"]) if request.get("approval_level") else None,
            status="pending", expires_at=_expires(request), created_at=now)
        session.add(approval)
        await session.flush()
        known.add(gate.interrupt_id)
        created.append(approval.approval_id)
    return created


async def known_interrupts(session: AsyncSession, run_id: str) -> list[str]:
    return list((await session.scalars(select(Approval.interrupt_id).where(Approval.run_id == run_id))).all())


@dataclass(frozen=True)
class ApprovalFilters:
    status: Sequence[str] = ()
    run_id: str | None = None
    node_id: str | None = None


def _filtered(query: Select[Any], f: ApprovalFilters) -> Select[Any]:
    if f.status:
        query = query.where(Approval.status.in_(list(f.status)))
    if f.run_id:
        query = query.where(Approval.run_id == f.run_id)
    if f.node_id:
        query = query.where(Approval.node_id == f.node_id)
    return query


async def list_approvals(session: AsyncSession, filters: ApprovalFilters, *, limit: int,
                         offset: int) -> tuple[list[Approval], int]:
    """Pending first, then newest first."""
    total = await session.scalar(_filtered(select(func.count()).select_from(Approval), filters)) or 0
    pending_first = case((Approval.status == "pending", 0), else_=1)
    rows = (await session.scalars(_filtered(select(Approval), filters)
                                  .order_by(pending_first, Approval.created_at.desc(), Approval.approval_id)
                                  .limit(limit).offset(offset))).all()
    return list(rows), int(total)


async def get_approval(session: AsyncSession, approval_id: str) -> Approval:
    approval = await session.get(Approval, approval_id)
    if approval is None:
        raise NotFound(f"approval {approval_id!r} not found", details={"approval_id": approval_id})
    return approval


@dataclass(frozen=True)
class Decision:
    decision: str | None = None
    status: str | None = None
    decided_by: str | None = None
    comment: str | None = None
    payload: Any = None


def _normalize(approval: Approval, d: Decision) -> tuple[str, str]:
    """(decision to deliver, approval status)."""
    raw = d.decision
    if raw is None and d.status is not None:
        raw = _STATUS_ALIASES.get(d.status.strip().lower())
        if raw is None:
            raise Invalid(f"status must be approved or rejected, not {d.status!r}",
                          details=[{"field": "status", "message": "must be approved or rejected"}])
    if raw is None or not str(raw).strip():
        if approval.decision_type == "provide_input" and d.payload is not None:
            return "approve", "approved"
        raise Invalid("a decision is required: approve, reject or one of the options",
                      details=[{"field": "decision", "message": "is required"}])
    text = str(raw).strip()
    low = text.lower()
    if low in REJECT:
        return "reject", "rejected"
    options = {str(o).lower(): str(o) for o in approval.options or ()}
    if approval.decision_type == "select_option" and low in options:
        return options[low], "approved"
    if low in APPROVE:
        return "approve", "approved"
    if approval.decision_type == "provide_input":
        return "approve", "approved"
    allowed = ["approve", "reject", *options.values()]
    raise Invalid(f"decision {text!r} is not one of {allowed}",
                  details=[{"field": "decision", "message": f"must be one of {allowed}"}])


def _first(approval: Approval) -> dict[str, Any]:
    return {"approval_id": approval.approval_id, "status": approval.status, "decision": approval.decision,
            "decided_by": approval.decided_by, "comment": approval.comment,
            "decided_at": approval.decided_at.isoformat() if approval.decided_at else None}


async def decide(session: AsyncSession, rt: ServerRuntime, approval_id: str, d: Decision,
                 decider: approval_rules.Decider | None = None) -> Approval:
    """Record a decision and queue the resume of exactly this gate. ``decider`` (the caller)
    must satisfy the node's approval_level, approvers and approver_groups."""
    approval = await get_approval(session, approval_id)
    if approval.status != "pending":
        raise Conflict(f"approval {approval_id!r} was already decided ({approval.status})",
                       details={"first_decision": _first(approval)})
    if decider is not None:
        approval_rules.check(await approval_rules.gate_rules(session, approval), decider)
    decision, status = _normalize(approval, d)
    now = _now()
    moved = await session.execute(
        update(Approval).where(Approval.approval_id == approval_id, Approval.status == "pending")
        .values(status=status, decision=decision, decided_by=d.decided_by, comment=d.comment,
                payload=_as_payload(d.payload), decided_at=now))
    if (getattr(moved, "rowcount", 0) or 0) == 0:
        await session.rollback()
        await session.refresh(approval)
        raise Conflict(f"approval {approval_id!r} was already decided ({approval.status})",
                       details={"first_decision": _first(approval)})
    enqueue(session, approval.run_id, "resume", {
        "interrupt_id": approval.interrupt_id, "approval_id": approval_id,
        "decision": {"decision": decision, "decided_by": d.decided_by, "comment": d.comment, "input": d.payload}})
    await session.commit()
    await session.refresh(approval)
    if approval.created_at is not None:
        created = approval.created_at if approval.created_at.tzinfo else approval.created_at.replace(tzinfo=UTC)
        metrics.approval_decided(decision, (now - created).total_seconds())
    rt.hub.publish("jobs")
    rt.hub.publish("approvals", {"approval_id": approval_id, "run_id": approval.run_id, "action": "decided"})
    return approval


def _as_payload(value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    return dict(value) if isinstance(value, Mapping) else {"value": value}


async def expire_due(sessions: async_sessionmaker[AsyncSession], hub: Hub, now: datetime | None = None) -> list[str]:
    """Time out pending approvals past ``expires_at``: each gate gets the decision
    ``timeout`` (its node applies its timeout_action). Returns the expired ids."""
    now = now or _now()
    expired: list[tuple[str, str]] = []
    async with sessions() as session:
        due = (await session.execute(select(Approval.approval_id, Approval.run_id, Approval.interrupt_id)
                                     .join(Run, Run.run_id == Approval.run_id)
                                     .where(Approval.status == "pending", Approval.expires_at <= now,
                                            Run.status.in_(("waiting_approval", "running")))
                                     .limit(500))).all()
        for approval_id, run_id, interrupt_id in due:
            moved = await session.execute(
                update(Approval).where(Approval.approval_id == approval_id, Approval.status == "pending")
                .values(status="timed_out", decision="timeout", decided_by="system", decided_at=now))
            if (getattr(moved, "rowcount", 0) or 0) == 0:
                continue
            enqueue(session, run_id, "resume", {
                "interrupt_id": interrupt_id, "approval_id": approval_id,
                "decision": {"decision": "timeout", "decided_by": "system", "comment": "approval expired",
                             "input": None}})
            expired.append((approval_id, run_id))
        # Recorded after every row is locked: the audit lock is the last one this transaction takes.
        for approval_id, run_id in expired:
            await record_system(session, "approval.timeout", subject_type="approval", subject_id=approval_id,
                                details={"run_id": run_id, "decision": "timeout"})
        await session.commit()
    if expired:
        hub.publish("jobs")
        for approval_id, run_id in expired:
            hub.publish("approvals", {"approval_id": approval_id, "run_id": run_id, "action": "expired"})
    return [a for a, _ in expired]
