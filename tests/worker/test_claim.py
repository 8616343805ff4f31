"""The run queue on SQLite and PostgreSQL: a job goes to exactly one claimer, jobs of one
run never run at once, heartbeats renew claims, stalled claims are reclaimed."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
import pytest_asyncio
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from langorch.services import queue
from langorch.store.db import make_engine, make_sessionmaker
from langorch.store.models import Procedure, Run, RunJob, new_id

pytestmark = pytest.mark.asyncio


@pytest_asyncio.fixture
async def engines(db_url: str) -> AsyncIterator[list[AsyncEngine]]:
    """Four engines on one database, as four worker processes would have."""
    made = [make_engine(db_url) for _ in range(4)]
    yield made
    for engine in made:
        await engine.dispose()


async def _runs(sessions: async_sessionmaker[AsyncSession], count: int, jobs_per_run: int = 1,
                status: str = "queued") -> list[str]:
    async with sessions() as session:
        proc = Procedure(procedure_id="p", version="1", status="active", ckp_json={}, ir_hash="h")
        session.add(proc)
        await session.flush()
        run_ids = []
        for _ in range(count):
            run_id = new_id()
            session.add(Run(run_id=run_id, procedure_id="p", procedure_version="1", procedure_row_id=proc.id,
                            ir_hash="h", thread_id=run_id, status=status))
            run_ids.append(run_id)
        await session.flush()
        for run_id in run_ids:
            for k in range(jobs_per_run):
                queue.enqueue(session, run_id, "start" if k == 0 else "resume", {"k": k})
        await session.commit()
    return run_ids


def _pg(url: str) -> bool:
    return url.startswith("postgresql")


async def test_every_job_goes_to_exactly_one_of_many_concurrent_claimers(engines: list[AsyncEngine],
                                                                         db_url: str) -> None:
    factories = [make_sessionmaker(e) for e in engines]
    await _runs(factories[0], 40)
    claimed: list[tuple[str, str]] = []

    async def claimer(index: int) -> None:
        sessions = factories[index % len(factories)]
        while True:
            job = await queue.claim(sessions, f"w{index}", postgres=_pg(db_url))
            if job is None:
                return
            claimed.append((job.job_id, f"w{index}"))

    await asyncio.gather(*(claimer(i) for i in range(8)))

    job_ids = [j for j, _ in claimed]
    assert len(job_ids) == 40 and len(set(job_ids)) == 40
    async with factories[0]() as session:
        rows = (await session.scalars(select(RunJob))).all()
        runs = (await session.scalars(select(Run))).all()
    assert {r.status for r in rows} == {"running"} and all(r.attempts == 1 for r in rows)
    assert {r.job_id: r.worker_id for r in rows} == dict(claimed)
    assert {r.status for r in runs} == {"running"} and all(r.started_at for r in runs)


async def test_jobs_of_one_run_never_run_at_the_same_time(engines: list[AsyncEngine], db_url: str) -> None:
    sessions = make_sessionmaker(engines[0])
    [run_id] = await _runs(sessions, 1, jobs_per_run=3)
    pg = _pg(db_url)

    first = await queue.claim(sessions, "a", postgres=pg)
    others = await asyncio.gather(*(queue.claim(make_sessionmaker(e), "b", postgres=pg) for e in engines))

    assert first is not None and first.run_id == run_id and first.payload == {"k": 0}
    assert others == [None] * len(engines)
    async with sessions() as session:
        assert await queue.finish_job(session, first.job_id, "a")
        await session.commit()
    second = await queue.claim(sessions, "b", postgres=pg)
    assert second is not None and second.payload == {"k": 1}


async def test_concurrent_claimers_serialize_the_jobs_of_each_run(engines: list[AsyncEngine], db_url: str) -> None:
    factories = [make_sessionmaker(e) for e in engines]
    await _runs(factories[0], 5, jobs_per_run=4)
    running: dict[str, str] = {}
    overlaps: list[str] = []
    done = 0

    async def claimer(index: int) -> None:
        nonlocal done
        sessions = factories[index % len(factories)]
        idle = 0
        while done < 20 and idle < 200:
            job = await queue.claim(sessions, f"w{index}", postgres=_pg(db_url))
            if job is None:
                idle += 1
                await asyncio.sleep(0.005)
                continue
            if job.run_id in running:
                overlaps.append(job.run_id)
            running[job.run_id] = job.job_id
            await asyncio.sleep(0.01)
            del running[job.run_id]
            async with sessions() as session:
                assert await queue.finish_job(session, job.job_id, f"w{index}")
                await session.commit()
            done += 1

    await asyncio.gather(*(claimer(i) for i in range(6)))

    assert overlaps == []
    assert done == 20


async def test_heartbeats_renew_and_stalled_claims_are_reclaimed(engines: list[AsyncEngine], db_url: str) -> None:
    sessions = make_sessionmaker(engines[0])
    [run_id] = await _runs(sessions, 1)
    pg = _pg(db_url)
    job = await queue.claim(sessions, "dead", postgres=pg)
    assert job is not None

    assert await queue.heartbeat(sessions, "dead", [job.job_id]) == {job.job_id}
    assert await queue.reclaim_stale(sessions, stale_after_s=60) == []
    async with sessions() as session:
        await session.execute(update(RunJob).values(heartbeat_at=datetime.now(UTC) - timedelta(seconds=120)))
        await session.commit()
    assert await queue.reclaim_stale(sessions, stale_after_s=60) == [run_id]

    again = await queue.claim(sessions, "alive", postgres=pg)
    assert again is not None and again.job_id == job.job_id and again.attempts == 2
    assert await queue.heartbeat(sessions, "dead", [job.job_id]) == set()  # it lost the job
    async with sessions() as session:
        assert not await queue.finish_job(session, job.job_id, "dead")
        assert await queue.finish_job(session, job.job_id, "alive")
        await session.commit()


async def test_a_job_that_keeps_killing_workers_fails_its_run(engines: list[AsyncEngine], db_url: str) -> None:
    sessions = make_sessionmaker(engines[0])
    [run_id] = await _runs(sessions, 1)
    for attempt in range(queue.MAX_ATTEMPTS):
        job = await queue.claim(sessions, f"w{attempt}", postgres=_pg(db_url))
        assert job is not None
        async with sessions() as session:
            await session.execute(update(RunJob).values(heartbeat_at=datetime.now(UTC) - timedelta(seconds=120)))
            await session.commit()
        await queue.reclaim_stale(sessions, stale_after_s=60)

    async with sessions() as session:
        run = await session.get(Run, run_id)
        job_row = (await session.scalars(select(RunJob))).one()
    assert job_row.status == "failed" and run is not None and run.status == "failed"
    assert run.error is not None and run.error["type"] == "WorkerLost"


async def test_jobs_of_finished_runs_are_closed_not_run(engines: list[AsyncEngine], db_url: str) -> None:
    sessions = make_sessionmaker(engines[0])
    await _runs(sessions, 2, status="canceled")

    assert await queue.claim(sessions, "w", postgres=_pg(db_url)) is None

    async with sessions() as session:
        statuses = (await session.scalars(select(RunJob.status))).all()
    assert statuses == ["canceled", "canceled"]


async def test_stats_count_jobs_and_workers(engines: list[AsyncEngine], db_url: str) -> None:
    sessions = make_sessionmaker(engines[0])
    await _runs(sessions, 3)
    await queue.register_worker(sessions, "w1", concurrency=2, embedded=False)
    job = await queue.claim(sessions, "w1", postgres=_pg(db_url))
    assert job is not None
    await queue.heartbeat(sessions, "w1", [job.job_id], concurrency=2)

    async with sessions() as session:
        stats = await queue.queue_stats(session, stale_after_s=30)

    assert stats["jobs"]["queued"] == 2 and stats["jobs"]["running"] == 1
    assert stats["oldest_queued_age_s"] is not None and stats["oldest_queued_age_s"] >= 0
    [worker] = stats["workers"]
    assert worker["worker_id"] == "w1" and worker["running_jobs"] == 1 and worker["alive"] is True
