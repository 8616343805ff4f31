"""Background loops that keep the queue and the database healthy.

Each is a :class:`LoopService`: ``run_once()`` does one sweep and returns what it did,
so a test drives exactly one tick (with its own ``now``); ``start()`` repeats it every
``interval_s`` until ``stop()``. All of them are safe to run in several processes at
once (every change is a conditional UPDATE).

    ApprovalExpiryLoop       approvals past expires_at get the decision "timeout"
    StaleJobReaper           running jobs whose worker stopped heartbeating go back to the queue
    AlertLoop                run events that raise alerts become deliveries, which are sent
    CheckpointRetentionLoop  checkpoints of runs finished more than checkpoint_retention_days ago
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from abc import ABC, abstractmethod
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, update

from langorch.services import alerts, checkpoints, queue
from langorch.services.approvals import expire_due
from langorch.services.runtime_wiring import ServerRuntime
from langorch.store.models import Run

__all__ = ["AlertLoop", "ApprovalExpiryLoop", "CheckpointRetentionLoop", "LoopService", "StaleJobReaper",
           "default_loops"]

log = logging.getLogger(__name__)


class LoopService(ABC):
    """A periodic job: override :meth:`run_once`."""

    name = "loop"

    def __init__(self, interval_s: float) -> None:
        self.interval_s = interval_s
        self._task: asyncio.Task[None] | None = None

    @abstractmethod
    async def run_once(self, now: datetime | None = None) -> Any:
        """One sweep; ``now`` overrides the clock (tests)."""

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._loop(), name=self.name)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _loop(self) -> None:
        while True:
            try:
                await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception:  # keep sweeping; the next tick may find the database back
                log.exception("%s failed", self.name)
            await asyncio.sleep(self.interval_s)


class ApprovalExpiryLoop(LoopService):
    name = "approval-expiry"

    def __init__(self, rt: ServerRuntime, interval_s: float = 1.0) -> None:
        super().__init__(interval_s)
        self.rt = rt

    async def run_once(self, now: datetime | None = None) -> list[str]:
        return await expire_due(self.rt.sessions, self.rt.hub, now)


class StaleJobReaper(LoopService):
    """Every ``DEAD_CHECK_S``: jobs of workers whose process is gone (their liveness lock is
    free) go back to the queue; every ``stale_after_s / 2`` (at most 10 s): jobs whose
    heartbeat stopped, whatever the reason (a worker alive but stuck)."""

    name = "stale-job-reaper"
    DEAD_CHECK_S = 1.0

    def __init__(self, rt: ServerRuntime, interval_s: float | None = None) -> None:
        stale = rt.settings.worker.stale_after_s
        self.stale_every_s = interval_s or max(0.2, min(stale / 2, 10.0))
        super().__init__(min(self.DEAD_CHECK_S, self.stale_every_s))
        self.rt = rt
        self._next_stale_sweep = 0.0

    async def run_once(self, now: datetime | None = None) -> list[str]:
        run_ids = await queue.reclaim_dead(self.rt.sessions, self.rt.settings.db.url)
        if run_ids:
            log.warning("took over %d job(s) of dead workers: run(s) %s", len(run_ids), ", ".join(run_ids[:10]))
        clock = time.monotonic()
        if clock >= self._next_stale_sweep:
            self._next_stale_sweep = clock + self.stale_every_s
            stalled = await queue.reclaim_stale(self.rt.sessions, self.rt.settings.worker.stale_after_s)
            await queue.forget_workers(self.rt.sessions)
            if stalled:
                log.warning("reclaimed %d stalled job(s) of run(s) %s", len(stalled), ", ".join(stalled[:10]))
            run_ids += stalled
        if run_ids:
            self.rt.hub.publish("jobs")
        return run_ids


class AlertLoop(LoopService):
    """Every second: outbox rows become alert deliveries, and due deliveries are sent
    (services/alerts.py; the claims make it safe in every process)."""

    name = "alerts"

    def __init__(self, rt: ServerRuntime, interval_s: float = 1.0) -> None:
        super().__init__(interval_s)
        services = rt.runner.services
        self.dispatcher = alerts.AlertDispatcher(
            rt.sessions, alerts.Channels(services.notifier, services.mailer), postgres=rt.postgres,
            console_url=rt.settings.notify.console_url, max_attempts=rt.settings.notify.alert_max_attempts)

    async def run_once(self, now: datetime | None = None) -> list[str]:
        await self.dispatcher.process_outbox()
        return await self.dispatcher.deliver_due(now=now)


class CheckpointRetentionLoop(LoopService):
    name = "checkpoint-retention"

    def __init__(self, rt: ServerRuntime, interval_s: float | None = None, batch: int = 200) -> None:
        super().__init__(interval_s or rt.settings.retention.sweep_interval_s)
        self.rt = rt
        self.batch = batch

    async def run_once(self, now: datetime | None = None) -> list[str]:
        now = now or datetime.now(UTC)
        cutoff = now - timedelta(days=self.rt.settings.retention.checkpoint_retention_days)
        async with self.rt.sessions() as session:
            rows = (await session.execute(select(Run.run_id, Run.thread_id).where(
                Run.status.in_(("completed", "failed", "canceled")), Run.ended_at <= cutoff,
                Run.checkpoints_pruned_at.is_(None)).order_by(Run.ended_at).limit(self.batch))).all()
        pruned: list[str] = []
        for run_id, thread_id in rows:
            await checkpoints.delete_thread(self.rt.checkpointer, thread_id)
            pruned.append(run_id)
        if pruned:
            async with self.rt.sessions() as session:
                await session.execute(update(Run).where(Run.run_id.in_(pruned)).values(checkpoints_pruned_at=now))
                await session.commit()
        return pruned


def default_loops(rt: ServerRuntime) -> list[Any]:
    """The loops every process runs; the singletons (schedules, approval expiry…) run under
    the leader lease (scheduling/singletons.py) — in every process, active in one."""
    from langorch.scheduling.singletons import LeaderLoop

    loops: list[Any] = [StaleJobReaper(rt), CheckpointRetentionLoop(rt), AlertLoop(rt)]
    if rt.settings.scheduler.enabled:
        loops.append(LeaderLoop(rt))
    return loops
