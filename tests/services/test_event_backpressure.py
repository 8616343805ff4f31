"""No run event vanishes: while the database cannot take the timeline's writes, the writer
keeps trying and the runs wait (``emit`` blocks past ``max_pending``); once it can, every
event is written, in order, with no gap and no duplicate — on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from langorch.runtime.ports import RunEvent as PortEvent
from langorch.services.events import DbEventSink
from langorch.services.hub import Hub
from langorch.store.models import Run, RunEvent

pytestmark = pytest.mark.asyncio


def _libpq(db_url: str) -> str:
    from langorch.services.liveness import pg_conninfo

    return pg_conninfo(db_url)


@contextmanager
def _writes_blocked(db_url: str) -> Iterator[None]:
    """Another connection holds a lock that stops every write to the events table."""
    if db_url.startswith("sqlite"):
        conn = sqlite3.connect(db_url.split("///", 1)[1], isolation_level=None)
        conn.execute("BEGIN EXCLUSIVE")
        try:
            yield
        finally:
            conn.execute("ROLLBACK")
            conn.close()
        return
    with psycopg.connect(_libpq(db_url)) as conn:
        conn.execute("LOCK TABLE run_events IN ACCESS EXCLUSIVE MODE")
        try:
            yield
        finally:
            conn.rollback()


async def _run(sessions: async_sessionmaker[AsyncSession], run_id: str) -> None:
    async with sessions() as session:
        session.add(Run(run_id=run_id, procedure_id="p", procedure_version="1", ir_hash="h", thread_id=run_id,
                        status="running", input_vars={}))
        await session.commit()


async def _seqs(sessions: async_sessionmaker[AsyncSession], run_id: str) -> list[tuple[int, int]]:
    async with sessions() as session:
        rows = (await session.execute(select(RunEvent.seq, RunEvent.payload).where(RunEvent.run_id == run_id)
                                      .order_by(RunEvent.seq))).all()
    return [(seq, payload["n"]) for seq, payload in rows]


async def test_a_run_waits_while_its_events_cannot_be_written_and_none_is_lost(
        db_url: str, sessions: async_sessionmaker[AsyncSession]) -> None:
    await _run(sessions, "r1")
    sink = DbEventSink(sessions, Hub(), max_pending=10)
    await sink.start()
    try:
        blocked_for = 2.0
        emitted_at: list[float] = []

        async def run() -> None:
            for n in range(1, 41):
                await sink.emit(PortEvent("r1", "log", {"n": n}))
                emitted_at.append(time.monotonic())

        with _writes_blocked(db_url):
            started = time.monotonic()
            task = asyncio.create_task(run())
            await asyncio.sleep(blocked_for)
            assert not task.done(), "the run went on while its events could not be written"
            assert len(emitted_at) <= 11
        await asyncio.wait_for(task, 30)
        await sink.flush()
    finally:
        await sink.stop()

    assert emitted_at[-1] - started >= blocked_for
    assert await _seqs(sessions, "r1") == [(n, n) for n in range(1, 41)]


async def test_events_written_across_dropped_database_connections_have_no_gap_and_no_duplicate(
        db_url: str, sessions: async_sessionmaker[AsyncSession]) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("dropping a server's connections is a PostgreSQL fault")
    await _run(sessions, "r2")
    sink = DbEventSink(sessions, Hub())
    await sink.start()
    try:
        for n in range(1, 101):
            await sink.emit(PortEvent("r2", "log", {"n": n}))
            if n % 25 == 0:
                await asyncio.sleep(0.1)
                with psycopg.connect(_libpq(db_url), autocommit=True) as admin:
                    admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                  "WHERE datname = current_database() AND pid <> pg_backend_pid()")
        await asyncio.wait_for(sink.flush(), 30)
    finally:
        await sink.stop()

    assert await _seqs(sessions, "r2") == [(n, n) for n in range(1, 101)]
