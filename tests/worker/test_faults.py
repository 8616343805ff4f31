"""Faults on the real PostgreSQL, against a real ``langorch serve``: a restart while 20 runs
wait for approval (every one can still be decided and completes), and an agent that
answers 500 (its calls are retried, its circuit opens, the other agent of the channel
takes the work and every run completes)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from langorch.store.migrations import async_url
from tests.auth_support import bearer
from tests.fakes.agent_server import FakeAgentServer
from tests.serve_process import Serve

ADMIN = bearer("admin")


@pytest.fixture
def pg_server(tmp_path: Path, pg_url: str) -> Iterator[Serve]:
    server = Serve(tmp_path, {"LANGORCH_DB__URL": async_url(pg_url)})
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _until(http: httpx.Client, run_ids: list[str], status: str, timeout: float = 60) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while True:
        runs = [http.get(f"/api/runs/{run_id}").json() for run_id in run_ids]
        if all(r["status"] == status for r in runs):
            return runs
        assert time.monotonic() < deadline, sorted({r["status"] for r in runs})
        time.sleep(0.2)


GATE = {
    "procedure_id": "gate20", "version": "1.0.0", "status": "active",
    "variables_schema": {"n": {"type": "integer", "default": 0}},
    "workflow_graph": {"start_node": "ask", "nodes": {
        "ask": {"type": "human_approval", "prompt": "Approve {{n}}?", "on_approve": "ok", "on_reject": "no"},
        "ok": {"type": "terminate", "status": "success", "outputs": {"n": "{{n}}"}},
        "no": {"type": "terminate", "status": "failed"}}},
}


def test_twenty_runs_waiting_for_approval_survive_a_restart_and_all_complete(pg_server: Serve) -> None:
    with httpx.Client(base_url=pg_server.url, headers=ADMIN, timeout=10) as http:
        http.post("/api/procedures", json={"ckp_json": GATE}).raise_for_status()
        run_ids = [http.post("/api/runs", json={"procedure_id": "gate20", "input_vars": {"n": n}}).json()["run_id"]
                   for n in range(20)]
        _until(http, run_ids, "waiting_approval")
    pg_server.kill()
    pg_server.start()
    with httpx.Client(base_url=pg_server.url, headers=ADMIN, timeout=10) as http:
        pending = http.get("/api/approvals", params={"status": "pending", "limit": 100}).json()
        assert len(pending) == 20
        for approval in pending:
            answer = http.post(f"/api/approvals/{approval['approval_id']}/decision", json={"decision": "approve"})
            assert answer.status_code == 200, answer.text
        runs = _until(http, run_ids, "completed")
    assert sorted(int(r["output_vars"]["n"]) for r in runs) == list(range(20))


PAY = {
    "procedure_id": "pay_pool", "version": "1.0.0", "status": "active",
    "global_config": {"max_retries": 3, "retry_delay_ms": 50},
    "workflow_graph": {"start_node": "pay", "nodes": {
        "pay": {"type": "sequence", "agent": "PAY", "next_node": "done",
                "steps": [{"step_id": "charge", "action": "charge", "output_variable": "receipt"}]},
        "done": {"type": "terminate", "status": "success", "outputs": {"by": "{{receipt.by}}"}}}},
}


def test_an_agent_answering_500_opens_its_circuit_and_the_other_agent_takes_the_work(pg_server: Serve) -> None:
    with FakeAgentServer({"charge": {"by": "broken"}}, name="broken") as broken, \
            FakeAgentServer({"charge": {"by": "healthy"}}, name="healthy") as healthy, \
            httpx.Client(base_url=pg_server.url, headers=ADMIN, timeout=10) as http:
        broken.fail_next(500, times=1000)
        for agent_id, agent in (("broken", broken), ("healthy", healthy)):
            http.post("/api/agents", json={"agent_id": agent_id, "name": agent_id, "channel": "PAY",
                                           "base_url": agent.url, "pool_id": "payments"}).raise_for_status()
        http.post("/api/procedures", json={"ckp_json": PAY}).raise_for_status()
        run_ids = [http.post("/api/runs", json={"procedure_id": "pay_pool"}).json()["run_id"] for _ in range(8)]
        runs = _until(http, run_ids, "completed")
        first_batch_calls = len(broken.calls)
        # With the circuit open, a second batch never reaches the broken agent.
        later = [http.post("/api/runs", json={"procedure_id": "pay_pool"}).json()["run_id"] for _ in range(8)]
        runs += _until(http, later, "completed")
        agents = {a["agent_id"]: a for a in http.get("/api/agents").json()}
        metrics = http.get("/api/metrics").text
        broken_calls = len(broken.calls)

    assert {r["output_vars"]["by"] for r in runs} == {"healthy"}
    assert agents["broken"]["circuit_state"] == "open" and agents["healthy"]["circuit_state"] == "closed"
    # Three failures open the circuit (calls already on their way when it opens still arrive:
    # the server runs 4 at once); after that the broken agent gets no more calls.
    assert 3 <= first_batch_calls <= 6
    assert broken_calls == first_batch_calls
    assert 'langorch_agent_circuit_open{agent_id="broken",channel="PAY"} 1.0' in metrics
