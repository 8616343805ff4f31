"""Checkpointer factory: a SQLite file path (default) or a PostgreSQL URL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any


def is_postgres(target: str) -> bool:
    return target.startswith(("postgresql://", "postgres://", "postgresql+"))


SETUP_LOCK = 0x4C4F4350  # "LOCP": one process at a time runs the checkpointer's migrations


async def _setup_once(saver: Any, url: str) -> None:
    """``saver.setup()`` under a PostgreSQL advisory lock: servers and workers starting at the
    same moment would otherwise run the same migrations at once and deadlock. The lock is
    polled with ``pg_try_advisory_lock``: a waiter blocked inside ``pg_advisory_lock`` would
    hold a snapshot that the migrations' ``CREATE INDEX CONCURRENTLY`` waits for."""
    import asyncio

    import psycopg

    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as lock:
        while True:
            row = await (await lock.execute("SELECT pg_try_advisory_lock(%s)", (SETUP_LOCK,))).fetchone()
            if row and row[0]:
                break
            await asyncio.sleep(0.2)
        try:
            await saver.setup()
        finally:
            await lock.execute("SELECT pg_advisory_unlock(%s)", (SETUP_LOCK,))


@asynccontextmanager
async def open_checkpointer(target: str) -> AsyncIterator[Any]:
    """``AsyncSqliteSaver`` for a file path; for a PostgreSQL URL, an ``AsyncPostgresSaver``
    whose operations survive a dropped connection."""
    if is_postgres(target):
        # Not LangGraph's own single connection: one dropped connection must not fail every
        # later run of the process (runtime/checkpointer_pg.py).
        from langorch.runtime.checkpointer_pg import open_pg_saver

        url = target.replace("postgresql+psycopg://", "postgresql://").replace("postgresql+asyncpg://",
                                                                               "postgresql://")
        async with open_pg_saver(url) as saver:
            await _setup_once(saver, url)
            yield saver
        return
    import aiosqlite
    from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

    Path(target).parent.mkdir(parents=True, exist_ok=True)
    conn = await aiosqlite.connect(target)
    try:
        await conn.execute("PRAGMA journal_mode=WAL")
        await conn.execute("PRAGMA synchronous=NORMAL")
        sqlite_saver = AsyncSqliteSaver(conn)
        await sqlite_saver.setup()
        yield sqlite_saver
    finally:
        await conn.close()
