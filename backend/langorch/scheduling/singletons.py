"""The loops only one process may run at a time — schedules, approval expiry, event
consumers, file watchers — started when this process becomes the leader and stopped when
it stops being one.

A subsystem adds itself to :data:`SINGLETONS` as a factory ``(rt, lease) -> Singleton``;
the lease lets it fence what it does (:meth:`Lease.held`)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from langorch.scheduling.leader import Lease
from langorch.services.runtime_wiring import ServerRuntime

log = logging.getLogger(__name__)
LEASE_NAME = "langorch-singletons"


class Singleton(Protocol):
    name: str

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


SingletonFactory = Callable[[ServerRuntime, Lease], Singleton]


def _registered() -> list[SingletonFactory]:
    from langorch.scheduling.event_bus import EventBusLoop
    from langorch.scheduling.file_watch import FileWatchLoop
    from langorch.scheduling.scheduler import SchedulerLoop
    from langorch.worker.loops import ApprovalExpiryLoop

    return [lambda rt, lease: ApprovalExpiryLoop(rt),
            lambda rt, lease: SchedulerLoop(rt, lease),
            lambda rt, lease: EventBusLoop(rt, lease),
            lambda rt, lease: FileWatchLoop(rt, lease)]


SINGLETONS: list[SingletonFactory] = []
"""Extra singletons (event consumers, file watchers) register here."""


def holder_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class LeaderLoop:
    """Keeps (or waits for) the lease and runs the singletons while it holds it."""

    name = "leader"

    def __init__(self, rt: ServerRuntime, *, holder: str | None = None) -> None:
        settings = rt.settings.scheduler
        self.rt = rt
        self.lease = Lease(rt.sessions, LEASE_NAME, holder or holder_id(), settings.lease_ttl_s)
        self.renew_s = settings.lease_renew_s
        self.running: list[Singleton] = []
        self._task: asyncio.Task[None] | None = None

    async def tick(self, now: datetime | None = None) -> bool:
        try:
            leader = await self.lease.acquire(now)
        except Exception:  # the database is away: act as a follower until it is back
            log.exception("leader lease could not be renewed")
            leader = False
        if leader and not self.running:
            await self._start_all()
        elif not leader and self.running:
            await self._stop_all()
        return leader

    async def _start_all(self) -> None:
        for factory in [*_registered(), *SINGLETONS]:
            singleton = factory(self.rt, self.lease)
            await singleton.start()
            self.running.append(singleton)

    async def _stop_all(self) -> None:
        while self.running:
            singleton = self.running.pop()
            with contextlib.suppress(Exception):
                await singleton.stop()

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._loop(), name=self.name)

    async def _loop(self) -> None:
        while True:
            await self.tick()
            await asyncio.sleep(self.renew_s)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self._stop_all()
        with contextlib.suppress(Exception):
            await self.lease.release()
