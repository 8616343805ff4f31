"""Resource leases: list them, force-release one, and take one (for executors).

A lease is active while it is neither released nor past ``expires_at``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from langorch.services.errors import NotFound
from langorch.store.models import ResourceLease, utcnow


def active_clause(now: datetime) -> ColumnElement[bool]:
    return ResourceLease.released_at.is_(None) & or_(ResourceLease.expires_at.is_(None),
                                                     ResourceLease.expires_at > now)


def is_active(lease: ResourceLease, now: datetime | None = None) -> bool:
    now = now or utcnow()
    return lease.released_at is None and (lease.expires_at is None or lease.expires_at > now)


async def list_leases(session: AsyncSession, *, include_inactive: bool = False, resource_key: str | None = None,
                      run_id: str | None = None, limit: int = 100,
                      offset: int = 0) -> tuple[list[ResourceLease], int]:
    """Active leases (or all with ``include_inactive``), newest first."""
    stmt = select(ResourceLease)
    if not include_inactive:
        stmt = stmt.where(active_clause(utcnow()))
    if resource_key:
        stmt = stmt.where(ResourceLease.resource_key == resource_key)
    if run_id:
        stmt = stmt.where(ResourceLease.run_id == run_id)
    total = int((await session.execute(select(func.count()).select_from(stmt.subquery()))).scalar_one())
    stmt = stmt.order_by(ResourceLease.acquired_at.desc(), ResourceLease.lease_id).limit(limit).offset(offset)
    return list((await session.execute(stmt)).scalars()), total


async def release(session: AsyncSession, lease_id: str) -> ResourceLease:
    """Force-release: mark released now (a lease already released keeps its time)."""
    row = await session.get(ResourceLease, lease_id)
    if row is None:
        raise NotFound(f"lease {lease_id!r} not found", details={"lease_id": lease_id})
    if row.released_at is None:
        row.released_at = utcnow()
        await session.commit()
    return row


async def try_acquire(session: AsyncSession, resource_key: str, *, run_id: str | None = None,
                      node_id: str | None = None, step_id: str | None = None, ttl_s: float | None = None,
                      max_holders: int = 1) -> ResourceLease | None:
    """Take a lease on ``resource_key`` if fewer than ``max_holders`` are active; None otherwise.

    Holders are serialised per key: a PostgreSQL advisory lock for the transaction, and on
    SQLite the write lock that the first UPDATE takes.
    """
    now = utcnow()
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        await session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": resource_key})
    # Close leases whose time ran out; this is also the write that serialises SQLite writers.
    await session.execute(update(ResourceLease)
                          .where(ResourceLease.resource_key == resource_key, ResourceLease.released_at.is_(None),
                                 ResourceLease.expires_at.is_not(None), ResourceLease.expires_at <= now)
                          .values(released_at=now))
    held = (await session.execute(select(func.count()).select_from(ResourceLease)
                                  .where(ResourceLease.resource_key == resource_key, active_clause(now)))).scalar_one()
    if int(held) >= max_holders:
        await session.commit()
        return None
    lease = ResourceLease(resource_key=resource_key, run_id=run_id, node_id=node_id, step_id=step_id,
                          acquired_at=now, expires_at=now + timedelta(seconds=ttl_s) if ttl_s else None)
    session.add(lease)
    await session.commit()
    return lease
