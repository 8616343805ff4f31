"""The database-backed event sink: every run's timeline, in order, with no gaps.

``emit`` never blocks the run on the database: events go to one writer task per
process, which writes whatever has accumulated in one transaction (so a burst of events
costs one commit), assigns each run's ``seq`` as it writes (strictly increasing, no
gaps, whichever branch emitted first), then announces the new rows on the hub.

Events that end a job (``run_completed``, ``run_failed``, ``run_canceled``,
``approval_requested``) are *held* for runs a worker has :meth:`pinned <pin>`: the worker
writes them with :meth:`stage` in the same transaction that records the outcome, so a
client that sees ``run_completed`` on the stream finds the run completed.

The ``uq_run_events_run_seq`` constraint is the last line of defence across processes
(a reclaimed run whose first worker is still alive): on a conflict the writer re-reads
the run's highest ``seq`` and writes again.

No event vanishes: a write that fails (the database is down, locked, or dropped the
connection) is retried, with a growing pause, until it succeeds; only the events of a
run that was deleted are let go. Meanwhile runs are held back (backpressure): ``emit``
waits while more than ``max_pending`` events are unwritten or the last write failed, so
a run cannot move on while its timeline has holes.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from langorch.runtime.ports import RunEvent as PortEvent
from langorch.runtime.redaction import display
from langorch.services import metrics
from langorch.services.hub import Hub
from langorch.store.models import AlertEvent, Artifact, Run, RunEvent, new_id

__all__ = ["HELD_TYPES", "TERMINAL_TYPES", "DbEventSink", "event_dict", "list_events"]

log = logging.getLogger(__name__)

TERMINAL_TYPES = frozenset({"run_completed", "run_failed", "run_canceled"})
ALERT_TYPES = frozenset({"run_failed", "sla_breached", "step_error_notification"})
"""Events that may raise alerts: each is also written to the ``alert_events`` outbox in the
same transaction, so an alert is never lost between the event and its delivery (services/alerts.py)."""
HELD_TYPES = TERMINAL_TYPES | {"approval_requested"}
COALESCE_S = 0.05
"""How long the writer lets events accumulate before writing them in one transaction."""
MAX_PENDING = 2000
"""Unwritten events past which ``emit`` waits for the writer (backpressure)."""
RETRY_MAX_S = 5.0
"""The longest pause between two attempts of a failing write."""


def _jsonable(payload: Any) -> dict[str, Any]:
    """The payload as stored: JSON, with secret references in their shown form (the runtime
    already masked values; a run's reference nonce is never written to the timeline either)."""
    try:
        data = json.loads(json.dumps(display(payload), default=str))
    except (TypeError, ValueError):
        data = {"value": display(str(payload))}
    return data if isinstance(data, dict) else {"value": data}


def event_dict(row: RunEvent) -> dict[str, Any]:
    """The API shape of a stored event."""
    return {"run_id": row.run_id, "seq": row.seq, "event_type": row.type, "node_id": row.node_id,
            "step_id": row.step_id, "payload": row.payload,
            "created_at": row.created_at.isoformat() if row.created_at else None}


async def list_events(session: AsyncSession, run_id: str, *, after_seq: int = 0,
                      limit: int = 1000) -> list[dict[str, Any]]:
    rows = (await session.scalars(select(RunEvent).where(RunEvent.run_id == run_id, RunEvent.seq > after_seq)
                                  .order_by(RunEvent.seq).limit(limit))).all()
    return [event_dict(r) for r in rows]


class DbEventSink:
    """The runtime's EventSink port on the ``run_events`` table (one per process)."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], hub: Hub, *,
                 max_pending: int = MAX_PENDING) -> None:
        self.sessions = sessions
        engine = sessions.kw.get("bind")
        if not isinstance(engine, AsyncEngine):
            raise TypeError("the session factory must be bound to an AsyncEngine")
        self.engine = engine
        self.hub = hub
        self._queue: list[PortEvent] = []
        self._wake = asyncio.Event()
        self._next_seq: dict[str, int] = {}
        self._pinned: set[str] = set()
        self._held: dict[str, list[PortEvent]] = {}
        self._enqueued = 0
        self._written = 0
        self._progress = asyncio.Condition()
        self._task: asyncio.Task[None] | None = None
        self._drain_lock = asyncio.Lock()
        self._urgent = asyncio.Event()
        self.max_pending = max_pending
        self._failing = False
        """The last write failed: emitters wait until one succeeds."""

    # -- lifecycle -----------------------------------------------------------------------

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._writer(), name="event-writer")

    async def stop(self) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.flush(), 5)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    # -- the port --------------------------------------------------------------------------

    async def emit(self, event: PortEvent) -> None:
        metrics.observe_event(event)
        held = self._held.get(event.run_id)
        if held is not None or (event.type in HELD_TYPES and event.run_id in self._pinned):
            self._held.setdefault(event.run_id, []).append(event)
            return
        self._queue.append(event)
        self._enqueued += 1
        self._wake.set()
        if self._task is None:  # not started (tests, tools): write through
            await self._drain()
        elif self._failing or self.pending > self.max_pending:
            await self._room()

    @property
    def pending(self) -> int:
        """Events emitted and not written yet."""
        return self._enqueued - self._written

    async def _room(self) -> None:
        """Wait until the writer writes again and the backlog is down to half the limit."""
        self._urgent.set()
        async with self._progress:
            await self._progress.wait_for(lambda: not self._failing and self.pending <= self.max_pending // 2)

    # -- for the worker ----------------------------------------------------------------------

    def pin(self, run_id: str) -> None:
        """A worker runs ``run_id`` here: keep its seq counter and hold its final events."""
        self._pinned.add(run_id)

    def unpin(self, run_id: str) -> None:
        self._pinned.discard(run_id)
        self._next_seq.pop(run_id, None)
        held = self._held.pop(run_id, None)
        if held:  # not staged by the worker (it failed before): write them normally
            self._queue.extend(held)
            self._enqueued += len(held)
            self._wake.set()

    def take_held(self, run_id: str) -> list[PortEvent]:
        return self._held.pop(run_id, [])

    async def flush(self) -> None:
        """Wait until every event emitted before this call is written (events of deleted runs
        are let go)."""
        target = self._enqueued
        if self._task is None:
            await self._drain()
            return
        if self._written >= target:
            return
        self._urgent.set()
        async with self._progress:
            await self._progress.wait_for(lambda: self._written >= target)

    async def stage(self, session: AsyncSession, run_id: str,
                    events: Sequence[PortEvent]) -> list[dict[str, Any]]:
        """Add ``events`` to ``session`` after the run's written ones; call :meth:`committed`
        after the commit (or :meth:`forget` when it failed)."""
        if not events:
            return []
        seq = await self._seq_start(session, run_id)
        rows = [self._values(event, seq + i) for i, event in enumerate(events)]
        await session.execute(insert(RunEvent), rows)
        artifacts = self._artifact_rows(events)
        if artifacts:
            await session.execute(insert(Artifact), artifacts)
        outbox = _alert_rows(rows)
        if outbox:
            await session.execute(insert(AlertEvent), outbox)
        return rows

    def committed(self, run_id: str, rows: Sequence[dict[str, Any]]) -> None:
        if rows:
            if run_id in self._pinned:
                self._next_seq[run_id] = rows[-1]["seq"] + 1
            self._announce(run_id, list(rows))

    def forget(self, run_id: str) -> None:
        self._next_seq.pop(run_id, None)

    # -- writing -------------------------------------------------------------------------------

    async def _writer(self) -> None:
        while True:
            await self._wake.wait()
            # Let a burst accumulate so that it costs one commit (a node emits several
            # events within a millisecond); a flush does not wait.
            if not self._urgent.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._urgent.wait(), COALESCE_S)
            self._wake.clear()
            self._urgent.clear()
            await self._drain()

    async def _drain(self) -> None:
        async with self._drain_lock:
            while self._queue:
                batch, self._queue = self._queue, []
                await self._write_batch(batch)
                self._written += len(batch)
                async with self._progress:
                    self._progress.notify_all()

    async def _write_batch(self, batch: list[PortEvent]) -> None:
        """Write ``batch`` whatever it takes: a failed write is retried until it succeeds."""
        failures = 0
        while True:
            try:
                written = await self._insert(batch)
            except IntegrityError:
                # Another process wrote events of one of these runs, or a run is gone.
                for run_id in {e.run_id for e in batch}:
                    self._next_seq.pop(run_id, None)
                try:
                    batch = await self._existing_runs(batch)
                except SQLAlchemyError as exc:
                    failures = await self._failed(batch, exc, failures)
                continue
            except (SQLAlchemyError, OSError) as exc:
                failures = await self._failed(batch, exc, failures)
                continue
            if self._failing:
                log.warning("run events are written again after %d failed attempt(s)", failures)
                self._failing = False
            for run_id, rows in written.items():
                self._announce(run_id, rows)
            return

    async def _failed(self, batch: list[PortEvent], exc: Exception, failures: int) -> int:
        """Note a failed write (runs now wait: backpressure) and pause before the next try."""
        failures += 1
        if not self._failing or failures % 20 == 0:
            log.error("writing %d run events failed (attempt %d, %s); runs wait until they are written",
                      len(batch), failures, exc)
        self._failing = True
        for run_id in {e.run_id for e in batch}:
            self._next_seq.pop(run_id, None)
        await asyncio.sleep(min(RETRY_MAX_S, 0.05 * 2 ** min(failures, 10)))
        return failures

    async def _insert(self, batch: list[PortEvent]) -> dict[str, list[dict[str, Any]]]:
        by_run: dict[str, list[PortEvent]] = {}
        for event in batch:
            by_run.setdefault(event.run_id, []).append(event)
        written: dict[str, list[dict[str, Any]]] = {}
        async with self.engine.begin() as conn:
            for run_id, events in by_run.items():
                start = self._next_seq.get(run_id)
                if start is None:
                    highest = await conn.scalar(select(func.max(RunEvent.seq)).where(RunEvent.run_id == run_id))
                    start = int(highest or 0) + 1
                written[run_id] = [self._values(e, start + i) for i, e in enumerate(events)]
            await conn.execute(insert(RunEvent), [r for rows in written.values() for r in rows])
            artifacts = self._artifact_rows(batch)
            if artifacts:
                await conn.execute(insert(Artifact), artifacts)
            outbox = _alert_rows([r for rows in written.values() for r in rows])
            if outbox:
                await conn.execute(insert(AlertEvent), outbox)
        for run_id, rows_of_run in written.items():
            if run_id in self._pinned:
                self._next_seq[run_id] = rows_of_run[-1]["seq"] + 1
            else:
                self._next_seq.pop(run_id, None)
        return written

    async def _seq_start(self, session: AsyncSession, run_id: str) -> int:
        cached = self._next_seq.get(run_id)
        if cached is not None:
            return cached
        highest = await session.scalar(select(func.max(RunEvent.seq)).where(RunEvent.run_id == run_id))
        return int(highest or 0) + 1

    async def _existing_runs(self, batch: list[PortEvent]) -> list[PortEvent]:
        run_ids = {e.run_id for e in batch}
        async with self.sessions() as session:
            found = set((await session.scalars(select(Run.run_id).where(Run.run_id.in_(run_ids)))).all())
        dropped = len([e for e in batch if e.run_id not in found])
        if dropped:
            log.info("dropping %d events of deleted runs", dropped)
        return [e for e in batch if e.run_id in found]

    @staticmethod
    def _values(event: PortEvent, seq: int) -> dict[str, Any]:
        created = datetime.fromtimestamp(event.ts, UTC) if event.ts else datetime.now(UTC)
        return {"run_id": event.run_id, "seq": seq, "type": event.type, "node_id": event.node_id,
                "step_id": event.step_id, "payload": _jsonable(dict(event.payload)), "created_at": created}

    @staticmethod
    def _artifact_rows(events: Iterable[PortEvent]) -> list[dict[str, Any]]:
        """``artifact_created`` events ({name, uri|path, mime_type?, size?}) become artifact rows."""
        rows = []
        for event in events:
            if event.type != "artifact_created":
                continue
            p = event.payload
            uri = p.get("uri") or p.get("path")
            if not isinstance(uri, str) or not uri:
                continue
            size = p.get("size")
            rows.append({"artifact_id": new_id(), "run_id": event.run_id, "node_id": event.node_id,
                         "step_id": event.step_id, "name": str(p.get("name") or uri.rsplit("/", 1)[-1])[:400],
                         "mime_type": str(p.get("mime_type") or "application/octet-stream")[:200],
                         "size": int(size) if isinstance(size, int | float) else 0, "uri": uri,
                         "created_at": datetime.now(UTC)})
        return rows

    def _announce(self, run_id: str, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        topic = f"run:{run_id}"
        if self.hub.bridge is None and not self.hub.subscribers(topic):
            return
        self.hub.publish(topic, {"run_id": run_id, "seq": rows[-1]["seq"], "events": [_public(r) for r in rows]})


def _alert_rows(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"run_id": r["run_id"], "seq": r["seq"], "type": r["type"], "created_at": r["created_at"]}
            for r in rows if r["type"] in ALERT_TYPES]


def _public(row: dict[str, Any]) -> dict[str, Any]:
    created = row["created_at"]
    return {"run_id": row["run_id"], "seq": row["seq"], "event_type": row["type"], "node_id": row["node_id"],
            "step_id": row["step_id"], "payload": row["payload"],
            "created_at": created.isoformat() if created else None}
