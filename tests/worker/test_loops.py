"""The worker and its background loops, one tick at a time, on SQLite and PostgreSQL:
a run goes start → gate → decision → done through the queue; an expired approval gets the
decision "timeout"; checkpoints of old finished runs are pruned; a stalled job is
requeued; a hub bridged by LISTEN/NOTIFY wakes another process."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy import select, update

from langorch.ckp import compile_data
from langorch.services import approvals, queue, runs
from langorch.services.hub import Hub, PgBridge
from langorch.services.runtime_wiring import ServerRuntime, open_runtime
from langorch.settings import DatabaseSettings, RetentionSettings, Settings, WorkerSettings
from langorch.store.db import make_engine, make_sessionmaker
from langorch.store.models import Approval, Procedure, Run, RunJob
from langorch.worker.loops import ApprovalExpiryLoop, CheckpointRetentionLoop, StaleJobReaper
from langorch.worker.worker import Worker

pytestmark = pytest.mark.asyncio

GATE: dict[str, Any] = {
    "procedure_id": "gate", "version": "1.0.0", "status": "active",
    "workflow_graph": {"start_node": "ask", "nodes": {
        "ask": {"type": "human_approval", "prompt": "ok?", "timeout_ms": 3_600_000, "timeout_action": "auto_reject",
                "decision_variable": "verdict", "on_approve": "yes", "on_reject": "no"},
        "yes": {"type": "terminate", "status": "success", "outputs": {"verdict": "{{verdict}}"}},
        "no": {"type": "terminate", "status": "success", "outputs": {"verdict": "{{verdict}}"}},
    }},
}


@pytest_asyncio.fixture
async def rt(db_url: str, tmp_path: Path) -> AsyncIterator[ServerRuntime]:
    checkpoints = None if db_url.startswith("postgresql") else str(tmp_path / "checkpoints.db")
    settings = Settings(db=DatabaseSettings(url=db_url, checkpoint_url=checkpoints),
                        worker=WorkerSettings(heartbeat_s=0.2, stale_after_s=1, poll_interval_s=0.2),
                        retention=RetentionSettings(checkpoint_retention_days=1))
    engine = make_engine(db_url)
    async with AsyncExitStack() as stack:
        stack.push_async_callback(engine.dispose)
        runtime = await open_runtime(settings, make_sessionmaker(engine), stack)
        async with runtime.sessions() as session:
            ir = compile_data(GATE).ir
            assert ir is not None
            session.add(Procedure(procedure_id="gate", version="1.0.0", status="active", ckp_json=GATE,
                                  ir_hash=ir.ir_hash))
            await session.commit()
        yield runtime


async def _start(rt: ServerRuntime) -> str:
    async with rt.sessions() as session:
        run = await runs.create_run(session, rt, procedure_id="gate")
    return run.run_id


async def _run(rt: ServerRuntime, run_id: str) -> Run:
    async with rt.sessions() as session:
        run = await session.get(Run, run_id)
        assert run is not None
        return run


async def test_a_run_goes_through_the_queue_to_its_gate_and_on_after_a_decision(rt: ServerRuntime) -> None:
    worker = Worker(rt, worker_id="w")
    run_id = await _start(rt)

    await worker.drain()
    assert (await _run(rt, run_id)).status == "waiting_approval"
    async with rt.sessions() as session:
        [approval] = (await session.scalars(select(Approval).where(Approval.run_id == run_id))).all()
        await approvals.decide(session, rt, approval.approval_id, approvals.Decision(decision="approve"))
    await worker.drain()

    run = await _run(rt, run_id)
    assert run.status == "completed" and run.output_vars == {"verdict": "approved"}


async def test_expiry_loop_delivers_timeout_to_overdue_approvals(rt: ServerRuntime) -> None:
    worker = Worker(rt, worker_id="w")
    run_id = await _start(rt)
    await worker.drain()
    loop = ApprovalExpiryLoop(rt)

    assert await loop.run_once() == []  # an hour left
    expired = await loop.run_once(now=datetime.now(UTC) + timedelta(hours=2))
    await worker.drain()

    assert len(expired) == 1
    run = await _run(rt, run_id)
    assert run.status == "completed" and run.output_vars == {"verdict": "rejected"}
    async with rt.sessions() as session:
        approval = await session.get(Approval, expired[0])
    assert approval is not None and approval.status == "timed_out" and approval.decided_by == "system"


async def test_retention_prunes_checkpoints_of_old_finished_runs_only(rt: ServerRuntime) -> None:
    worker = Worker(rt, worker_id="w")
    finished, waiting = await _start(rt), await _start(rt)
    await worker.drain()
    async with rt.sessions() as session:
        await runs.cancel_run(session, rt, finished)
    loop = CheckpointRetentionLoop(rt)

    assert await loop.run_once() == []  # finished just now
    pruned = await loop.run_once(now=datetime.now(UTC) + timedelta(days=2))

    assert pruned == [finished]
    assert await rt.checkpointer.aget_tuple({"configurable": {"thread_id": finished}}) is None
    assert await rt.checkpointer.aget_tuple({"configurable": {"thread_id": waiting}}) is not None
    assert (await _run(rt, finished)).checkpoints_pruned_at is not None
    assert await loop.run_once(now=datetime.now(UTC) + timedelta(days=3)) == []


async def test_reaper_requeues_a_stalled_job_and_a_worker_finishes_it(rt: ServerRuntime) -> None:
    run_id = await _start(rt)
    job = await queue.claim(rt.sessions, "dead", postgres=rt.postgres)
    assert job is not None
    async with rt.sessions() as session:
        await session.execute(update(RunJob).values(heartbeat_at=datetime.now(UTC) - timedelta(seconds=30)))
        await session.commit()

    assert await StaleJobReaper(rt).run_once() == [run_id]
    await Worker(rt, worker_id="alive").drain()

    assert (await _run(rt, run_id)).status == "waiting_approval"


async def test_cancel_reaches_a_running_worker_through_the_hub(rt: ServerRuntime) -> None:
    doc = {"procedure_id": "slow", "version": "1", "status": "active", "workflow_graph": {
        "start_node": "nap", "nodes": {
            "nap": {"type": "sequence", "next_node": "done",
                    "steps": [{"step_id": "z", "action": "wait", "duration_ms": 30_000}]},
            "done": {"type": "terminate", "status": "success"}}}}
    ir = compile_data(doc).ir
    assert ir is not None
    async with rt.sessions() as session:
        session.add(Procedure(procedure_id="slow", version="1", status="active", ckp_json=doc, ir_hash=ir.ir_hash))
        await session.commit()
        run = await runs.create_run(session, rt, procedure_id="slow")
    worker = Worker(rt, worker_id="w")
    await worker.start()
    try:
        for _ in range(200):
            if run.run_id in worker.running_runs:
                break
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.2)
        started = asyncio.get_running_loop().time()
        async with rt.sessions() as session:
            await runs.cancel_run(session, rt, run.run_id)
        while (await _run(rt, run.run_id)).status == "running":
            await asyncio.sleep(0.02)
        elapsed = asyncio.get_running_loop().time() - started
    finally:
        await worker.stop()

    assert (await _run(rt, run.run_id)).status == "canceled"
    assert elapsed < 1.0


async def test_a_bridged_hub_hears_other_processes(db_url: str) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("LISTEN/NOTIFY is PostgreSQL's")
    heard: list[dict[str, Any]] = []
    got = asyncio.Event()
    here, there = Hub(), Hub()
    bridges = [PgBridge(here, db_url), PgBridge(there, db_url)]
    for bridge in bridges:
        await bridge.start()
    try:
        there.subscribe("jobs", lambda m: (heard.append(m), got.set()))
        here.publish("jobs", {"run_id": "r1", "events": [{"big": "x" * 10_000}]})
        await asyncio.wait_for(got.wait(), 5)
    finally:
        for bridge in bridges:
            await bridge.stop()

    assert heard == [{"run_id": "r1"}]  # ids only: NOTIFY payloads are small


async def test_cancel_of_a_run_whose_job_waits_to_be_reclaimed_ends_it(rt: ServerRuntime) -> None:
    run_id = await _start(rt)
    assert await queue.claim(rt.sessions, "dead", postgres=rt.postgres) is not None
    async with rt.sessions() as session:
        await session.execute(update(RunJob).values(heartbeat_at=datetime.now(UTC) - timedelta(seconds=30)))
        await session.commit()
    await StaleJobReaper(rt).run_once()  # the run says running, its job is queued again

    async with rt.sessions() as session:
        canceled = await runs.cancel_run(session, rt, run_id)

    assert canceled.status == "canceled"
    async with rt.sessions() as session:
        assert (await session.scalars(select(RunJob.status))).all() == ["canceled"]
    assert await queue.claim(rt.sessions, "alive", postgres=rt.postgres) is None
