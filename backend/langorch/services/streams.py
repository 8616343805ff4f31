"""Live feeds behind the SSE endpoints: a run's timeline and the approvals inbox.

:func:`follow_run` replays a run's events after a given ``seq`` from the database, then
follows new ones as the hub announces them. Events announced by this process carry their
rows and are passed on directly when they continue the sequence; anything else (a gap,
a message from another process, an overflow) sends the reader back to the database. The
result is ordered by ``seq`` with no gaps and no duplicates, and ends after the run's
terminal event.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import Select, func, select

from langorch.services.events import TERMINAL_TYPES, list_events
from langorch.services.hub import Hub
from langorch.services.runtime_wiring import ServerRuntime
from langorch.store.models import Approval, Run, RunEvent

__all__ = ["Feed", "follow_approvals", "follow_run", "run_state"]

PAGE = 500
KEEPALIVE_S = 15.0
TERMINAL_STATES = ("completed", "failed", "canceled")


class Feed:
    """Hub messages of some topics, buffered for one reader."""

    def __init__(self, hub: Hub, *topics: str, maxsize: int = 10_000) -> None:
        self.queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=maxsize)
        self.overflowed = False
        self._unsubscribe = [hub.subscribe(t, self._put) for t in topics]

    def _put(self, message: dict[str, Any]) -> None:
        try:
            self.queue.put_nowait(message)
        except asyncio.QueueFull:  # the reader goes back to the database instead
            self.overflowed = True

    async def next(self, timeout: float) -> dict[str, Any] | None:
        try:
            return await asyncio.wait_for(self.queue.get(), timeout)
        except TimeoutError:
            return None

    def drain(self) -> list[dict[str, Any]]:
        items = []
        while not self.queue.empty():
            items.append(self.queue.get_nowait())
        return items

    def close(self) -> None:
        for unsubscribe in self._unsubscribe:
            unsubscribe()


async def run_state(rt: ServerRuntime, run_id: str) -> tuple[str | None, int]:
    """(status or None when the run is gone, highest seq written)."""
    async with rt.sessions() as session:
        status = await session.scalar(select(Run.status).where(Run.run_id == run_id))
        highest = await session.scalar(select(func.max(RunEvent.seq)).where(RunEvent.run_id == run_id))
    return status, int(highest or 0)


async def follow_run(rt: ServerRuntime, run_id: str, after_seq: int = 0,
                     keepalive_s: float = KEEPALIVE_S) -> AsyncIterator[dict[str, Any]]:
    """Yield ``{"event": <event dict>}`` items, then ``{"end": status}`` once the run is over."""
    feed = Feed(rt.hub, f"run:{run_id}")
    last = after_seq
    try:
        while True:
            # Status first: a finished run's terminal event was committed with its status,
            # so the events read next include it.
            async with rt.sessions() as session:
                status: str | None = await session.scalar(_status_query(run_id))
                rows = await list_events(session, run_id, after_seq=last, limit=PAGE)
            for row in rows:
                yield {"event": row}
                last = row["seq"]
                if row["event_type"] in TERMINAL_TYPES:
                    yield {"end": status}
                    return
            if len(rows) == PAGE:
                continue
            if status is None or status in TERMINAL_STATES:
                yield {"end": status}
                return
            feed.overflowed = False
            while True:
                message = await feed.next(keepalive_s)
                if message is None:
                    break  # quiet for a while: look at the database again
                pending = [message, *feed.drain()]
                events = [e for m in pending for e in (m.get("events") or [])]
                if feed.overflowed or any("events" not in m for m in pending):
                    break
                ended = False
                for row in sorted(events, key=lambda r: r["seq"]):
                    if row["seq"] <= last:
                        continue
                    if row["seq"] != last + 1:
                        break  # a gap: the database has what is missing
                    yield {"event": row}
                    last = row["seq"]
                    if row["event_type"] in TERMINAL_TYPES:
                        ended = True
                        break
                if ended:
                    yield {"end": await _status(rt, run_id)}
                    return
                if events and max(r["seq"] for r in events) > last:
                    break
    finally:
        feed.close()


def _status_query(run_id: str) -> Select[Any]:
    return select(Run.status).where(Run.run_id == run_id)


async def _status(rt: ServerRuntime, run_id: str) -> str | None:
    async with rt.sessions() as session:
        found: str | None = await session.scalar(_status_query(run_id))
        return found


async def follow_approvals(rt: ServerRuntime, keepalive_s: float = KEEPALIVE_S) -> AsyncIterator[dict[str, Any]]:
    """Yield ``{"action", "approval_id", "run_id", "approval": <row or None>}`` for every inbox change;
    ``None`` every ``keepalive_s`` of quiet (the caller may send a ping)."""
    feed = Feed(rt.hub, "approvals")
    try:
        while True:
            message = await feed.next(keepalive_s)
            if message is None:
                continue
            approval_id = message.get("approval_id")
            async with rt.sessions() as session:
                row = await session.get(Approval, approval_id) if approval_id else None
            yield {"action": message.get("action"), "approval_id": approval_id,
                   "run_id": message.get("run_id"), "approval": row}
    finally:
        feed.close()
