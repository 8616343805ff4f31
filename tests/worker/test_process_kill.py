"""Two ``langorch worker`` processes on PostgreSQL; the one running a run is SIGKILLed in
the middle of it. The other takes the run over as soon as the dead worker's liveness lock
is free (not after the 30 s stale-claim timeout), finishes it from its checkpoint within
10 s of the kill, and the agent sees the side-effecting step exactly once; the interrupted call
is delivered again with the same Idempotency-Key, so an agent honouring it acts once.

The node that was running when the worker died runs again on the survivor: its first
step (charge_card, with an idempotency key) is answered from the step record, its second
(settle_payment, interrupted) is called again."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from langorch.ckp import compile_data
from langorch.services import queue
from langorch.store.db import make_engine, make_sessionmaker
from langorch.store.migrations import async_url
from langorch.store.models import AgentInstance, Procedure, Run, RunEvent, RunJob, new_id
from tests.fakes.agent_server import FakeAgentServer

ROOT = Path(__file__).resolve().parents[2]

CKP: dict[str, Any] = {
    "procedure_id": "charge_then_wait",
    "version": "1.0.0",
    "status": "active",
    "global_config": {"max_retries": 0},
    "variables_schema": {"order": {"type": "string", "default": "A-1"}},
    "workflow_graph": {
        "start_node": "work",
        "nodes": {
            "work": {"type": "sequence", "agent": "PAY", "next_node": "done", "steps": [
                {"step_id": "charge", "action": "charge_card", "order": "{{order}}",
                 "idempotency_key": "charge-{{order}}", "output_variable": "receipt"},
                {"step_id": "settle", "action": "settle_payment", "order": "{{order}}"},
            ]},
            "done": {"type": "terminate", "status": "success", "outputs": {"receipt": "{{receipt}}"}},
        },
    },
}


class Workers:
    """``langorch worker`` subprocesses sharing one database."""

    def __init__(self, url: str, log_dir: Path) -> None:
        self.env = {**os.environ, "LANGORCH_DB__URL": async_url(url), "LANGORCH_WORKER__HEARTBEAT_S": "0.5",
                    "LANGORCH_WORKER__STALE_AFTER_S": "30", "LANGORCH_WORKER__POLL_INTERVAL_S": "0.5",
                    "LANGORCH_WORKER__CONCURRENCY": "2", "PYTHONUNBUFFERED": "1"}
        self.log_dir = log_dir
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, worker_id: str) -> None:
        exe = Path(sys.executable).with_name("langorch")
        log = (self.log_dir / f"{worker_id}.log").open("wb")
        proc = subprocess.Popen([str(exe), "worker", "--worker-id", worker_id, "--log-level", "INFO"],
                                env=self.env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        self.procs[worker_id] = proc
        deadline = time.monotonic() + 30
        while b"ready" not in (self.log_dir / f"{worker_id}.log").read_bytes():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"worker {worker_id} did not start:\n{self.logs(worker_id)}")
            time.sleep(0.1)

    def logs(self, worker_id: str) -> str:
        return (self.log_dir / f"{worker_id}.log").read_text(errors="replace")

    def kill(self, worker_id: str) -> None:
        self.procs[worker_id].send_signal(signal.SIGKILL)
        self.procs[worker_id].wait(10)

    def stop_all(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@pytest.fixture
def agent(tmp_path: Path) -> Iterator[FakeAgentServer]:
    # settle_payment takes 3 s: the worker is killed while it waits for it.
    with FakeAgentServer({"charge_card": {"receipt": "R-1"}}, delays={"settle_payment": 3.0},
                         log_path=tmp_path / "agent-calls.jsonl") as server:
        yield server


async def _queue_run(url: str, agent_url: str) -> str:
    ir = compile_data(CKP).ir
    assert ir is not None
    engine = make_engine(async_url(url))
    sessions = make_sessionmaker(engine)
    run_id = new_id()
    async with sessions() as session:
        proc = Procedure(procedure_id=ir.procedure_id, version=ir.version, status="active", ckp_json=CKP,
                         ir_hash=ir.ir_hash)
        session.add(proc)
        session.add(AgentInstance(name="pay", channel="PAY", base_url=agent_url, status="online"))
        await session.flush()
        session.add(Run(run_id=run_id, procedure_id=ir.procedure_id, procedure_version=ir.version,
                        procedure_row_id=proc.id, ir_hash=ir.ir_hash, thread_id=run_id, status="queued",
                        input_vars={"order": "A-1"}))
        await session.flush()
        queue.enqueue(session, run_id, "start")
        await session.commit()
    await engine.dispose()
    return run_id


async def _state(url: str, run_id: str) -> tuple[Run | None, list[RunJob], list[str]]:
    engine = make_engine(async_url(url))
    async with make_sessionmaker(engine)() as session:
        run = await session.get(Run, run_id)
        jobs = list((await session.scalars(select(RunJob).where(RunJob.run_id == run_id))).all())
        types = list((await session.scalars(select(RunEvent.type).where(RunEvent.run_id == run_id)
                                            .order_by(RunEvent.seq))).all())
    await engine.dispose()
    return run, jobs, types


def _calls(log: Path, action: str) -> list[dict[str, Any]]:
    if not log.exists():
        return []
    calls = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    return [c for c in calls if c.get("action") == action]


def _charges(agent: FakeAgentServer, log: Path) -> list[dict[str, Any]]:
    return _calls(log, "charge_card")


def test_a_killed_workers_run_finishes_on_the_other_without_repeating_the_side_effect(
        pg_url: str, agent: FakeAgentServer, tmp_path: Path) -> None:
    workers = Workers(pg_url, tmp_path)
    log = tmp_path / "agent-calls.jsonl"
    try:
        workers.start("w1")
        workers.start("w2")
        run_id = asyncio.run(_queue_run(pg_url, agent.url))

        deadline = time.monotonic() + 30
        # The side effect happened and the settle call is in flight (it takes 3 s): kill now. (Waiting
        # for the charge alone could kill before settle is sent, between the two agent calls.)
        while not (_charges(agent, log) and _calls(log, "settle_payment")):
            assert time.monotonic() < deadline, workers.logs("w1") + workers.logs("w2")
            time.sleep(0.05)
        _run, jobs, _types = asyncio.run(_state(pg_url, run_id))
        holder = jobs[0].worker_id
        assert holder in ("w1", "w2")
        workers.kill(holder)
        killed_at = time.monotonic()
        survivor = "w2" if holder == "w1" else "w1"

        deadline = time.monotonic() + 40
        while True:
            run, jobs, types = asyncio.run(_state(pg_url, run_id))
            if run is not None and run.status in ("completed", "failed", "canceled"):
                recovered_in = time.monotonic() - killed_at
                break
            assert time.monotonic() < deadline, f"run is {run.status if run else None}\n{workers.logs(survivor)}"
            time.sleep(0.2)
    finally:
        workers.stop_all()

    assert run.status == "completed", (run.error, workers.logs(survivor))
    # The interrupted agent call takes 3 s of it; the claim's stale timeout is 30 s.
    print(f"recovery: the survivor finished {recovered_in:.1f} s after the kill")
    assert recovered_in <= 10, f"the run finished {recovered_in:.1f} s after the kill"
    assert run.output_vars == {"receipt": {"receipt": "R-1"}}
    assert len(_charges(agent, log)) == 1, "the side-effecting step ran twice"
    [job] = jobs
    assert job.worker_id == survivor and job.attempts == 2 and job.status == "done"
    assert "run_recovered" in types and types[-1] == "run_completed"
    # The interrupted call was delivered twice with one Idempotency-Key (also in the body,
    # with the attempt), and the agent, honouring it, performed it once.
    settles = [c for c in agent.calls if c["action"] == "settle_payment"]
    assert len(settles) == 2
    assert settles[0]["idempotency_key_header"] == settles[1]["idempotency_key_header"] is not None
    assert settles[0]["idempotency_key"] == settles[0]["idempotency_key_header"]
    assert [c["attempt"] for c in settles] == [1, 1]
    assert len([c for c in agent.performed if c["action"] == "settle_payment"]) == 1
