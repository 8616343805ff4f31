"""The PostgreSQL checkpointer, on a connection that is made again when it breaks.

LangGraph's ``AsyncPostgresSaver.from_conn_string`` keeps one connection for the life of
the process: once the server drops it (a restart, a failover, an administrator's
``pg_terminate_backend``, a proxy's idle timeout) every later checkpoint operation fails
with "the connection is closed", and with it every run of the process until it restarts.

Here an operation that fails with an ``OperationalError`` (the connection broke, or the
server is going away) closes the connection; the next attempt connects again and does
the operation again, for up to ``RETRY_FOR_S``, then the error goes to the run. Doing
one again is safe: checkpoint and blob writes are upserts, pending writes are upserts or
``ON CONFLICT DO NOTHING``, the rest read or delete. (A pool was tried first: after
repeated drops its reconnection backoff kept every run waiting until the pool's timeout,
long after the database was back.)
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import psycopg
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import ChannelVersions, Checkpoint, CheckpointMetadata, CheckpointTuple
from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
from psycopg.rows import dict_row

__all__ = ["RETRY_FOR_S", "ReconnectingPostgresSaver", "open_pg_saver"]

log = logging.getLogger(__name__)

T = TypeVar("T")

RETRY_FOR_S = 30.0
"""How long an operation whose connection keeps breaking is tried again before it fails."""
CONNECT_TIMEOUT_S = 5


async def _connect(url: str) -> psycopg.AsyncConnection[Any]:
    return await psycopg.AsyncConnection.connect(url, autocommit=True, prepare_threshold=0,
                                                 row_factory=dict_row, connect_timeout=CONNECT_TIMEOUT_S)


def _pause(attempt: int) -> float:
    return min(1.0, 0.05 * 2.0 ** min(attempt, 5))


class ReconnectingPostgresSaver(AsyncPostgresSaver):
    """``AsyncPostgresSaver`` whose operations survive a dropped connection (see the module)."""

    def __init__(self, conn: psycopg.AsyncConnection[Any], url: str) -> None:
        super().__init__(conn)
        self.url = url
        self._reconnecting = asyncio.Lock()

    async def _usable(self) -> None:
        """Connect again if the connection is closed (one coroutine reconnects, the others wait)."""
        async with self._reconnecting:
            if isinstance(self.conn, psycopg.AsyncConnection) and self.conn.closed:
                self.conn = await _connect(self.url)
                log.warning("checkpointer connected to the database again")

    async def _broken(self, conn: Any) -> None:
        """Close ``conn``, the connection an operation failed on, unless it was replaced already."""
        if conn is self.conn and isinstance(conn, psycopg.AsyncConnection):
            with contextlib.suppress(Exception):
                await conn.close()

    async def _again(self, what: str, operation: Callable[[], Awaitable[T]]) -> T:
        deadline = time.monotonic() + RETRY_FOR_S
        attempt = 0
        while True:
            conn: Any = None  # stays None when connecting failed
            try:
                await self._usable()
                conn = self.conn
                return await operation()
            except psycopg.OperationalError as exc:
                await self._broken(conn)
                attempt += 1
                if time.monotonic() >= deadline:
                    raise
                log.warning("checkpointer %s failed (%s); connecting again", what, str(exc).strip())
                await asyncio.sleep(_pause(attempt))

    async def aget_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        parent = super().aget_tuple
        return await self._again("read", lambda: parent(config))

    async def aput(self, config: RunnableConfig, checkpoint: Checkpoint, metadata: CheckpointMetadata,
                   new_versions: ChannelVersions) -> RunnableConfig:
        parent = super().aput
        return await self._again("write", lambda: parent(config, checkpoint, metadata, new_versions))

    async def aput_writes(self, config: RunnableConfig, writes: Sequence[tuple[str, Any]], task_id: str,
                          task_path: str = "") -> None:
        parent = super().aput_writes
        await self._again("write", lambda: parent(config, writes, task_id, task_path))

    async def adelete_thread(self, thread_id: str) -> None:
        parent = super().adelete_thread
        await self._again("delete", lambda: parent(thread_id))

    async def aget_delta_channel_history(self, *, config: RunnableConfig,
                                         channels: Sequence[str]) -> Mapping[str, Any]:
        parent = super().aget_delta_channel_history
        return await self._again("read", lambda: parent(config=config, channels=channels))

    async def alist(self, config: RunnableConfig | None, *, filter: dict[str, Any] | None = None,
                    before: RunnableConfig | None = None, limit: int | None = None) -> AsyncIterator[CheckpointTuple]:
        # Tried again only while nothing was handed out yet (a reader must not see an item twice).
        deadline = time.monotonic() + RETRY_FOR_S
        attempt = 0
        while True:
            given = False
            conn: Any = None
            try:
                await self._usable()
                conn = self.conn
                async for item in super().alist(config, filter=filter, before=before, limit=limit):
                    given = True
                    yield item
                return
            except psycopg.OperationalError as exc:
                await self._broken(conn)
                attempt += 1
                if given or time.monotonic() >= deadline:
                    raise
                log.warning("checkpointer list failed (%s); connecting again", str(exc).strip())
                await asyncio.sleep(_pause(attempt))


@asynccontextmanager
async def open_pg_saver(url: str) -> AsyncIterator[ReconnectingPostgresSaver]:
    """A :class:`ReconnectingPostgresSaver` on ``url`` (libpq form); its connection is closed at the end."""
    saver = ReconnectingPostgresSaver(await _connect(url), url)
    try:
        yield saver
    finally:
        if isinstance(saver.conn, psycopg.AsyncConnection):
            await saver.conn.close()
