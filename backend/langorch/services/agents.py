"""Agents: the registry of workers that serve action channels, their health and pools."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from langorch.connectors.agents import AgentHealth, HttpAgentClient
from langorch.services.agent_dispatch import lease_key
from langorch.services.errors import Conflict, NotFound
from langorch.services.leases import active_clause
from langorch.store.models import AgentInstance, ResourceLease, utcnow

HEALTH_TIMEOUT_S = 5.0


class DuplicateAgent(Conflict):
    code = "duplicate_agent"


async def get(session: AsyncSession, agent_id: str) -> AgentInstance:
    row = await session.get(AgentInstance, agent_id)
    if row is None:
        raise NotFound(f"agent {agent_id!r} not found", details={"agent_id": agent_id})
    return row


async def create(session: AsyncSession, fields: dict[str, Any]) -> AgentInstance:
    """Register an agent; ``fields`` are the columns (agent_id optional)."""
    values = {k: v for k, v in fields.items() if v is not None or k == "pool_id"}
    agent_id = values.get("agent_id")
    if agent_id and await session.get(AgentInstance, agent_id) is not None:
        raise DuplicateAgent(f"agent {agent_id!r} already exists", details={"agent_id": agent_id})
    row = AgentInstance(**values)
    session.add(row)
    await session.commit()
    return row


async def list_agents(session: AsyncSession, *, channel: str | None = None, status: str | None = None,
                      pool_id: str | None = None, limit: int = 100,
                      offset: int = 0) -> tuple[list[AgentInstance], int]:
    stmt = select(AgentInstance)
    if channel:
        stmt = stmt.where(AgentInstance.channel == channel.upper())
    if status:
        stmt = stmt.where(AgentInstance.status == status)
    if pool_id:
        stmt = stmt.where(AgentInstance.pool_id == pool_id)
    total = int((await session.execute(select(func.count()).select_from(stmt.subquery()))).scalar_one())
    stmt = stmt.order_by(AgentInstance.channel, AgentInstance.name, AgentInstance.agent_id)
    rows = (await session.execute(stmt.limit(limit).offset(offset))).scalars()
    return list(rows), total


async def update(session: AsyncSession, agent_id: str, changes: dict[str, Any]) -> AgentInstance:
    """Apply the fields present in ``changes``; closing the circuit also clears its failure count."""
    row = await get(session, agent_id)
    for name, value in changes.items():
        if value is None and name != "pool_id":
            continue
        setattr(row, name, value)
    if changes.get("circuit_state") == "closed":
        row.consecutive_failures = 0
        row.circuit_open_until = None
    row.updated_at = utcnow()
    await session.commit()
    return row


async def delete(session: AsyncSession, agent_id: str) -> None:
    row = await get(session, agent_id)
    await session.delete(row)
    await session.commit()


async def check_health(session: AsyncSession, agent_id: str,
                       client: HttpAgentClient | None = None) -> tuple[AgentInstance, AgentHealth]:
    """Probe ``GET {base_url}/health`` and record online/offline (a disabled agent stays disabled)."""
    row = await get(session, agent_id)
    base_url = row.base_url
    # The probe may take seconds: do not hold a database transaction open across it.
    await session.rollback()
    if client is None:
        async with HttpAgentClient() as own:
            health = await own.health(base_url, timeout_s=HEALTH_TIMEOUT_S)
    else:
        health = await client.health(base_url, timeout_s=HEALTH_TIMEOUT_S)
    row = await get(session, agent_id)
    if row.status != "disabled":
        row.status = "online" if health.ok else "offline"
    if health.ok:
        row.last_heartbeat_at = utcnow()
    row.updated_at = utcnow()
    await session.commit()
    return row, health


async def pools(session: AsyncSession) -> list[dict[str, Any]]:
    """Agents grouped by pool_id (agents without a pool are not listed), with their capacity:
    ``active_leases`` (calls in flight, see services/agent_dispatch.py), ``available`` (the
    limits of online members whose circuit is not open, less their active leases) and
    ``circuit_open`` (members whose circuit is open now)."""
    stmt = select(AgentInstance).where(AgentInstance.pool_id.is_not(None)).order_by(
        AgentInstance.pool_id, AgentInstance.name, AgentInstance.agent_id)
    grouped: dict[str, list[AgentInstance]] = {}
    for row in (await session.execute(stmt)).scalars():
        grouped.setdefault(str(row.pool_id), []).append(row)
    now = utcnow()
    held = await _active_leases(session, [m.agent_id for members in grouped.values() for m in members], now)
    out = []
    for pool_id, members in grouped.items():
        channels = sorted({m.channel for m in members})
        open_now = {m.agent_id for m in members if _circuit_open(m, now)}
        serving = [m for m in members if m.status == "online" and m.agent_id not in open_now]
        out.append({
            "pool_id": pool_id,
            "channel": channels[0] if len(channels) == 1 else None,
            "channels": channels,
            "size": len(members),
            "online": sum(1 for m in members if m.status == "online"),
            "concurrency_limit": sum(m.concurrency_limit for m in members),
            "active_leases": sum(held.get(m.agent_id, 0) for m in members),
            "available": sum(max(0, m.concurrency_limit - held.get(m.agent_id, 0)) for m in serving),
            "circuit_open": len(open_now),
            "members": members,
        })
    return out


def _circuit_open(agent: AgentInstance, now: datetime) -> bool:
    """Open and not yet past its open period (the dispatcher tries it again after that)."""
    if agent.circuit_state != "open":
        return False
    return agent.circuit_open_until is None or agent.circuit_open_until > now


async def _active_leases(session: AsyncSession, agent_ids: list[str], now: datetime) -> dict[str, int]:
    if not agent_ids:
        return {}
    keys = {lease_key(agent_id): agent_id for agent_id in agent_ids}
    rows = (await session.execute(
        select(ResourceLease.resource_key, func.count()).where(ResourceLease.resource_key.in_(keys),
                                                              active_clause(now))
        .group_by(ResourceLease.resource_key))).all()
    return {keys[key]: int(count) for key, count in rows}
