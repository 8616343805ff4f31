"""Side effects run once: explicit idempotency keys across runs, implicit step keys when
a node is re-run after a crash, and fresh keys for every loop iteration."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import aiosqlite
import pytest
import pytest_asyncio

from langorch.connectors.agents import HttpAgentClient
from langorch.connectors.local_state import SqliteStepStore
from langorch.runtime.checkpointer import open_checkpointer
from tests.fakes.agent_server import FakeAgentServer
from tests.runtime.harness import Harness, ckp, compile_ok, end, seq


@pytest_asyncio.fixture
async def agents(fake_agent: FakeAgentServer) -> AsyncIterator[HttpAgentClient]:
    async with HttpAgentClient({"EMAIL": fake_agent.url, "API": fake_agent.url}) as client:
        yield client


def _invoice_doc(**step: object) -> dict[str, object]:
    return ckp({
        "send": seq({"step_id": "mail", "action": "send_email", "recipients": ["{{customer}}"],
                     "subject": "Invoice {{invoice}}", "output_variable": "sent", **step}, agent="EMAIL",
                    next_node="done"),
        "done": end(),
    }, variables={"invoice": {"type": "string"}, "customer": {"type": "string"}})


@pytest.mark.asyncio
async def test_step_with_idempotency_key_runs_once_across_runs(fake_agent: FakeAgentServer,
                                                               agents: HttpAgentClient) -> None:
    fake_agent.set_result("send_email", {"message_id": "m-1"})
    h = Harness(agents=agents)
    ir = compile_ok(_invoice_doc(idempotency_key="invoice-{{invoice}}"))

    first = await h.run(ir, {"invoice": "INV-7", "customer": "a@x.test"}, run_id="r1")
    second = await h.run(ir, {"invoice": "INV-7", "customer": "a@x.test"}, run_id="r2")

    assert first.status == second.status == "completed"
    assert len(fake_agent.calls) == 1
    assert second.vars["sent"] == {"message_id": "m-1"}
    cached = [e for e in h.events.of("step_completed") if e.run_id == "r2"]
    assert cached[0].payload["cached"] is True


@pytest.mark.asyncio
async def test_a_different_idempotency_key_runs_again(fake_agent: FakeAgentServer, agents: HttpAgentClient) -> None:
    h = Harness(agents=agents)
    ir = compile_ok(_invoice_doc(idempotency_key="invoice-{{invoice}}"))

    await h.run(ir, {"invoice": "INV-7", "customer": "a@x.test"}, run_id="r1")
    await h.run(ir, {"invoice": "INV-8", "customer": "a@x.test"}, run_id="r2")

    assert len(fake_agent.calls) == 2


@pytest.mark.asyncio
async def test_node_idempotency_key_covers_each_of_its_steps(fake_agent: FakeAgentServer,
                                                             agents: HttpAgentClient) -> None:
    h = Harness(agents=agents)
    ir = compile_ok(ckp({
        "post": seq({"step_id": "a", "action": "bulk_insert", "table": "t1"},
                    {"step_id": "b", "action": "bulk_update", "table": "t2"},
                    agent="API", idempotency_key="batch-{{batch}}", next_node="done"),
        "done": end(),
    }, variables={"batch": {"type": "string"}}))

    await h.run(ir, {"batch": "B1"}, run_id="r1")
    await h.run(ir, {"batch": "B1"}, run_id="r2")

    assert [c["action"] for c in fake_agent.calls] == ["bulk_insert", "bulk_update"]


@pytest.mark.asyncio
async def test_without_a_key_each_run_and_each_loop_iteration_executes(fake_agent: FakeAgentServer,
                                                                       agents: HttpAgentClient) -> None:
    h = Harness(agents=agents)
    ir = compile_ok(ckp({
        "each": {"type": "loop", "iterator": "rows", "body_node": "write", "next_node": "done"},
        "write": seq({"action": "bulk_insert", "row": "{{item}}"}, agent="API"),
        "done": end(),
    }, variables={"rows": {"type": "array"}}))

    await h.run(ir, {"rows": [1, 2, 3]}, run_id="r1")
    await h.run(ir, {"rows": [1, 2, 3]}, run_id="r2")

    assert len(fake_agent.calls) == 6


@pytest.mark.asyncio
async def test_a_node_rerun_after_a_crash_does_not_repeat_completed_agent_steps(
        fake_agent: FakeAgentServer, agents: HttpAgentClient, tmp_path: Path) -> None:
    fake_agent.set_result("send_email", {"message_id": "m-42"})
    ir = compile_ok(ckp({
        "prep": {"type": "processing", "next_node": "notify",
                 "operations": [{"action": "set_variable", "variable": "stage", "value": "ready"}]},
        "notify": seq({"step_id": "mail", "action": "send_email", "recipients": ["a@x.test"], "output_variable": "m"},
                      {"step_id": "settle", "action": "wait", "duration_ms": 3000, "agent": "MasterAgent"},
                      {"step_id": "audit", "action": "execute_query", "agent": "API", "query": "insert"},
                      agent="EMAIL", next_node="done"),
        "done": end(outputs={"message": "{{m.message_id}}"}),
    }))
    db = str(tmp_path / "state.db")

    async with open_checkpointer(db) as saver, aiosqlite.connect(db) as conn:
        h = Harness(agents=agents, checkpointer=saver, step_store=await SqliteStepStore.create(conn))
        crashed = asyncio.create_task(h.run(ir, run_id="crashy"))
        while not fake_agent.calls_for("send_email"):
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.1)  # the step result is recorded; the node is in its wait step
        crashed.cancel()
        with pytest.raises(asyncio.CancelledError):
            await crashed

    async with open_checkpointer(db) as saver, aiosqlite.connect(db) as conn:
        fast = Harness(agents=agents, checkpointer=saver, step_store=await SqliteStepStore.create(conn))
        fast.sleep = _no_wait
        out = await fast.resume(ir, "crashy")

    assert out.status == "completed", out.error
    assert out.outputs == {"message": "m-42"}
    assert len(fake_agent.calls_for("send_email")) == 1
    assert len(fake_agent.calls_for("execute_query")) == 1
    mail = [e.payload for e in fast.events.of("step_completed") if e.step_id == "mail"]
    assert mail[0]["cached"] is True


async def _no_wait(seconds: float) -> None:
    await asyncio.sleep(0)
