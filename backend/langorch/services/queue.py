"""The durable run queue (``run_jobs``): enqueue, claim, heartbeat, finish, reclaim.

A job is one unit of work on one run: ``start`` it, or ``resume`` it with a decision
(``payload = {"interrupt_id", "decision"}``), or ``retry`` a run whose thread was forked
from a failed run's checkpoint. Job states: ``queued → running → done | failed |
canceled``; a running job goes back to ``queued`` for another worker as soon as its
worker's process is gone (its liveness lock is free: ``services/liveness.py``), and in any
case once its heartbeat is older than ``stale_after_s``.

Claiming is atomic on both databases and never hands two jobs of one run out at once
(resume jobs of parallel gates are serialized per run):

* SQLite: one conditional ``UPDATE … WHERE job_id = (SELECT …) AND status = 'queued'
  RETURNING``; SQLite runs a statement under its single write lock.
* PostgreSQL: ``SELECT … FOR UPDATE SKIP LOCKED`` picks a job no other claimer holds;
  a transaction-scoped advisory lock on the run (``pg_try_advisory_xact_lock``, which
  never waits) admits one claimer per run, which repeats the "no other running job of
  this run" check with a fresh snapshot; so two claimers of jobs of one run serialize.

Lock order is always job row, then run row (claim, finish, cancel), so they cannot
deadlock each other.

Enqueue functions only add to the caller's session; the caller commits, then wakes
workers with ``hub.publish("jobs")``.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import String, bindparam, delete, exists, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import aliased

from langorch.services import liveness
from langorch.store.models import Run, RunJob, Worker, new_id

__all__ = ["ClaimedJob", "claim", "enqueue", "finish_job", "forget_workers", "heartbeat", "queue_stats",
           "reclaim_dead", "reclaim_stale", "register_worker", "release_job", "unregister_worker"]

ACTIVE_RUN_STATES = ("queued", "running", "waiting_approval")
MAX_ATTEMPTS = 5
"""A job whose worker died this many times fails its run instead of killing another worker."""


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class ClaimedJob:
    job_id: str
    run_id: str
    kind: str
    payload: dict[str, Any]
    attempts: int


def enqueue(session: AsyncSession, run_id: str, kind: str = "start",
            payload: dict[str, Any] | None = None) -> RunJob:
    """Add a job to ``session`` (the caller commits)."""
    now = _now()
    job = RunJob(job_id=new_id(), run_id=run_id, kind=kind, payload=payload or {}, status="queued",
                 attempts=0, available_at=now, created_at=now)
    session.add(job)
    return job


# The claim statements are built once: SQLAlchemy then reuses their compiled form, and
# no aliases are re-created per claim (that alone cost milliseconds per job).
_CAND = aliased(RunJob, name="cand")
_OTHER = aliased(RunJob, name="other")
_CANDIDATES = (
    select(_CAND.job_id, _CAND.run_id)
    .where(_CAND.status == "queued", _CAND.available_at <= bindparam("now"),
           ~exists().where(_OTHER.run_id == _CAND.run_id, _OTHER.status == "running"),
           _CAND.run_id.not_in(bindparam("skip", expanding=True)))
    .order_by(_CAND.available_at, _CAND.created_at)
    .limit(1)
)
_TAKE = (update(RunJob)
         .values(status="running", worker_id=bindparam("worker"), attempts=RunJob.attempts + 1,
                 claimed_at=bindparam("now"), heartbeat_at=bindparam("now"))
         .returning(RunJob.job_id, RunJob.run_id, RunJob.kind, RunJob.payload, RunJob.attempts))
_SQLITE_CLAIM = _TAKE.where(RunJob.job_id == _CANDIDATES.with_only_columns(_CAND.job_id).scalar_subquery(),
                            RunJob.status == "queued")
_PG_PICK = _CANDIDATES.with_for_update(of=_CAND, skip_locked=True)
_PG_RUN_LOCK = select(func.pg_try_advisory_xact_lock(func.hashtext(bindparam("run", type_=String))))
_PG_BUSY = select(func.count()).select_from(_OTHER).where(_OTHER.run_id == bindparam("run"),
                                                          _OTHER.status == "running")
_PG_TAKE = _TAKE.where(RunJob.job_id == bindparam("job"), RunJob.status == "queued")
_RUN_STARTS = (update(Run).where(Run.run_id == bindparam("run"), Run.status.in_(ACTIVE_RUN_STATES))
               .values(status="running", started_at=func.coalesce(Run.started_at, bindparam("now")),
                       updated_at=bindparam("now")))
_JOB_OF_FINISHED_RUN = (update(RunJob).where(RunJob.job_id == bindparam("job"))
                        .values(status="canceled", finished_at=bindparam("now"),
                                last_error="the run had already finished"))


async def claim(sessions: async_sessionmaker[AsyncSession], worker_id: str, *,
                postgres: bool = False, skip_runs: frozenset[str] = frozenset()) -> ClaimedJob | None:
    """Take the oldest available job whose run has no running job; None when there is none.

    The run moves to ``running`` in the same transaction. A job of a run that is already
    finished (canceled meanwhile) is closed as ``canceled`` and the next one is tried.
    """
    skip = set(skip_runs)
    for _ in range(20):
        async with sessions() as session:
            if postgres:
                job, busy_run = await _claim_pg(session, worker_id, skip)
            else:
                job, busy_run = await _claim_sqlite(session, worker_id, skip), None
            if job is None:
                await session.rollback()  # releases whatever this attempt locked
                if busy_run is None:
                    return None
                skip.add(busy_run)
                continue
            now = _now()
            moved = await session.execute(_RUN_STARTS, {"run": job.run_id, "now": now})
            if _rowcount(moved) == 0:
                await session.execute(_JOB_OF_FINISHED_RUN, {"job": job.job_id, "now": now})
                await session.commit()
                continue
            await session.commit()
            return job
    return None


def _job(row: Any) -> ClaimedJob:
    return ClaimedJob(row.job_id, row.run_id, row.kind, dict(row.payload or {}), row.attempts)


async def _claim_sqlite(session: AsyncSession, worker_id: str, skip_runs: set[str]) -> ClaimedJob | None:
    row = (await session.execute(_SQLITE_CLAIM, {"now": _now(), "worker": worker_id,
                                                 "skip": list(skip_runs)})).first()
    return _job(row) if row is not None else None


async def _claim_pg(session: AsyncSession, worker_id: str,
                    skip_runs: set[str]) -> tuple[ClaimedJob | None, str | None]:
    """One attempt: (the job, None), or (None, a run to skip next time), or (None, None)."""
    now = _now()
    picked = (await session.execute(_PG_PICK, {"now": now, "skip": list(skip_runs)})).first()
    if picked is None:
        return None, None
    # One claimer per run at a time: a transaction-scoped advisory lock (never waits, so no
    # deadlock), then the "no running job" check again in a statement that starts after
    # the lock was taken — a claimer that held it before has committed by now (READ COMMITTED).
    if not await session.scalar(_PG_RUN_LOCK, {"run": picked.run_id}):
        return None, picked.run_id
    if await session.scalar(_PG_BUSY, {"run": picked.run_id}):
        return None, picked.run_id
    row = (await session.execute(_PG_TAKE, {"job": picked.job_id, "now": now, "worker": worker_id})).first()
    return (_job(row), None) if row is not None else (None, picked.run_id)


def _rowcount(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


async def heartbeat(sessions: async_sessionmaker[AsyncSession], worker_id: str, job_ids: list[str], *,
                    concurrency: int = 1, embedded: bool = False) -> set[str]:
    """Renew this worker's claims; returns the job ids it still holds (others were reclaimed)."""
    now = _now()
    async with sessions() as session:
        held: set[str] = set()
        if job_ids:
            rows = await session.execute(
                update(RunJob).where(RunJob.job_id.in_(job_ids), RunJob.worker_id == worker_id,
                                     RunJob.status == "running")
                .values(heartbeat_at=now).returning(RunJob.job_id))
            held = {r[0] for r in rows}
        seen = await session.execute(update(Worker).where(Worker.worker_id == worker_id)
                                     .values(heartbeat_at=now, running_jobs=len(held), stopped_at=None))
        if _rowcount(seen) == 0:
            session.add(_worker_row(worker_id, concurrency, embedded, now))
        await session.commit()
    return held


def _worker_row(worker_id: str, concurrency: int, embedded: bool, now: datetime) -> Worker:
    return Worker(worker_id=worker_id, hostname=socket.gethostname()[:200], pid=os.getpid(),
                  concurrency=concurrency, running_jobs=0, embedded=embedded, started_at=now, heartbeat_at=now)


async def register_worker(sessions: async_sessionmaker[AsyncSession], worker_id: str, *, concurrency: int,
                          embedded: bool, liveness_kind: str | None = None) -> None:
    """Record the worker (with the kind of liveness lock it holds, taken before this)."""
    async with sessions() as session:
        row = await session.get(Worker, worker_id)
        now = _now()
        if row is None:
            row = _worker_row(worker_id, concurrency, embedded, now)
            session.add(row)
        else:
            row.started_at, row.heartbeat_at, row.stopped_at, row.concurrency = now, now, None, concurrency
        row.liveness = liveness_kind
        await session.commit()


async def unregister_worker(sessions: async_sessionmaker[AsyncSession], worker_id: str) -> None:
    async with sessions() as session:
        await session.execute(update(Worker).where(Worker.worker_id == worker_id)
                              .values(stopped_at=_now(), running_jobs=0))
        await session.commit()


async def finish_job(session: AsyncSession, job_id: str, worker_id: str, *, status: str = "done",
                     error: str | None = None) -> bool:
    """Close a job this worker holds (in the caller's transaction); False if it lost it."""
    result = await session.execute(
        update(RunJob).where(RunJob.job_id == job_id, RunJob.worker_id == worker_id, RunJob.status == "running")
        .values(status=status, finished_at=_now(), last_error=error))
    return _rowcount(result) > 0


async def release_job(sessions: async_sessionmaker[AsyncSession], job_id: str, worker_id: str) -> None:
    """Give a job back to the queue (a worker shutting down mid-job)."""
    async with sessions() as session:
        await session.execute(
            update(RunJob).where(RunJob.job_id == job_id, RunJob.worker_id == worker_id, RunJob.status == "running")
            .values(status="queued", worker_id=None, available_at=_now()))
        await session.commit()


async def reclaim_stale(sessions: async_sessionmaker[AsyncSession], stale_after_s: float) -> list[str]:
    """Requeue running jobs whose worker stopped heartbeating; returns their run ids.

    A job that already killed ``MAX_ATTEMPTS`` workers fails, and so does its run.
    """
    now = _now()
    cutoff = now - timedelta(seconds=stale_after_s)
    async with sessions() as session:
        stale = (RunJob.status == "running") & (func.coalesce(RunJob.heartbeat_at, RunJob.claimed_at) < cutoff)
        run_ids = await _requeue(session, stale, "reclaimed: the worker stopped heartbeating", now)
        await session.commit()
    return run_ids


async def reclaim_dead(sessions: async_sessionmaker[AsyncSession], db_url: str) -> list[str]:
    """Requeue running jobs whose worker's process is gone (its liveness lock is free), at
    once rather than after ``stale_after_s``; returns their run ids."""
    async with sessions() as session:
        holders = (await session.execute(
            select(Worker.worker_id, Worker.liveness).distinct()
            .join(RunJob, RunJob.worker_id == Worker.worker_id)
            .where(RunJob.status == "running", Worker.liveness.is_not(None)))).all()
        if not holders:
            return []
        gone = await liveness.dead(session, [(w, kind) for w, kind in holders], db_url=db_url)
        if not gone:
            await session.rollback()
            return []
        now = _now()
        of_gone = (RunJob.status == "running") & RunJob.worker_id.in_(sorted(gone))
        run_ids = await _requeue(session, of_gone, "reclaimed: the worker's process is gone", now)
        await session.execute(update(Worker).where(Worker.worker_id.in_(sorted(gone)))
                              .values(stopped_at=now, running_jobs=0))
        await session.commit()
    return run_ids


async def _requeue(session: AsyncSession, which: Any, reason: str, now: datetime) -> list[str]:
    """Back to the queue, or failed (with its run) once the job killed ``MAX_ATTEMPTS`` workers."""
    requeued = await session.execute(
        update(RunJob).where(which, RunJob.attempts < MAX_ATTEMPTS)
        .values(status="queued", worker_id=None, available_at=now, last_error=reason)
        .returning(RunJob.run_id))
    run_ids = [r[0] for r in requeued]
    poisoned = await session.execute(
        update(RunJob).where(which, RunJob.attempts >= MAX_ATTEMPTS)
        .values(status="failed", finished_at=now, last_error=f"the job's worker died {MAX_ATTEMPTS} times")
        .returning(RunJob.run_id))
    for (run_id,) in poisoned:
        message = f"the run's worker died {MAX_ATTEMPTS} times while running it"
        await session.execute(
            update(Run).where(Run.run_id == run_id, Run.status.in_(ACTIVE_RUN_STATES))
            .values(status="failed", ended_at=now, updated_at=now, error_message=message,
                    error={"type": "WorkerLost", "message": message, "retryable": True}))
    return run_ids


async def forget_workers(sessions: async_sessionmaker[AsyncSession], older_than_s: float = 86_400) -> int:
    """Drop worker rows not heard of for ``older_than_s`` (queue stats show recent ones)."""
    cutoff = _now() - timedelta(seconds=older_than_s)
    async with sessions() as session:
        result = await session.execute(delete(Worker).where(Worker.heartbeat_at < cutoff))
        await session.commit()
    return _rowcount(result)


async def queue_stats(session: AsyncSession, *, stale_after_s: float) -> dict[str, Any]:
    now = _now()
    counts = {status: n for status, n in
              (await session.execute(select(RunJob.status, func.count()).group_by(RunJob.status))).all()}
    oldest = await session.scalar(select(func.min(RunJob.available_at)).where(RunJob.status == "queued"))
    by_kind = {kind: n for kind, n in (await session.execute(
        select(RunJob.kind, func.count()).where(RunJob.status == "queued").group_by(RunJob.kind))).all()}
    workers = (await session.scalars(select(Worker).order_by(Worker.heartbeat_at.desc()).limit(100))).all()
    running = {worker_id: n for worker_id, n in (await session.execute(
        select(RunJob.worker_id, func.count()).where(RunJob.status == "running").group_by(RunJob.worker_id))).all()}
    return {
        "jobs": {s: int(counts.get(s, 0)) for s in ("queued", "running", "done", "failed", "canceled")},
        "queued_by_kind": by_kind,
        "oldest_queued_age_s": round((now - oldest).total_seconds(), 3) if oldest else None,
        "workers": [{"worker_id": w.worker_id, "hostname": w.hostname, "pid": w.pid, "embedded": w.embedded,
                     "concurrency": w.concurrency, "running_jobs": int(running.get(w.worker_id, 0)),
                     "started_at": w.started_at, "last_heartbeat_at": w.heartbeat_at,
                     "alive": w.stopped_at is None and (now - w.heartbeat_at).total_seconds() < stale_after_s}
                    for w in workers],
    }
