"""A worker's liveness lock: held while its process lives, free the moment it dies (kill -9
included), so its jobs go back to the queue at once instead of after ``stale_after_s``."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from langorch.services import liveness, queue
from langorch.store.db import make_engine, make_sessionmaker
from langorch.store.models import Run, RunJob, Worker, new_id

pytestmark = pytest.mark.asyncio

HOLDER = textwrap.dedent("""
    import asyncio, sys
    from langorch.services import liveness

    async def main():
        lock = liveness.for_worker(sys.argv[1], sys.argv[2])
        await lock.hold()
        print("held", flush=True)
        await asyncio.sleep(120)

    asyncio.run(main())
""")


def _holder(db_url: str, worker_id: str) -> subprocess.Popen[str]:
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, db_url, worker_id], stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    return proc


async def _dead(db_url: str, *workers: tuple[str, str | None]) -> set[str]:
    engine = make_engine(db_url)
    try:
        async with make_sessionmaker(engine)() as session:
            return await liveness.dead(session, workers, db_url=db_url)
    finally:
        await engine.dispose()


async def test_a_live_workers_lock_is_held_and_kill_9_frees_it(db_url: str) -> None:
    lock = liveness.for_worker(db_url, "probe")
    assert lock is not None
    proc = _holder(db_url, "w-alive")
    try:
        assert await _dead(db_url, ("w-alive", lock.kind)) == set()
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        deadline = time.monotonic() + 5  # PostgreSQL ends the backend as soon as the socket closes
        while await _dead(db_url, ("w-alive", lock.kind)) != {"w-alive"}:
            assert time.monotonic() < deadline, "the dead worker's lock is still held"
    finally:
        if proc.poll() is None:
            proc.kill()


async def test_a_second_process_cannot_take_a_live_workers_id(db_url: str) -> None:
    proc = _holder(db_url, "w-taken")
    try:
        lock = liveness.for_worker(db_url, "w-taken")
        assert lock is not None
        with pytest.raises(RuntimeError, match="in use by a live process"):
            await lock.hold()
    finally:
        proc.kill()
        proc.wait(10)


async def test_a_worker_without_a_lock_kind_is_judged_by_its_heartbeat_only(db_url: str) -> None:
    assert await _dead(db_url, ("w-old", None)) == set()


async def test_the_jobs_of_a_dead_worker_go_back_at_once_and_a_live_ones_stay(db_url: str) -> None:
    engine = make_engine(db_url)
    sessions = make_sessionmaker(engine)
    kind = liveness.for_worker(db_url, "x")
    assert kind is not None
    alive = _holder(db_url, "w-live")
    gone = _holder(db_url, "w-gone")
    gone.kill()
    gone.wait(10)
    now = datetime.now(UTC)
    try:
        async with sessions() as session:
            for worker_id in ("w-live", "w-gone"):
                session.add(Worker(worker_id=worker_id, liveness=kind.kind, heartbeat_at=now))
                run_id = new_id()
                session.add(Run(run_id=run_id, procedure_id="p", procedure_version="1", ir_hash="x" * 64,
                                thread_id=run_id, status="running"))
                session.add(RunJob(job_id=new_id(), run_id=run_id, kind="start", status="running",
                                   worker_id=worker_id, claimed_at=now, heartbeat_at=now, attempts=1))
            await session.commit()

        deadline = time.monotonic() + 5
        requeued: list[str] = []
        while not requeued:
            requeued = await queue.reclaim_dead(sessions, db_url)
            assert time.monotonic() < deadline

        async with sessions() as session:
            jobs = {j.worker_id or "queued": j.status for j in (await session.scalars(select(RunJob))).all()}
            stopped = (await session.get(Worker, "w-gone"))
        assert len(requeued) == 1
        assert jobs == {"w-live": "running", "queued": "queued"}
        assert stopped is not None and stopped.stopped_at is not None
    finally:
        alive.kill()
        alive.wait(10)
        await engine.dispose()
