"""parallel nodes: branches really run at once, wait_strategy all/any, branch_failure
continue/stop."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from langorch.connectors.agents import HttpAgentClient
from tests.fakes.agent_server import FakeAgentServer
from tests.runtime.harness import Harness, ckp, end, seq, setvar


@pytest_asyncio.fixture
async def agents(fake_agent: FakeAgentServer) -> AsyncIterator[HttpAgentClient]:
    async with HttpAgentClient({"API": fake_agent.url}) as client:
        yield client


def _fork(branches: dict[str, dict[str, Any]], **fork: Any) -> dict[str, Any]:
    nodes: dict[str, Any] = {
        "fork": {"type": "parallel", "next_node": "after",
                 "branches": [{"branch_id": b, "start_node": b} for b in branches], **fork},
    }
    for name, node in branches.items():
        nodes[name] = {**node, "next_node": "after"}
    nodes["after"] = end(outputs={"summary": "{{fork_branches}}"})
    return ckp(nodes)


@pytest.mark.asyncio
async def test_four_branches_that_each_wait_one_second_finish_together() -> None:
    h = Harness()
    doc = _fork({f"b{i}": seq({"action": "wait", "duration_ms": 1000},
                              {"action": "set_variable", "variable": f"v{i}", "value": i})
                 for i in range(4)})

    started = time.monotonic()
    out = await h.run(doc)
    elapsed = time.monotonic() - started

    assert out.status == "completed", out.error
    assert elapsed < 1.5, f"four 1 s branches took {elapsed:.2f} s"
    assert [out.vars[f"v{i}"] for i in range(4)] == [0, 1, 2, 3]
    assert out.vars["fork_branches"] == {"completed": ["b0", "b1", "b2", "b3"], "failed": []}


@pytest.mark.asyncio
async def test_branches_of_several_nodes_join_once_after_the_last() -> None:
    h = Harness()
    doc = ckp({
        "fork": {"type": "parallel", "next_node": "join", "branches": [
            {"branch_id": "x", "start_node": "x1"}, {"branch_id": "y", "start_node": "y1"}]},
        "x1": setvar("x", 1, next_node="x2"),
        "x2": setvar("x", 2, next_node="x3"),
        "x3": setvar("x", 3, next_node="join"),
        "y1": setvar("y", 1, next_node="join"),
        "join": {"type": "processing", "next_node": "done",
                 "operations": [{"action": "calculate", "expression": "x + y", "output_variable": "sum"}]},
        "done": end(),
    })

    out = await h.run(doc)

    assert out.vars["sum"] == 4
    assert len([e for e in h.events.of("node_started") if e.node_id == "join"]) == 1
    assert len(h.events.of("parallel_joined")) == 1


@pytest.mark.asyncio
async def test_wait_strategy_any_moves_on_after_the_first_branch_and_stops_the_others() -> None:
    # Branch tasks run in LangGraph super-steps: a node already running finishes, but a
    # losing branch does not start another node once the join has moved on.
    h = Harness()
    doc = ckp({
        "fork": {"type": "parallel", "next_node": "after", "wait_strategy": "any",
                 "branches": [{"branch_id": "fast", "start_node": "fast"},
                              {"branch_id": "slow", "start_node": "slow1"}]},
        "fast": setvar("fast", True, next_node="after"),
        "slow1": seq({"action": "wait", "duration_ms": 200}, next_node="slow2"),
        "slow2": setvar("slow2", True, next_node="slow3"),
        "slow3": setvar("slow3", True, next_node="after"),
        "after": end(),
    })

    out = await h.run(doc)

    assert out.status == "completed", out.error
    assert out.vars["fast"] is True
    assert out.vars["fork_branches"]["completed"] == ["fast"]
    started = [e.node_id for e in h.events.of("node_started")]
    assert started.count("after") == 1
    assert "slow3" not in started and "slow3" not in out.vars


@pytest.mark.asyncio
async def test_branch_failure_continue_joins_with_the_failed_branch_recorded(
        fake_agent: FakeAgentServer, agents: HttpAgentClient) -> None:
    fake_agent.fail_next(400, action="bulk_insert")
    h = Harness(agents=agents)
    doc = _fork({"good": setvar("good", 1), "bad": seq({"action": "bulk_insert"}, agent="API")},
                branch_failure="continue")

    out = await h.run(doc)

    assert out.status == "completed", out.error
    assert out.vars["fork_branches"] == {"completed": ["good"], "failed": ["bad"]}
    assert out.vars["fork_errors"]["bad"]["status_code"] == 400


@pytest.mark.asyncio
async def test_branch_failure_stop_fails_the_run(fake_agent: FakeAgentServer, agents: HttpAgentClient) -> None:
    fake_agent.fail_next(400, action="bulk_insert")
    h = Harness(agents=agents)
    doc = _fork({"good": setvar("good", 1), "bad": seq({"action": "bulk_insert"}, agent="API")},
                branch_failure="stop")

    out = await h.run(doc)

    assert out.status == "failed"
    assert out.error is not None and out.error["type"] == "BranchFailed"
    assert not [e for e in h.events.of("node_started") if e.node_id == "after"]


@pytest.mark.asyncio
async def test_parallel_inside_a_loop_joins_every_iteration() -> None:
    h = Harness()
    doc = ckp({
        "each": {"type": "loop", "iterator": "xs", "iterator_variable": "x", "body_node": "fork",
                 "collect_variable": "rows", "next_node": "done"},
        "fork": {"type": "parallel", "branches": [{"branch_id": "l", "start_node": "l"},
                                                  {"branch_id": "r", "start_node": "r"}], "next_node": "both"},
        "l": {"type": "processing", "next_node": "both",
              "operations": [{"action": "format_string", "template": "L{{x}}", "output_variable": "left"}]},
        "r": {"type": "processing", "next_node": "both",
              "operations": [{"action": "format_string", "template": "R{{x}}", "output_variable": "right"}]},
        "both": {"type": "processing", "operations": [
            {"action": "format_string", "template": "{{left}}{{right}}", "output_variable": "pair"}]},
        "done": end(),
    }, variables={"xs": {"type": "array"}})

    out = await h.run(doc, {"xs": [1, 2, 3]})

    assert out.status == "completed", out.error
    assert [r["pair"] for r in out.vars["rows"]] == ["L1R1", "L2R2", "L3R3"]


@pytest.mark.asyncio
async def test_branch_failure_retry_runs_a_failed_branch_once_more(
        fake_agent: FakeAgentServer, agents: HttpAgentClient) -> None:
    fake_agent.fail_next(400, action="bulk_insert")
    h = Harness(agents=agents)
    doc = _fork({"good": setvar("good", 1), "bad": seq({"action": "bulk_insert"}, agent="API")},
                branch_failure="retry")

    out = await h.run(doc)

    assert out.status == "completed", out.error
    assert len(fake_agent.calls_for("bulk_insert")) == 2
    assert [p["branch_id"] for p in h.events.payloads("branch_retry")] == ["bad"]
    assert out.vars["fork_branches"] == {"completed": ["bad", "good"], "failed": []}
