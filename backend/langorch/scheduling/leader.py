"""Leader election through a lease row: one process at a time runs the singleton loops.

The holder renews the row before ``ttl_s`` runs out; anyone may take it once it has
expired. Every change of holder increments ``token``: a leader checks, in the transaction
of anything it does as leader, that the row still names it with its token
(:meth:`Lease.held`), so a deposed leader that wakes up late cannot act (fencing)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from sqlalchemy import case, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from langorch.store.models import LeaderLease

log = logging.getLogger(__name__)


class Lease:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], name: str, holder: str, ttl_s: float) -> None:
        self.sessions = sessions
        self.name = name
        self.holder = holder
        self.ttl = timedelta(seconds=ttl_s)
        self.token: int | None = None

    async def acquire(self, now: datetime | None = None) -> bool:
        """Take or renew the lease; True while this process is the leader."""
        now = now or datetime.now(UTC)
        async with self.sessions() as session:
            moved = await session.execute(
                update(LeaderLease)
                .where(LeaderLease.name == self.name,
                       (LeaderLease.holder == self.holder) | (LeaderLease.expires_at < now))
                .values(holder=self.holder, expires_at=now + self.ttl,
                        token=case((LeaderLease.holder == self.holder, LeaderLease.token),
                                   else_=LeaderLease.token + 1)))
            if (getattr(moved, "rowcount", 0) or 0) == 0:
                try:
                    await session.execute(insert(LeaderLease).values(name=self.name, holder=self.holder,
                                                                     expires_at=now + self.ttl, token=1))
                except IntegrityError:
                    await session.rollback()
                    self._lost()
                    return False
            token = await session.scalar(select(LeaderLease.token).where(LeaderLease.name == self.name,
                                                                         LeaderLease.holder == self.holder))
            await session.commit()
        if token is None:
            self._lost()
            return False
        if self.token != token:
            log.info("%s: %s is the leader (token %s)", self.name, self.holder, token)
        self.token = int(token)
        return True

    def _lost(self) -> None:
        if self.token is not None:
            log.info("%s: %s is no longer the leader", self.name, self.holder)
        self.token = None

    async def held(self, session: AsyncSession, now: datetime | None = None) -> bool:
        """Whether this process still leads with its token (check it in the transaction that acts)."""
        if self.token is None:
            return False
        now = now or datetime.now(UTC)
        found = await session.scalar(select(LeaderLease.token).where(
            LeaderLease.name == self.name, LeaderLease.holder == self.holder, LeaderLease.token == self.token,
            LeaderLease.expires_at > now))
        return found is not None

    async def release(self) -> None:
        """Give the lease up at a clean stop, so another process takes over at once."""
        if self.token is None:
            return
        async with self.sessions() as session:
            await session.execute(update(LeaderLease).where(
                LeaderLease.name == self.name, LeaderLease.holder == self.holder,
                LeaderLease.token == self.token).values(expires_at=datetime(1970, 1, 1, tzinfo=UTC)))
            await session.commit()
        self.token = None
