"""Checkpointer factory: a SQLite file path (default) or a PostgreSQL URL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any


def is_postgres(target: str) -> bool:
    return target.startswith(("postgresql://", "postgres://", "postgresql+"))


@asynccontextmanager
async def open_checkpointer(target: str) -> AsyncIterator[Any]:
    """``AsyncSqliteSaver`` for a file path, ``AsyncPostgresSaver`` for a PostgreSQL URL."""
    if is_postgres(target):
        from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver

        url = target.replace("postgresql+psycopg://", "postgresql://").replace("postgresql+asyncpg://",
                                                                               "postgresql://")
        async with AsyncPostgresSaver.from_conn_string(url) as saver:
            await saver.setup()
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
