"""loop nodes: iterator and while-condition loops, index, collect, max_iterations,
continue_on_error, and an approval gate inside the body."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from langorch.connectors.agents import HttpAgentClient
from tests.fakes.agent_server import FakeAgentServer
from tests.runtime.harness import Harness, ckp, compile_ok, end, seq


@pytest_asyncio.fixture
async def agents(fake_agent: FakeAgentServer) -> AsyncIterator[HttpAgentClient]:
    async with HttpAgentClient({"API": fake_agent.url}) as client:
        yield client


def _each(**loop: object) -> dict[str, object]:
    return ckp({
        "each": {"type": "loop", "iterator": "orders", "iterator_variable": "order", "index_variable": "i",
                 "body_node": "body", "collect_variable": "results", "next_node": "done", **loop},
        "body": {"type": "processing", "operations": [
            {"action": "calculate", "expression": "order.qty * 10", "output_variable": "amount"},
            {"action": "format_string", "template": "{{i}}:{{order.id}}", "output_variable": "tag"},
        ]},
        "done": end(outputs={"n": "{{results.length}}"}),
    }, variables={"orders": {"type": "array"}})


ORDERS = [{"id": "a", "qty": 1}, {"id": "b", "qty": 2}, {"id": "c", "qty": 3}]


@pytest.mark.asyncio
async def test_iterator_loop_runs_the_body_per_item_with_index_and_collects() -> None:
    h = Harness()

    out = await h.run(_each(), {"orders": ORDERS})

    assert out.status == "completed", out.error
    assert out.outputs == {"n": 3}
    results = out.vars["results"]
    assert [r["tag"] for r in results] == ["0:a", "1:b", "2:c"]
    assert [r["amount"] for r in results] == [10, 20, 30]
    assert [r["index"] for r in results] == [0, 1, 2]
    assert all(r["status"] == "completed" for r in results)
    assert h.events.payloads("loop_completed") == [{"iterations": 3}]


@pytest.mark.asyncio
async def test_empty_iterator_skips_the_body() -> None:
    h = Harness()

    out = await h.run(_each(), {"orders": []})

    assert out.status == "completed"
    assert out.vars["results"] == []
    assert not [e for e in h.events.of("node_started") if e.node_id == "body"]


@pytest.mark.asyncio
async def test_max_iterations_stops_the_loop() -> None:
    h = Harness()

    out = await h.run(_each(max_iterations=2), {"orders": ORDERS})

    assert out.status == "completed"
    assert len(out.vars["results"]) == 2
    assert h.events.payloads("loop_max_iterations") == [{"max_iterations": 2}]


@pytest.mark.asyncio
async def test_while_condition_loop_runs_until_the_condition_is_false() -> None:
    h = Harness()
    doc = ckp({
        "init": {"type": "processing", "next_node": "again",
                 "operations": [{"action": "set_variable", "variable": "n", "value": 0}]},
        "again": {"type": "loop", "condition": "n < 4", "body_node": "inc", "next_node": "done"},
        "inc": {"type": "processing", "next_node": "again",
                "operations": [{"action": "calculate", "expression": "n + 1", "output_variable": "n"}]},
        "done": end(outputs={"n": "{{n}}"}),
    })

    out = await h.run(doc)

    assert out.status == "completed", out.error
    assert out.outputs == {"n": 4}


@pytest.mark.asyncio
async def test_while_loop_without_exit_is_bounded_by_max_iterations() -> None:
    h = Harness()
    doc = ckp({
        "init": {"type": "processing", "next_node": "spin",
                 "operations": [{"action": "set_variable", "variable": "n", "value": 0}]},
        "spin": {"type": "loop", "condition": "n >= 0", "body_node": "inc", "max_iterations": 5,
                 "next_node": "done"},
        "inc": {"type": "processing",
                "operations": [{"action": "calculate", "expression": "n + 1", "output_variable": "n"}]},
        "done": end(outputs={"n": "{{n}}"}),
    })

    out = await h.run(doc)

    assert out.outputs == {"n": 5}


@pytest.mark.asyncio
async def test_continue_on_error_records_the_failed_iteration_and_goes_on(fake_agent: FakeAgentServer,
                                                                          agents: HttpAgentClient) -> None:
    fake_agent.set_result("execute_query", lambda params: (_ for _ in ()).throw(ValueError("bad row"))
                          if params.get("query") == "row b" else {"ok": params.get("query")})
    h = Harness(agents=agents)
    doc = ckp({
        "each": {"type": "loop", "iterator": "rows", "iterator_variable": "row", "body_node": "write",
                 "collect_variable": "results", "continue_on_error": True, "next_node": "done"},
        "write": seq({"action": "execute_query", "query": "row {{row}}", "output_variable": "saved"},
                     agent="API"),
        "done": end(),
    }, variables={"rows": {"type": "array"}})

    out = await h.run(doc, {"rows": ["a", "b", "c"]})

    assert out.status == "completed", out.error
    statuses = [r["status"] for r in out.vars["results"]]
    assert statuses == ["completed", "failed", "completed"]
    assert "bad row" in out.vars["results"][1]["error"]["message"]
    assert len(h.events.of("loop_iteration_failed")) == 1


@pytest.mark.asyncio
async def test_failure_in_a_body_without_continue_on_error_fails_the_run(fake_agent: FakeAgentServer,
                                                                         agents: HttpAgentClient) -> None:
    fake_agent.fail_next(400, action="execute_query")
    h = Harness(agents=agents)
    doc = ckp({
        "each": {"type": "loop", "iterator": "rows", "body_node": "write", "next_node": "done"},
        "write": seq({"action": "execute_query", "query": "{{item}}"}, agent="API"),
        "done": end(),
    }, variables={"rows": {"type": "array"}})

    out = await h.run(doc, {"rows": ["a", "b"]})

    assert out.status == "failed"
    assert len(fake_agent.calls) == 1


@pytest.mark.asyncio
async def test_nested_loops_iterate_the_full_product() -> None:
    h = Harness()
    doc = ckp({
        "outer": {"type": "loop", "iterator": "xs", "iterator_variable": "x", "body_node": "inner",
                  "collect_variable": "rows", "next_node": "done"},
        "inner": {"type": "loop", "iterator": "ys", "iterator_variable": "y", "body_node": "cell",
                  "collect_variable": "cells"},
        "cell": {"type": "processing",
                 "operations": [{"action": "format_string", "template": "{{x}}{{y}}", "output_variable": "v"}]},
        "done": end(),
    }, variables={"xs": {"type": "array"}, "ys": {"type": "array"}})

    out = await h.run(doc, {"xs": ["a", "b"], "ys": [1, 2, 3]})

    assert out.status == "completed", out.error
    assert [[c["v"] for c in row["cells"]] for row in out.vars["rows"]] == [["a1", "a2", "a3"], ["b1", "b2", "b3"]]


@pytest.mark.asyncio
async def test_approval_inside_a_loop_body_pauses_each_iteration() -> None:
    h = Harness()
    ir = compile_ok(ckp({
        "each": {"type": "loop", "iterator": "invoices", "iterator_variable": "inv", "body_node": "ok",
                 "collect_variable": "decisions", "next_node": "done"},
        "ok": {"type": "human_approval", "prompt": "Pay {{inv}}?", "decision_variable": "d",
               "on_approve": "record", "on_reject": "record"},
        "record": {"type": "processing",
                   "operations": [{"action": "format_string", "template": "{{inv}}={{d}}", "output_variable": "line"}]},
        "done": end(),
    }, variables={"invoices": {"type": "array"}}))

    out = await h.run(ir, {"invoices": ["i1", "i2", "i3"]})
    prompts = []
    for decision in ["approve", "reject", "approve"]:
        assert out.status == "waiting_approval"
        assert len(out.pending) == 1
        prompts.append(out.pending[0].request["prompt"])
        out = await h.resume(ir, decision=decision)

    assert out.status == "completed", out.error
    assert prompts == ["Pay i1?", "Pay i2?", "Pay i3?"]
    assert [r["line"] for r in out.vars["decisions"]] == ["i1=approved", "i2=rejected", "i3=approved"]


@pytest.mark.asyncio
async def test_leaving_the_body_early_keeps_the_iterations_collected_so_far() -> None:
    h = Harness()
    doc = ckp({
        "each": {"type": "loop", "iterator": "orders", "iterator_variable": "order", "index_variable": "i",
                 "body_node": "check", "collect_variable": "results", "next_node": "done"},
        "check": {"type": "logic", "rules": [{"condition": "order.qty >= 2", "next_node": "done"}],
                  "default_next_node": "tag"},
        "tag": {"type": "processing", "operations": [
            {"action": "set_variable", "variable": "seen", "value": "{{order.id}}"}]},
        "done": end(outputs={"n": "{{results.length}}"}),
    }, variables={"orders": {"type": "array"}})

    out = await h.run(doc, {"orders": ORDERS})

    assert out.status == "completed", out.error
    assert out.outputs == {"n": 1}
    assert [r["seen"] for r in out.vars["results"]] == ["a"]
    assert {"iterations": 1, "break": True} in h.events.payloads("loop_completed")


# ----------------------------------------------------------------------------- the loop built-in
@pytest.mark.asyncio
async def test_the_loop_builtin_describes_the_running_iteration_and_is_null_after_the_loop() -> None:
    h = Harness()
    doc = ckp({
        "each": {"type": "loop", "iterator": "orders", "body_node": "body", "collect_variable": "results",
                 "next_node": "done"},
        "body": {"type": "processing", "operations": [
            {"action": "format_string", "output_variable": "tag",
             "template": "{{loop.index}}/{{loop.total}} {{loop.item.id}} first={{loop.first}} last={{loop.last}}"}]},
        "done": end(outputs={"after": "{{loop}}"}),
    }, variables={"orders": {"type": "array"}})

    out = await h.run(doc, {"orders": ORDERS})

    assert out.status == "completed", out.error
    assert [r["tag"] for r in out.vars["results"]] == [
        "0/3 a first=true last=false", "1/3 b first=false last=false", "2/3 c first=false last=true"]
    assert "loop" not in out.vars["results"][0], "the built-in is not collected as a body variable"
    assert out.outputs == {"after": None}


@pytest.mark.asyncio
async def test_the_loop_builtin_is_the_innermost_loop_and_returns_to_the_outer_one() -> None:
    h = Harness()
    doc = ckp({
        "outer": {"type": "loop", "iterator": "xs", "iterator_variable": "x", "body_node": "inner",
                  "collect_variable": "rows", "next_node": "done"},
        "inner": {"type": "loop", "iterator": "ys", "iterator_variable": "y", "body_node": "cell",
                  "collect_variable": "cells", "next_node": "after_inner"},
        "cell": {"type": "processing", "operations": [
            {"action": "format_string", "template": "{{loop.node_id}}{{loop.index}}", "output_variable": "v"}]},
        "after_inner": {"type": "processing", "operations": [
            {"action": "format_string", "template": "{{loop.node_id}}{{loop.index}}", "output_variable": "w"}]},
        "done": end(),
    }, variables={"xs": {"type": "array"}, "ys": {"type": "array"}})

    out = await h.run(doc, {"xs": ["a", "b"], "ys": [1, 2]})

    assert out.status == "completed", out.error
    assert [c["v"] for c in out.vars["cells"]] == ["inner0", "inner1"]
    assert [row["w"] for row in out.vars["rows"]] == ["outer0", "outer1"]
