"""The worker: claims run jobs and drives them through the Runner.

One :class:`Worker` runs up to ``concurrency`` jobs at once in its event loop. It claims
as soon as the hub says a job was queued (a new run, a decision), and polls every
``poll_interval_s`` only as a fallback. While it holds jobs it heartbeats them; a job it
no longer holds (reclaimed by another worker after a stall) is abandoned without
recording anything. A job's outcome, its final events and the approvals it opened are
committed in one transaction.

Cancellation reaches a running run through ``is_cancelled`` (checked by the runtime at
every node and step), fed by the hub and by a database check every half second; a step
still running ``cancel_grace_s`` later is interrupted.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import socket
import time
import traceback
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from langorch import logs
from langorch.ckp.ir import ProcedureIR
from langorch.runtime import tracing
from langorch.runtime.ports import RunEvent as PortEvent
from langorch.runtime.runner import ResumeError, RunOutcome
from langorch.services import chains, liveness, metrics, queue
from langorch.services.approvals import known_interrupts, record_pending
from langorch.services.errors import ServiceError
from langorch.services.runs import pinned_ir, record_outcome
from langorch.services.runtime_wiring import ServerRuntime
from langorch.store.models import Procedure, Project, Run

__all__ = ["Worker"]

log = logging.getLogger(__name__)

CANCEL_CHECK_S = 0.5
LIVENESS_CHECK_S = 1.0
"""How often a worker checks it still holds its liveness lock (a dropped lock connection is
noticed at once), and retries taking it while it cannot."""


@dataclass
class _Active:
    job: queue.ClaimedJob
    task: asyncio.Task[None]
    inner: asyncio.Task[RunOutcome] | None = None
    hard_cancelled: bool = False
    lost: bool = False
    started: float = field(default_factory=time.monotonic)


_Loaded = tuple[ProcedureIR, dict[str, Any], list[str], str, str | None, list[str]]
"""What a claimed job runs: IR, inputs, announced interrupts, the key run, the run mode."""


class Worker:
    """Claims and runs jobs; ``start``/``stop`` for a long-running process, ``run_once`` for tests."""

    def __init__(self, rt: ServerRuntime, *, worker_id: str | None = None, concurrency: int | None = None,
                 embedded: bool = False) -> None:
        ws = rt.settings.worker
        self.rt = rt
        self.worker_id = worker_id or f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self.concurrency = concurrency or ws.concurrency
        self.poll_interval_s = ws.poll_interval_s
        self.heartbeat_s = ws.heartbeat_s
        self.cancel_grace_s = ws.cancel_grace_s
        self.embedded = embedded
        self._active: dict[str, _Active] = {}
        self._wake = asyncio.Event()
        self._stopping = False
        self._tasks: list[asyncio.Task[None]] = []
        self._unsubscribe: list[Any] = []
        self._liveness = liveness.for_worker(rt.settings.db.url, self.worker_id)
        self._alive = True
        """False while the liveness lock is lost: others may take this worker's runs, so it claims none."""

    # -- lifecycle -----------------------------------------------------------------------------

    async def start(self) -> None:
        # The liveness lock first: from then on, this process's death frees its runs at once.
        if self._liveness is not None:
            await self._liveness.hold()
        await queue.register_worker(self.rt.sessions, self.worker_id, concurrency=self.concurrency,
                                    embedded=self.embedded,
                                    liveness_kind=self._liveness.kind if self._liveness is not None else None)
        self._unsubscribe = [self.rt.hub.subscribe("jobs", lambda _m: self._wake.set()),
                             self.rt.hub.subscribe("cancel", self._on_cancel)]
        self._tasks = [asyncio.create_task(self._main(), name="worker-claim"),
                       asyncio.create_task(self._heartbeats(), name="worker-heartbeat"),
                       asyncio.create_task(self._cancel_watch(), name="worker-cancel-watch")]
        if self._liveness is not None:
            self._tasks.append(asyncio.create_task(self._liveness_watch(), name="worker-liveness"))
        log.info("worker %s started (concurrency %d)", self.worker_id, self.concurrency)

    async def stop(self, timeout_s: float = 10.0) -> None:
        """Stop claiming, let running jobs finish for ``timeout_s``, then hand the rest back."""
        self._stopping = True
        self._wake.set()
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        running = [a.task for a in self._active.values()]
        if running:
            _done, pending = await asyncio.wait(running, timeout=timeout_s)
            for task in pending:
                task.cancel()
            for task in pending:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        with contextlib.suppress(Exception):
            await queue.unregister_worker(self.rt.sessions, self.worker_id)
        if self._liveness is not None:
            await self._liveness.release()

    @property
    def running_runs(self) -> set[str]:
        return set(self._active)

    def describe(self) -> dict[str, Any]:
        """For /api/health."""
        return {"worker_id": self.worker_id, "running": not self._stopping, "concurrency": self.concurrency,
                "active_jobs": len(self._active), "active_runs": sorted(self._active)}

    async def run_once(self) -> int:
        """Claim jobs until every slot is busy or none is left; returns how many started."""
        started = 0
        while not self._stopping and self._alive and len(self._active) < self.concurrency:
            job = await queue.claim(self.rt.sessions, self.worker_id, postgres=self.rt.postgres,
                                    skip_runs=frozenset(self._active))
            if job is None:
                break
            task = asyncio.create_task(self._execute(job), name=f"job-{job.job_id}")
            self._active[job.run_id] = _Active(job, task)
            task.add_done_callback(functools.partial(self._done, job.run_id))
            started += 1
        return started

    async def drain(self, timeout_s: float = 30.0) -> None:
        """Run jobs until the queue is empty and nothing runs (tests)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            await self.run_once()
            if not self._active:
                if await self.run_once() == 0:
                    return
                continue
            await asyncio.wait([a.task for a in self._active.values()], return_when=asyncio.FIRST_COMPLETED)
        raise TimeoutError("jobs still running after drain timeout")

    def _done(self, run_id: str, _task: object = None) -> None:
        self._active.pop(run_id, None)
        self.rt.cancel_requested.discard(run_id)
        self._wake.set()

    # -- loops -------------------------------------------------------------------------------------

    async def _main(self) -> None:
        while not self._stopping:
            self._wake.clear()
            try:
                await self.run_once()
            except Exception as exc:  # database trouble: back off, then try again
                log.warning("worker %s could not claim: %s", self.worker_id, exc)
                await asyncio.sleep(min(self.poll_interval_s, 1.0))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.poll_interval_s)

    async def _heartbeats(self) -> None:
        while True:
            await asyncio.sleep(self.heartbeat_s)
            try:
                active = dict(self._active)
                held = await queue.heartbeat(self.rt.sessions, self.worker_id,
                                             [a.job.job_id for a in active.values()],
                                             concurrency=self.concurrency, embedded=self.embedded)
            except Exception as exc:
                log.warning("worker %s heartbeat failed: %s", self.worker_id, exc)
                continue
            for run_id, item in active.items():
                if item.job.job_id not in held and not item.task.done() and self._active.get(run_id) is item:
                    log.warning("job %s of run %s was reclaimed by another worker; abandoning it",
                                item.job.job_id, run_id)
                    item.lost = True
                    if item.inner is not None:
                        item.inner.cancel()

    async def _liveness_watch(self) -> None:
        """Keep the liveness lock; while it is lost (its connection broke and could not be
        taken again), claim nothing and abandon the running jobs, which others now take."""
        assert self._liveness is not None
        while True:
            # Returns at once when the lock's connection drops (having taken the lock again if
            # it could): the lock is free only for the moment a connection takes.
            alive = await self._liveness.check(within_s=LIVENESS_CHECK_S)
            if alive != self._alive:
                self._alive = alive
                if alive:
                    log.warning("worker %s holds its liveness lock again; claiming", self.worker_id)
                    self._wake.set()
                else:
                    for run_id, item in list(self._active.items()):
                        log.warning("worker %s lost its liveness lock: abandoning run %s to the other workers",
                                    self.worker_id, run_id)
                        item.lost = True
                        if item.inner is not None:
                            item.inner.cancel()
            if not alive:
                await asyncio.sleep(LIVENESS_CHECK_S)  # before the next attempt to take it

    async def _cancel_watch(self) -> None:
        while True:
            await asyncio.sleep(CANCEL_CHECK_S)
            running = list(self._active)
            if not running:
                continue
            try:
                async with self.rt.sessions() as session:
                    flagged = (await session.scalars(select(Run.run_id).where(
                        Run.run_id.in_(running), Run.cancellation_requested.is_(True)))).all()
            except Exception as exc:
                log.warning("cancel check failed: %s", exc)
                continue
            for run_id in flagged:
                if run_id not in self.rt.cancel_requested:
                    self._on_cancel({"run_id": run_id})

    def _on_cancel(self, message: dict[str, Any]) -> None:
        run_id = str(message.get("run_id"))
        item = self._active.get(run_id)
        if item is None:
            return
        self.rt.cancel_requested.add(run_id)
        asyncio.get_running_loop().call_later(self.cancel_grace_s, self._hard_cancel, run_id, item)

    def _hard_cancel(self, run_id: str, item: _Active) -> None:
        if self._active.get(run_id) is item and item.inner is not None and not item.inner.done():
            item.hard_cancelled = True
            item.inner.cancel()

    # -- one job ---------------------------------------------------------------------------------------

    async def _execute(self, job: queue.ClaimedJob) -> None:
        rt = self.rt
        run_id = job.run_id
        logs.RUN_ID.set(run_id)  # this task's log lines (and the run's, started from it) carry the run
        rt.sink.pin(run_id)
        item = self._active.get(run_id)
        try:
            loaded = await self._load(job)
            if loaded is None:
                return
            ir, run_inputs, known, key_run, mode, hosts = loaded
            log.info("%s job of %s %s (attempt %d)", job.kind, ir.procedure_id, ir.version, job.attempts)
            inner = asyncio.create_task(self._drive(job, ir, run_inputs, known, key_run, mode, hosts))
            if item is None:
                item = self._active.get(run_id)
            if item is not None:
                item.inner = inner
            try:
                outcome = await inner
            except asyncio.CancelledError:
                current = asyncio.current_task()
                if (current is not None and current.cancelling()) or item is None or not (
                        item.hard_cancelled or item.lost):
                    inner.cancel()
                    await self._give_back(job)
                    raise
                if item.lost:
                    return
                await rt.sink.emit(PortEvent(run_id, "run_canceled", {"reason": "canceled by request",
                                                                      "interrupted": True}, ts=time.time()))
                outcome = RunOutcome(run_id, "canceled")
            except Exception as exc:
                # Not a step's failure (those are data): the text may still quote a secret, so it is
                # sealed by the procedure's secrets before it is logged or stored.
                hide = await self.rt.runner.secret_text_filter(ir, run_id)
                log.error("run %s failed inside the runtime: %s", run_id,
                          hide("".join(traceback.format_exception(exc)).rstrip()))
                error = {"type": type(exc).__name__, "message": hide(str(exc) or type(exc).__name__),
                         "retryable": False}
                await rt.sink.emit(PortEvent(run_id, "run_failed", {"error": error, "node_id": None},
                                             ts=time.time()))
                outcome = RunOutcome(run_id, "failed", error=error)
            if item is not None and item.lost:
                return
            await self._finish(job, outcome)
        finally:
            if item is not None and item.lost:
                rt.sink.take_held(run_id)  # the worker that reclaimed the job reports the end
            rt.sink.unpin(run_id)

    async def _load(self, job: queue.ClaimedJob) -> _Loaded | None:
        rt = self.rt
        async with rt.sessions() as session:
            run = await session.get(Run, job.run_id)
            key_run = await _first_of_retries(session, run) if run is not None else job.run_id
            ir = rt.cache.get(run.procedure_row_id, run.ir_hash) if run is not None else None
            row = None
            if run is not None and ir is None and run.procedure_row_id:
                row = await session.get(Procedure, run.procedure_row_id)
            project = await session.get(Project, run.project_id) if run is not None and run.project_id else None
            hosts = [str(h) for h in (project.allowed_hosts or [])] if project is not None else []
            fresh = job.kind == "start" and job.attempts == 1
            known = [] if fresh else await known_interrupts(session, job.run_id)
        if run is not None and fresh:
            metrics.run_started(run.procedure_id, run.trigger_type)
        if run is None:
            await self._close(job, "canceled", "the run was deleted")
            return None
        if run.cancellation_requested:
            rt.cancel_requested.add(job.run_id)
        try:
            if ir is None:
                if row is None:
                    raise ServiceError(f"the procedure version of run {job.run_id!r} was deleted")
                ir = pinned_ir(rt, row, run.ir_hash)
        except ServiceError as exc:
            error = {"type": "ProcedureUnavailable", "message": exc.message, "retryable": False}
            await rt.sink.emit(PortEvent(job.run_id, "run_failed", {"error": error, "node_id": None},
                                         ts=time.time()))
            await self._finish(job, RunOutcome(job.run_id, "failed", error=error))
            return None
        return ir, dict(run.input_vars or {}), known, key_run, run.mode, hosts

    async def _drive(self, job: queue.ClaimedJob, ir: ProcedureIR, inputs: dict[str, Any],
                     known: list[str], key_run: str, mode: str | None, hosts: list[str]) -> RunOutcome:
        """One job of the run, as a span of the run's trace (every job of a run joins it)."""
        with tracing.span(f"run {ir.procedure_id}", context=tracing.run_parent(job.run_id), run_id=job.run_id,
                          procedure_id=ir.procedure_id, procedure_version=ir.version, job=job.kind,
                          attempt=job.attempts):
            return await self._drive_job(job, ir, inputs, known, key_run, mode, hosts)

    async def _drive_job(self, job: queue.ClaimedJob, ir: ProcedureIR, inputs: dict[str, Any],
                         known: list[str], key_run: str, mode: str | None, hosts: list[str]) -> RunOutcome:
        runner = self.rt.runner
        run_id = job.run_id
        cancel_set = self.rt.cancel_requested

        def is_cancelled() -> bool:
            return run_id in cancel_set

        kw: dict[str, Any] = {"is_cancelled": is_cancelled, "known_interrupts": known, "key_run_id": key_run,
                              "mode": mode, "allowed_hosts": hosts}
        if job.kind == "resume":
            decision = job.payload.get("decision")
            try:
                return await runner.resume(ir, run_id, decision, interrupt_id=job.payload.get("interrupt_id"), **kw)
            except ResumeError as exc:
                # Delivered before a crash, or the gate is gone: carry on from where the run is.
                log.info("run %s: decision not delivered (%s); continuing from its checkpoint", run_id, exc)
                return await self._continue(ir, run_id, kw)
        if job.kind == "retry":
            await self.rt.sink.emit(PortEvent(run_id, "run_started", {
                "procedure_id": ir.procedure_id, "version": ir.version, "ir_hash": ir.ir_hash, "inputs": inputs,
                "retry_of": job.payload.get("retry_of"), "from_node": job.payload.get("from_node")},
                ts=time.time()))
            return await self._continue(ir, run_id, kw)
        if job.attempts > 1 and await self._has_checkpoint(run_id):
            await self.rt.sink.emit(PortEvent(run_id, "run_recovered", {"attempt": job.attempts}, ts=time.time()))
            return await self._continue(ir, run_id, kw)
        return await runner.start(ir, run_id, inputs, **kw)

    async def _continue(self, ir: ProcedureIR, run_id: str, kw: dict[str, Any]) -> RunOutcome:
        try:
            return await self.rt.runner.resume(ir, run_id, None, **kw)
        except ResumeError:
            return await self.rt.runner.inspect(ir, run_id)

    async def _has_checkpoint(self, run_id: str) -> bool:
        config = {"configurable": {"thread_id": run_id, "checkpoint_ns": ""}}
        return await self.rt.checkpointer.aget_tuple(config) is not None

    async def _finish(self, job: queue.ClaimedJob, outcome: RunOutcome) -> None:
        """Record the outcome, open approvals and close the job in one transaction."""
        rt = self.rt
        run_id = job.run_id
        await rt.sink.flush()
        held = rt.sink.take_held(run_id)
        for attempt in range(5):
            try:
                async with rt.sessions() as session:
                    if not await queue.finish_job(session, job.job_id, self.worker_id):
                        await session.rollback()
                        log.warning("job %s was reclaimed before it finished; dropping its outcome", job.job_id)
                        return
                    status = await record_outcome(session, run_id, outcome,
                                                  cancel_requested=run_id in rt.cancel_requested,
                                                  may_have_approvals=job.kind != "start" or job.attempts > 1
                                                  or bool(outcome.pending))
                    events = list(held)
                    created: list[str] = []
                    if status == "waiting_approval":
                        created = await record_pending(session, run_id, outcome.pending)
                    elif status == "canceled" and outcome.status != "canceled":
                        events = [e for e in events if e.type != "approval_requested"]
                        events.append(PortEvent(run_id, "run_canceled", {"reason": "canceled by request"},
                                                ts=time.time()))
                    rows = await rt.sink.stage(session, run_id, events)
                    finished = await session.get(Run, run_id)
                    await session.commit()
            except Exception as exc:
                rt.sink.forget(run_id)
                log.warning("recording the outcome of run %s failed (%s); retrying", run_id, exc)
                await asyncio.sleep(0.1 * (attempt + 1))
                continue
            rt.sink.committed(run_id, rows)
            log.info("run is %s", status)
            if finished is not None:
                began = finished.started_at or finished.created_at
                metrics.run_finished(finished.procedure_id, status,
                                     (_utcnow() - _aware(began)).total_seconds() if began else None)
            rt.hub.publish("runs", {"run_id": run_id, "status": status})
            for approval_id in created:
                rt.hub.publish("approvals", {"approval_id": approval_id, "run_id": run_id, "action": "created"})
            if status in chains.ON_STATUSES:  # run_completed triggers of other procedures (once per run)
                await chains.after_run(rt, run_id)
            return
        log.error("could not record the outcome of run %s; its job will be reclaimed", run_id)

    async def _close(self, job: queue.ClaimedJob, status: str, error: str) -> None:
        async with self.rt.sessions() as session:
            await queue.finish_job(session, job.job_id, self.worker_id, status=status, error=error)
            await session.commit()

    async def _give_back(self, job: queue.ClaimedJob) -> None:
        with contextlib.suppress(Exception):
            await asyncio.shield(queue.release_job(self.rt.sessions, job.job_id, self.worker_id))


async def _first_of_retries(session: AsyncSession, run: Run) -> str:
    """The first run of the chain of retries ``run`` belongs to (itself when it is no retry).

    A retry continues its failed run from the failed node, so its steps share that run's
    idempotency records: a step that completed before the failure is not performed again.
    A deleted run in the chain still names the scope its records were written under.
    """
    first = run.run_id
    parent = run.retry_of
    seen = {first}
    while parent and parent not in seen and len(seen) < 1000:
        seen.add(parent)
        first = parent
        parent = await session.scalar(select(Run.retry_of).where(Run.run_id == parent))
    return first


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _aware(at: datetime) -> datetime:
    """SQLite hands back naive UTC datetimes."""
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)
