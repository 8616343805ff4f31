"""A node's telemetry block travels with its node events; the telemetry built-in has the run's duration."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from langorch.connectors.agents import HttpAgentClient
from tests.fakes.agent_server import FakeAgentServer
from tests.runtime.harness import Harness, RecordingSleep, ckp, end, seq

TELEMETRY = {"trace_id": "trace-{{run_id}}", "span_id": "span-7", "custom_metrics": {"batch": "{{batch}}"},
             "track_duration": True, "track_retries": True}


@pytest_asyncio.fixture
async def agents(fake_agent: FakeAgentServer) -> AsyncIterator[HttpAgentClient]:
    async with HttpAgentClient({"ERP": fake_agent.url}) as client:
        yield client


def _doc(telemetry: dict[str, Any] | None = TELEMETRY, **global_config: Any) -> dict[str, Any]:
    node = seq({"step_id": "post", "action": "post_batch", "value": "{{batch}}"}, next_node="done", agent="ERP",
               max_retries=2, retry_delay_ms=1)
    if telemetry is not None:
        node["telemetry"] = telemetry
    return ckp({"post": node, "done": end()}, global_config=global_config or None,
               variables={"batch": {"type": "string", "default": "B-1"}})


def _node_event(h: Harness, type_: str) -> dict[str, Any]:
    [event] = [e for e in h.events.of(type_) if e.node_id == "post"]
    return dict(event.payload)


@pytest.mark.asyncio
async def test_node_telemetry_is_rendered_into_its_started_and_completed_events(
        fake_agent: FakeAgentServer, agents: HttpAgentClient) -> None:
    fake_agent.fail_next(503)
    h = Harness(agents=agents, sleep=RecordingSleep())

    out = await h.run(_doc())

    assert out.status == "completed", out.error
    expected = {"trace_id": "trace-run-1", "span_id": "span-7", "custom_metrics": {"batch": "B-1"}}
    assert _node_event(h, "node_started")["telemetry"] == expected
    completed = _node_event(h, "node_completed")
    assert completed["telemetry"] == expected
    assert completed["retries"] == 1, "track_retries counts the node's step retries"
    assert isinstance(completed["duration_ms"], float)


@pytest.mark.asyncio
async def test_a_failed_node_reports_its_telemetry_duration_and_retries(fake_agent: FakeAgentServer,
                                                                       agents: HttpAgentClient) -> None:
    fake_agent.fail_next(503, times=3)
    h = Harness(agents=agents, sleep=RecordingSleep())

    out = await h.run(_doc())

    assert out.status == "failed"
    failed = _node_event(h, "node_failed")
    assert failed["telemetry"]["span_id"] == "span-7"
    assert failed["retries"] == 2
    assert isinstance(failed["duration_ms"], float)


@pytest.mark.asyncio
async def test_untracked_nodes_and_telemetry_disabled_runs_carry_no_telemetry(agents: HttpAgentClient) -> None:
    plain, disabled = Harness(agents=agents), Harness(agents=agents)

    await plain.run(_doc(telemetry=None))
    await disabled.run(_doc(telemetry_enabled=False))

    for h in (plain, disabled):
        assert "telemetry" not in _node_event(h, "node_started")
        assert set(_node_event(h, "node_completed")) == {"type", "duration_ms"}


@pytest.mark.asyncio
async def test_track_flags_without_other_fields_add_only_what_they_track(fake_agent: FakeAgentServer,
                                                                         agents: HttpAgentClient) -> None:
    h = Harness(agents=agents)
    await h.run(_doc(telemetry={"track_retries": True}))
    assert "telemetry" not in _node_event(h, "node_started")
    assert _node_event(h, "node_completed")["retries"] == 0


@pytest.mark.asyncio
async def test_the_telemetry_builtin_has_the_nodes_block_and_the_runs_duration() -> None:
    h = Harness()
    doc = ckp({"n": {"type": "processing", "telemetry": {"span_id": "s-9"}, "next_node": "done", "operations": [
        {"action": "set_variable", "variable": "t", "value": "{{telemetry}}"}]}, "done": end()})

    out = await h.run(doc)

    assert out.status == "completed", out.error
    assert out.vars["t"]["span_id"] == "s-9"
    assert isinstance(out.vars["t"]["total_duration"], float) and out.vars["t"]["total_duration"] >= 0
