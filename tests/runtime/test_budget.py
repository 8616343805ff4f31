"""LLM budgets stop a run before the call that would overspend; usage is summed exactly
once across loops, parallel branches, subflows and approval pauses."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from langorch.connectors.llm import OpenAICompatibleLlm
from langorch.runtime.runner import RunOutcome
from tests.fakes.llm_server import FakeLlmServer
from tests.runtime.harness import DictResolver, EventLog, Harness, ckp, compile_ok, end


@pytest_asyncio.fixture
async def llm(fake_llm: FakeLlmServer) -> AsyncIterator[OpenAICompatibleLlm]:
    async with OpenAICompatibleLlm(base_url=fake_llm.base_url, api_key="test-key") as client:
        yield client


def _ask(prompt: str, next_node: str | None = None, **extra: Any) -> dict[str, Any]:
    node: dict[str, Any] = {"type": "llm_action", "prompt": prompt, "model": "gpt-4o", "max_tokens": 10,
                            **extra}
    if next_node:
        node["next_node"] = next_node
    return node


def _two_calls(**global_config: Any) -> dict[str, Any]:
    return ckp({"first": _ask("Summarise ticket T-1", "second", output_variable="one"),
                "second": _ask("Summarise ticket T-2", "done", output_variable="two"),
                "done": end()}, global_config=global_config)


def _assert_usage_matches_events(out: RunOutcome, events: EventLog, calls: int) -> None:
    usage = events.payloads("llm_usage")
    assert len(usage) == calls
    assert out.usage["llm_calls"] == calls
    assert out.usage["prompt_tokens"] == sum(u["prompt_tokens"] for u in usage)
    assert out.usage["completion_tokens"] == sum(u["completion_tokens"] for u in usage)
    assert out.usage["cost_usd"] == pytest.approx(sum(u["cost_usd"] for u in usage))


# ----------------------------------------------------------------------------- limits
@pytest.mark.asyncio
async def test_token_budget_stops_before_the_call_that_would_exceed_it(fake_llm: FakeLlmServer,
                                                                       llm: OpenAICompatibleLlm) -> None:
    # each call is estimated at ~23 tokens before it is made and really uses 7
    h = Harness(llm=llm)

    out = await h.run(_two_calls(llm_budget={"max_tokens_per_run": 25}))

    assert out.status == "failed"
    assert out.error is not None and out.error["type"] == "BudgetExceeded"
    assert len(fake_llm.requests) == 1, "the over-budget call must not reach the LLM"
    [exceeded] = h.events.of("budget_exceeded")
    assert exceeded.node_id == "second"
    assert exceeded.payload["limit"] == "max_tokens_per_run" and exceeded.payload["spent_tokens"] == 7
    assert h.events.types().index("budget_exceeded") < h.events.types().index("run_failed")
    assert out.usage["llm_calls"] == 1


@pytest.mark.asyncio
async def test_cost_budget_stops_before_the_call_that_would_exceed_it(fake_llm: FakeLlmServer,
                                                                      llm: OpenAICompatibleLlm) -> None:
    h = Harness(llm=llm)

    out = await h.run(_two_calls(max_cost_usd=0.00015))

    assert out.status == "failed"
    assert len(fake_llm.requests) == 1
    [exceeded] = h.events.payloads("budget_exceeded")
    assert exceeded["limit"] == "max_cost_usd"
    assert exceeded["spent_usd"] == pytest.approx(47.5e-6, abs=1e-6)


@pytest.mark.asyncio
async def test_runs_within_budget_are_not_stopped(fake_llm: FakeLlmServer, llm: OpenAICompatibleLlm) -> None:
    h = Harness(llm=llm)

    out = await h.run(_two_calls(max_cost_usd=1.0, llm_budget={"max_tokens_per_run": 1000}))

    assert out.status == "completed", out.error
    assert h.events.of("budget_exceeded") == []
    _assert_usage_matches_events(out, h.events, 2)


@pytest.mark.asyncio
async def test_budget_warning_is_emitted_once_by_the_call_that_crosses_warn_at_percent(
        fake_llm: FakeLlmServer, llm: OpenAICompatibleLlm) -> None:
    h = Harness(llm=llm)

    out = await h.run(_two_calls(llm_budget={"max_tokens_per_run": 1000, "warn_at_percent": 1}))

    assert out.status == "completed", out.error
    [warning] = h.events.of("budget_warning")
    assert warning.node_id == "second"
    assert warning.payload["limit"] == "max_tokens_per_run" and warning.payload["used"] == 14


# ----------------------------------------------------------------------------- summed once
@pytest.mark.asyncio
async def test_usage_in_a_loop_is_summed_once_per_call(fake_llm: FakeLlmServer, llm: OpenAICompatibleLlm) -> None:
    h = Harness(llm=llm)
    doc = ckp({
        "each": {"type": "loop", "iterator": "tickets", "iterator_variable": "t", "body_node": "ask",
                 "next_node": "done"},
        "ask": _ask("Summarise {{t}}"),
        "done": end(),
    }, variables={"tickets": {"type": "array"}})

    out = await h.run(doc, {"tickets": ["a", "b", "c", "d"]})

    assert out.status == "completed", out.error
    _assert_usage_matches_events(out, h.events, 4)


@pytest.mark.asyncio
async def test_usage_in_parallel_branches_is_summed_once_per_call(fake_llm: FakeLlmServer,
                                                                  llm: OpenAICompatibleLlm) -> None:
    h = Harness(llm=llm)
    nodes: dict[str, Any] = {"fork": {"type": "parallel", "next_node": "done",
                                      "branches": [{"branch_id": f"b{i}", "start_node": f"b{i}"} for i in range(3)]}}
    for i in range(3):
        nodes[f"b{i}"] = _ask(f"Summarise branch {i} please", "done", output_variable=f"r{i}")
    nodes["done"] = end()

    out = await h.run(ckp(nodes))

    assert out.status == "completed", out.error
    _assert_usage_matches_events(out, h.events, 3)


@pytest.mark.asyncio
async def test_budget_counts_calls_of_branches_running_at_the_same_time(fake_llm: FakeLlmServer,
                                                                        llm: OpenAICompatibleLlm) -> None:
    # Three branches each estimated at ~23 tokens: a budget of 50 admits two, not three,
    # even though all three start in the same super-step.
    fake_llm.delay_s = 0.05
    h = Harness(llm=llm)
    nodes: dict[str, Any] = {"fork": {"type": "parallel", "next_node": "done", "branch_failure": "continue",
                                      "branches": [{"branch_id": f"b{i}", "start_node": f"b{i}"} for i in range(3)]}}
    for i in range(3):
        nodes[f"b{i}"] = _ask("Summarise ticket T-1", "done")
    nodes["done"] = end()

    out = await h.run(ckp(nodes, global_config={"llm_budget": {"max_tokens_per_run": 50}}))

    assert len(fake_llm.requests) == 2
    assert len(h.events.of("budget_exceeded")) == 1
    assert out.usage["llm_calls"] == 2


@pytest.mark.asyncio
async def test_usage_in_a_subflow_is_added_to_the_parent_once(fake_llm: FakeLlmServer,
                                                              llm: OpenAICompatibleLlm) -> None:
    child = ckp({"c1": _ask("Child call one", "c2"), "c2": _ask("Child call two", "cdone"), "cdone": end()},
                procedure_id="llm_child")
    h = Harness(llm=llm, resolver=DictResolver(child))
    doc = ckp({"p1": _ask("Parent call", "sub"),
               "sub": {"type": "subflow", "procedure_id": "llm_child", "next_node": "done"},
               "done": end()})

    out = await h.run(doc)

    assert out.status == "completed", out.error
    _assert_usage_matches_events(out, h.events, 3)


@pytest.mark.asyncio
async def test_subflow_calls_count_against_the_parent_budget(fake_llm: FakeLlmServer,
                                                             llm: OpenAICompatibleLlm) -> None:
    child = ckp({"c1": _ask("Summarise ticket T-1", "cdone"), "cdone": end()}, procedure_id="llm_child")
    h = Harness(llm=llm, resolver=DictResolver(child))
    doc = ckp({"p1": _ask("Summarise ticket T-1", "sub"),
               "sub": {"type": "subflow", "procedure_id": "llm_child", "next_node": "done"},
               "done": end()}, global_config={"llm_budget": {"max_tokens_per_run": 25}})

    out = await h.run(doc)

    assert out.status == "failed"
    assert len(fake_llm.requests) == 1
    assert h.events.of("budget_exceeded")[0].node_id == "sub/c1"


@pytest.mark.asyncio
async def test_usage_is_summed_once_across_an_approval_pause_and_resume(fake_llm: FakeLlmServer,
                                                                        llm: OpenAICompatibleLlm) -> None:
    h = Harness(llm=llm)
    ir = compile_ok(ckp({
        "fork": {"type": "parallel", "next_node": "after",
                 "branches": [{"branch_id": "think", "start_node": "think"},
                              {"branch_id": "gate", "start_node": "gate"}]},
        "think": _ask("Draft a reply", "after"),
        "gate": {"type": "human_approval", "prompt": "ok?", "on_approve": "after", "on_reject": "after"},
        "after": _ask("Polish the reply", "done"),
        "done": end(),
    }))

    paused = await h.run(ir)
    assert paused.status == "waiting_approval"
    assert paused.usage["llm_calls"] == 1
    out = await h.resume(ir, decision="approve")

    assert out.status == "completed", out.error
    _assert_usage_matches_events(out, h.events, 2)
    assert len(fake_llm.requests) == 2


@pytest.mark.asyncio
async def test_subflow_usage_before_an_approval_in_the_child_is_counted_once(fake_llm: FakeLlmServer,
                                                                             llm: OpenAICompatibleLlm) -> None:
    child = ckp({"c1": _ask("Child draft", "ask"),
                 "ask": {"type": "human_approval", "prompt": "ok?", "on_approve": "c2", "on_reject": "c2"},
                 "c2": _ask("Child final", "cdone"), "cdone": end()}, procedure_id="llm_child")
    h = Harness(llm=llm, resolver=DictResolver(child))
    ir = compile_ok(ckp({"p1": _ask("Parent call", "sub"),
                         "sub": {"type": "subflow", "procedure_id": "llm_child", "next_node": "done"},
                         "done": end()}))

    paused = await h.run(ir)
    assert paused.status == "waiting_approval"
    out = await h.resume(ir, decision="approve")

    assert out.status == "completed", out.error
    assert len(fake_llm.requests) == 3
    _assert_usage_matches_events(out, h.events, 3)
