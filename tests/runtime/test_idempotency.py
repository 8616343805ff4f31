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
from tests.runtime.harness import DictResolver, Harness, ckp, compile_ok, end, seq


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


NOTIFY_CHILD = ckp({
    "notify": seq({"step_id": "mail", "action": "send_email", "recipients": ["{{to}}"], "subject": "{{what}}"},
                  agent="EMAIL", next_node="done"),
    "done": end(),
}, procedure_id="notify_child", variables={"to": {"type": "string"}, "what": {"type": "string"}})


@pytest.mark.asyncio
async def test_a_child_procedure_called_twice_sends_twice(fake_agent: FakeAgentServer,
                                                          agents: HttpAgentClient) -> None:
    h = Harness(agents=agents, resolver=DictResolver(NOTIFY_CHILD))
    ir = compile_ok(ckp({
        "first": {"type": "subflow", "procedure_id": "notify_child", "next_node": "second",
                  "input_mapping": {"to": "a@example.com", "what": "first"}},
        "second": {"type": "subflow", "procedure_id": "notify_child", "next_node": "done",
                   "input_mapping": {"to": "b@example.com", "what": "second"}},
        "done": end(),
    }))

    out = await h.run(ir)

    assert out.status == "completed", out.error
    assert [c["params"]["subject"] for c in fake_agent.calls] == ["first", "second"]


@pytest.mark.asyncio
async def test_a_child_procedure_in_a_loop_sends_once_per_iteration(fake_agent: FakeAgentServer,
                                                                    agents: HttpAgentClient) -> None:
    h = Harness(agents=agents, resolver=DictResolver(NOTIFY_CHILD))
    ir = compile_ok(ckp({
        "each": {"type": "loop", "iterator": "people", "body_node": "call", "next_node": "done"},
        "call": {"type": "subflow", "procedure_id": "notify_child",
                 "input_mapping": {"to": "{{item}}", "what": "hello {{item}}"}},
        "done": end(),
    }, variables={"people": {"type": "array"}}))

    out = await h.run(ir, {"people": ["a", "b", "c"]})

    assert out.status == "completed", out.error
    assert [c["params"]["subject"] for c in fake_agent.calls] == ["hello a", "hello b", "hello c"]


SLOW_CHILD = ckp({
    "notify": seq({"step_id": "mail", "action": "send_email", "recipients": ["{{to}}"], "subject": "{{what}}"},
                  {"step_id": "settle", "action": "wait", "duration_ms": 3000, "agent": "MasterAgent"},
                  agent="EMAIL", next_node="done"),
    "done": end(),
}, procedure_id="slow_child", variables={"to": {"type": "string"}, "what": {"type": "string"}})


@pytest.mark.asyncio
async def test_a_child_rerun_after_a_crash_does_not_repeat_its_completed_steps(
        fake_agent: FakeAgentServer, agents: HttpAgentClient, tmp_path: Path) -> None:
    ir = compile_ok(ckp({
        "each": {"type": "loop", "iterator": "people", "body_node": "call", "next_node": "done"},
        "call": {"type": "subflow", "procedure_id": "slow_child",
                 "input_mapping": {"to": "{{item}}", "what": "hello {{item}}"}},
        "done": end(),
    }, variables={"people": {"type": "array"}}))
    db = str(tmp_path / "state.db")

    async with open_checkpointer(db) as saver, aiosqlite.connect(db) as conn:
        h = Harness(agents=agents, checkpointer=saver, step_store=await SqliteStepStore.create(conn),
                    resolver=DictResolver(SLOW_CHILD))
        waits: list[float] = []

        async def second_wait_blocks(seconds: float) -> None:  # the crash comes during it
            waits.append(seconds)
            await asyncio.sleep(0 if len(waits) == 1 else 30)

        h.sleep = second_wait_blocks
        crashed = asyncio.create_task(h.run(ir, {"people": ["a", "b"]}, run_id="crashy"))
        async with asyncio.timeout(10):
            while len(fake_agent.calls_for("send_email")) < 2:  # the second call's mail went out
                await asyncio.sleep(0.02)
        await asyncio.sleep(0.1)  # its result is recorded; the child is in its wait step
        crashed.cancel()
        with pytest.raises(asyncio.CancelledError):
            await crashed

    async with open_checkpointer(db) as saver, aiosqlite.connect(db) as conn:
        fast = Harness(agents=agents, checkpointer=saver, step_store=await SqliteStepStore.create(conn),
                       resolver=DictResolver(SLOW_CHILD))
        fast.sleep = _no_wait
        out = await fast.resume(ir, "crashy")

    assert out.status == "completed", out.error
    assert [c["params"]["subject"] for c in fake_agent.calls_for("send_email")] == ["hello a", "hello b"]
    mail = [e.payload for e in fast.events.of("step_completed") if e.step_id == "mail"]
    assert mail and mail[0]["cached"] is True



@pytest.mark.asyncio
async def test_every_agent_delivery_carries_one_idempotency_key_for_all_its_attempts(
        fake_agent: FakeAgentServer, agents: HttpAgentClient) -> None:
    fake_agent.fail_next(503, times=2, action="send_email")
    h = Harness(agents=agents)
    ir = compile_ok(_invoice_doc(max_retries=3, retry_delay_ms=1))

    out = await h.run(ir, {"invoice": "INV-1", "customer": "a@x.test"}, run_id="r1")

    assert out.status == "completed", out.error
    calls = fake_agent.calls_for("send_email")
    assert [c["attempt"] for c in calls] == [1, 2, 3]
    assert len({c["idempotency_key"] for c in calls}) == 1
    assert calls[0]["idempotency_key_header"] == calls[0]["idempotency_key"]
    assert calls[0]["idempotency_key"].startswith("lo1_") and "INV-1" not in calls[0]["idempotency_key"]


@pytest.mark.asyncio
async def test_idempotency_keys_differ_per_run_and_per_loop_iteration(fake_agent: FakeAgentServer,
                                                                     agents: HttpAgentClient) -> None:
    h = Harness(agents=agents)
    ir = compile_ok(ckp({
        "each": {"type": "loop", "iterator": "rows", "body_node": "write", "next_node": "done"},
        "write": seq({"action": "bulk_insert", "row": "{{item}}"}, agent="API"),
        "done": end(),
    }, variables={"rows": {"type": "array"}}))

    await h.run(ir, {"rows": [1, 2]}, run_id="r1")
    await h.run(ir, {"rows": [1, 2]}, run_id="r2")

    keys = [c["idempotency_key"] for c in fake_agent.calls]
    assert len(keys) == 4 and len(set(keys)) == 4


@pytest.mark.asyncio
async def test_a_resumed_node_redelivers_its_interrupted_call_with_the_same_key(
        fake_agent: FakeAgentServer, agents: HttpAgentClient, tmp_path: Path) -> None:
    """The crash case: the agent receives the call twice, with one key, and acts once."""
    fake_agent.set_delay("settle_payment", 1.0)
    ir = compile_ok(ckp({
        "pay": seq({"step_id": "settle", "action": "settle_payment", "order": "A-1"}, agent="API", next_node="done"),
        "done": end(),
    }))
    db = str(tmp_path / "state.db")
    async with open_checkpointer(db) as saver, aiosqlite.connect(db) as conn:
        h = Harness(agents=agents, checkpointer=saver, step_store=await SqliteStepStore.create(conn))
        crashed = asyncio.create_task(h.run(ir, run_id="crashy"))
        while not fake_agent.calls_for("settle_payment"):
            await asyncio.sleep(0.02)
        crashed.cancel()  # in flight: the agent is still acting
        with pytest.raises(asyncio.CancelledError):
            await crashed
    async with open_checkpointer(db) as saver, aiosqlite.connect(db) as conn:
        again = Harness(agents=agents, checkpointer=saver, step_store=await SqliteStepStore.create(conn))
        out = await again.resume(ir, "crashy")

    assert out.status == "completed", out.error
    received = fake_agent.calls_for("settle_payment")
    assert len(received) == 2 and received[0]["idempotency_key"] == received[1]["idempotency_key"]
    assert len([c for c in fake_agent.performed if c["action"] == "settle_payment"]) == 1


@pytest.mark.asyncio
async def test_http_request_sends_an_idempotency_key_on_writes_only() -> None:
    from tests.fakes.echo_server import EchoServer

    with EchoServer() as echo:
        ir = compile_ok(ckp({
            "call": seq({"step_id": "post", "action": "http_request", "method": "POST", "url": echo.url + "/a",
                         "body": {"x": 1}},
                        {"step_id": "get", "action": "http_request", "url": echo.url + "/b"},
                        {"step_id": "own", "action": "http_request", "method": "POST", "url": echo.url + "/c",
                         "headers": {"Idempotency-Key": "mine"}},
                        next_node="done"),
            "done": end(),
        }))
        out = await Harness().run(ir, run_id="r1")
        out2 = await Harness().run(ir, run_id="r2")

    assert out.status == out2.status == "completed", out.error
    post, get, own, post2, _get2, _own2 = echo.seen
    assert post["headers"]["idempotency-key"].startswith("lo1_")
    assert "idempotency-key" not in get["headers"]
    assert own["headers"]["idempotency-key"] == "mine"
    assert post2["headers"]["idempotency-key"] != post["headers"]["idempotency-key"]
