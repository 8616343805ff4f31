"""Liveness and cheap counts for /api/health and /api/metrics."""

from __future__ import annotations

from datetime import UTC

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from langorch.services.leases import active_clause
from langorch.store.models import AgentInstance, Approval, Procedure, ResourceLease, Run, RunJob, utcnow


async def ping(session: AsyncSession) -> str | None:
    """None when the database answers, else why not."""
    try:
        await session.execute(text("SELECT 1"))
    except Exception as exc:  # any driver failure means "db: error", reported, never raised
        return f"{type(exc).__name__}: {exc}"[:500]
    return None


async def _grouped(session: AsyncSession, column: InstrumentedAttribute[str]) -> dict[str, int]:
    stmt = select(column, func.count()).group_by(column)
    return {str(key): int(count) for key, count in (await session.execute(stmt)).all()}


async def counts(session: AsyncSession) -> dict[str, dict[str, int]]:
    """Gauges computed from the database: one grouped COUNT per table."""
    procedures = (await session.execute(select(func.count(), func.count(Procedure.procedure_id.distinct())))).one()
    active = select(func.count()).select_from(ResourceLease).where(active_clause(utcnow()))
    leases = (await session.execute(active)).scalar_one()
    return {
        "runs": await _grouped(session, Run.status),
        "run_jobs": await _grouped(session, RunJob.status),
        "approvals": await _grouped(session, Approval.status),
        "agents": await _grouped(session, AgentInstance.status),
        "procedures": {"versions": int(procedures[0]), "procedures": int(procedures[1])},
        "leases": {"active": int(leases)},
    }


async def queue_age(session: AsyncSession) -> float:
    """Seconds the oldest queued job has waited (0 when none waits)."""
    oldest = await session.scalar(select(func.min(RunJob.available_at)).where(RunJob.status == "queued"))
    if oldest is None:
        return 0.0
    oldest = oldest if oldest.tzinfo else oldest.replace(tzinfo=UTC)
    return max(0.0, (utcnow() - oldest).total_seconds())


async def agent_circuits(session: AsyncSession) -> list[tuple[str, str, str]]:
    """(agent id, channel, circuit state) of every registered agent."""
    rows = await session.execute(select(AgentInstance.agent_id, AgentInstance.channel, AgentInstance.circuit_state))
    return [(str(a), str(c), str(s)) for a, c, s in rows]
