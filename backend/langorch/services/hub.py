"""In-process publish/subscribe, bridged across processes by PostgreSQL LISTEN/NOTIFY.

The hub carries *wake-ups*, never the source of truth: a subscriber that hears a
message re-reads the database when it needs more than the message says. Topics:

    ``jobs``            a run job was queued (workers claim at once instead of polling)
    ``cancel``          ``{"run_id"}``: cancellation was requested for a running run
    ``run:<run_id>``    ``{"run_id", "seq", "events"?}``: events up to ``seq`` are committed;
                        ``events`` (the rows) only in the process that wrote them
    ``runs``            ``{"run_id", "status"}``: a run's status changed
    ``approvals``       ``{"approval_id", "run_id", "action"}``: created / decided / expired /
                        canceled

:class:`PgBridge` forwards every publication to other processes through one NOTIFY
channel (payloads are trimmed to ids, as NOTIFY carries at most 8000 bytes) and
republishes what other processes sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import uuid
from collections.abc import Callable
from typing import Any

__all__ = ["Hub", "PgBridge", "Unsubscribe"]

log = logging.getLogger(__name__)

Message = dict[str, Any]
Callback = Callable[[Message], None]
Unsubscribe = Callable[[], None]

CHANNEL = "langorch_hub"
_REMOTE_KEYS = ("run_id", "seq", "status", "approval_id", "action")


class Hub:
    """Topic → callbacks. Callbacks run synchronously in ``publish`` and must not block."""

    def __init__(self) -> None:
        self._subscribers: dict[str, list[Callback]] = {}
        self.bridge: PgBridge | None = None

    def subscribe(self, topic: str, callback: Callback) -> Unsubscribe:
        """Call ``callback(message)`` for every message on ``topic`` until unsubscribed."""
        self._subscribers.setdefault(topic, []).append(callback)

        def unsubscribe() -> None:
            callbacks = self._subscribers.get(topic)
            if callbacks and callback in callbacks:
                callbacks.remove(callback)
                if not callbacks:
                    del self._subscribers[topic]

        return unsubscribe

    def publish(self, topic: str, message: Message | None = None, *, remote: bool = True) -> None:
        """Deliver to this process's subscribers, and to other processes when bridged."""
        message = message or {}
        self.deliver(topic, message)
        if remote and self.bridge is not None:
            self.bridge.send(topic, message)

    def deliver(self, topic: str, message: Message) -> None:
        for callback in list(self._subscribers.get(topic, ())):
            try:
                callback(message)
            except Exception:  # one broken subscriber must not starve the others
                log.exception("hub subscriber for %s failed", topic)

    def subscribers(self, topic: str) -> int:
        return len(self._subscribers.get(topic, ()))


class PgBridge:
    """LISTEN/NOTIFY on PostgreSQL so that workers and API replicas wake each other.

    One listening connection; notifications are sent from a second connection in
    order. Messages this process sent come back and are ignored by ``origin``. When the
    connection drops, it reconnects with backoff; subscribers fall back to polling
    meanwhile, so nothing is lost, only delayed.
    """

    def __init__(self, hub: Hub, url: str) -> None:
        self.hub = hub
        self.url = url.replace("postgresql+psycopg://", "postgresql://").replace("postgresql+asyncpg://",
                                                                                  "postgresql://")
        self.origin = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self._outbox: asyncio.Queue[str] = asyncio.Queue(maxsize=10_000)
        self._tasks: list[asyncio.Task[None]] = []
        self.connected = asyncio.Event()

    async def start(self) -> None:
        self.hub.bridge = self
        self._tasks = [asyncio.create_task(self._listen(), name="hub-listen"),
                       asyncio.create_task(self._send(), name="hub-notify")]
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.connected.wait(), 5)

    async def stop(self) -> None:
        if self.hub.bridge is self:
            self.hub.bridge = None
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    def send(self, topic: str, message: Message) -> None:
        slim = {k: message[k] for k in _REMOTE_KEYS if k in message}
        payload = json.dumps({"o": self.origin, "t": topic, "m": slim}, default=str)
        try:
            self._outbox.put_nowait(payload)
        except asyncio.QueueFull:  # the others poll as a fallback
            log.warning("hub outbox full; dropping a notification for %s", topic)

    async def _connect(self) -> Any:
        import psycopg

        return await psycopg.AsyncConnection.connect(self.url, autocommit=True)

    async def _listen(self) -> None:
        delay = 0.2
        while True:
            try:
                conn = await self._connect()
                try:
                    await conn.execute(f"LISTEN {CHANNEL}")
                    self.connected.set()
                    delay = 0.2
                    # Anything published while we were not listening is picked up by polling.
                    self.hub.deliver("jobs", {})
                    async for note in conn.notifies():
                        self._receive(note.payload)
                finally:
                    self.connected.clear()
                    await conn.close()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("hub LISTEN connection failed (%s); retrying in %.1fs", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)

    def _receive(self, payload: str) -> None:
        try:
            data = json.loads(payload)
        except ValueError:
            return
        if not isinstance(data, dict) or data.get("o") == self.origin:
            return
        topic, message = data.get("t"), data.get("m")
        if isinstance(topic, str) and isinstance(message, dict):
            self.hub.deliver(topic, message)

    async def _send(self) -> None:
        conn: Any = None
        while True:
            payload = await self._outbox.get()
            batch = [payload]
            while not self._outbox.empty() and len(batch) < 200:
                batch.append(self._outbox.get_nowait())
            for attempt in range(3):
                try:
                    if conn is None or conn.closed:
                        conn = await self._connect()
                    async with conn.transaction():
                        for item in batch:
                            await conn.execute("SELECT pg_notify(%s, %s)", (CHANNEL, item))
                    break
                except asyncio.CancelledError:
                    if conn is not None:
                        await conn.close()
                    raise
                except Exception as exc:
                    log.warning("hub NOTIFY failed (%s)", exc)
                    if conn is not None:
                        with contextlib.suppress(Exception):
                            await conn.close()
                    conn = None
                    await asyncio.sleep(0.1 * (attempt + 1))
