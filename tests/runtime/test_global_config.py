"""global_config: run timeout, execution modes, mocks and test data, rate limiting,
the on_failure recovery node, and per-node SLAs and timeouts."""

from __future__ import annotations

import itertools
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from langorch.connectors.agents import HttpAgentClient
from tests.fakes.agent_server import FakeAgentServer
from tests.runtime.harness import Harness, TinyHttp, ckp, compile_ok, end, seq


@pytest_asyncio.fixture
async def agents(fake_agent: FakeAgentServer) -> AsyncIterator[HttpAgentClient]:
    async with HttpAgentClient({"WEB": fake_agent.url, "API": fake_agent.url}) as client:
        yield client


# ----------------------------------------------------------------------------- run timeout
@pytest.mark.asyncio
async def test_run_timeout_fails_a_run_that_takes_too_long() -> None:
    h = Harness()
    doc = ckp({"a": seq({"action": "wait", "duration_ms": 5000}, next_node="done"), "done": end()},
              global_config={"timeout_ms": 200})

    started = time.monotonic()
    out = await h.run(doc)

    assert time.monotonic() - started < 2
    assert out.status == "failed"
    assert out.error is not None and out.error["type"] == "RunTimeout"
    assert len(h.events.of("run_failed")) == 1


# ----------------------------------------------------------------------------- execution modes
def _side_effects(url: str) -> dict[str, Any]:
    return ckp({
        "work": seq(
            {"step_id": "click", "action": "click", "target": "#pay", "agent": "WEB", "output_variable": "clicked"},
            {"step_id": "tool", "action": "mcp:erp/create_order", "params": {"sku": "A"}},
            {"step_id": "post", "action": "http_request", "method": "POST", "url": f"{url}/orders", "body": {}},
            {"step_id": "get", "action": "http_request", "method": "GET", "url": f"{url}/status",
             "output_variable": "status"},
            {"step_id": "note", "action": "log", "message": "still logged"},
            next_node="done"),
        "done": end(),
    }, global_config={"execution_mode": "dry_run"})


@pytest.mark.asyncio
async def test_dry_run_skips_side_effects_and_runs_reads(fake_agent: FakeAgentServer, agents: HttpAgentClient,
                                                         http_service: TinyHttp) -> None:
    h = Harness(agents=agents)

    out = await h.run(_side_effects(http_service.url))

    assert out.status == "completed", out.error
    assert fake_agent.calls == []
    assert [s["method"] for s in http_service.seen] == ["GET"]
    skipped = h.events.of("step_skipped_dry_run")
    assert [e.step_id for e in skipped] == ["click", "tool", "post"]
    assert out.vars["clicked"] == {"dry_run": True, "skipped_action": "click", "binding": "agent"}
    assert out.vars["status"]["status_code"] == 200
    assert h.events.payloads("log") == [{"level": "INFO", "message": "still logged", "mode": "dry_run"}]


@pytest.mark.asyncio
async def test_validation_only_checks_and_runs_nothing(fake_agent: FakeAgentServer, agents: HttpAgentClient,
                                                       http_service: TinyHttp) -> None:
    h = Harness(agents=agents)
    doc = _side_effects(http_service.url)
    doc["global_config"]["execution_mode"] = "validation_only"

    out = await h.run(doc)

    assert out.status == "completed"
    assert fake_agent.calls == [] and http_service.seen == []
    assert h.events.of("node_started") == []
    assert h.events.payloads("run_completed")[0]["validation_only"] is True


@pytest.mark.asyncio
async def test_mock_external_calls_stubs_agents_and_http(fake_agent: FakeAgentServer, agents: HttpAgentClient,
                                                         http_service: TinyHttp) -> None:
    h = Harness(agents=agents)
    doc = _side_effects(http_service.url)
    doc["global_config"] = {"mock_external_calls": True}

    out = await h.run(doc)

    assert out.status == "completed", out.error
    assert fake_agent.calls == [] and http_service.seen == []
    assert len(h.events.of("step_mock_applied")) == 4
    assert out.vars["clicked"]["mocked"] is True


def _override_doc() -> dict[str, Any]:
    return ckp({
        "read": seq({"step_id": "table", "action": "extract_table_data", "target": "#t", "output_variable": "rows"},
                    {"step_id": "total", "action": "extract_text", "target": "#sum", "output_variable": "sum"},
                    agent="WEB", next_node="done"),
        "done": end(outputs={"rows": "{{rows}}", "sum": "{{sum}}"}),
    }, global_config={"test_data_overrides": {"read.table": [{"id": 1}], "total": "99"}})


@pytest.mark.asyncio
async def test_test_mode_answers_steps_from_test_data_overrides(fake_agent: FakeAgentServer,
                                                                agents: HttpAgentClient) -> None:
    h = Harness(agents=agents)

    out = await h.run(_override_doc(), mode="test")

    assert out.outputs == {"rows": [{"id": 1}], "sum": "99"}
    assert fake_agent.calls == []
    assert len(h.events.of("step_test_override_applied")) == 2
    assert h.events.of("run_started")[0].payload["mode"] == "test"
    assert all(e.payload.get("mode") == "test" for e in h.events.events)


@pytest.mark.asyncio
async def test_production_mode_ignores_test_data_overrides(fake_agent: FakeAgentServer,
                                                           agents: HttpAgentClient) -> None:
    fake_agent.set_result("extract_table_data", [{"id": 7}])
    fake_agent.set_result("extract_text", "12")
    h = Harness(agents=agents)

    out = await h.run(_override_doc())

    assert out.status == "completed", out.error
    assert out.outputs == {"rows": [{"id": 7}], "sum": "12"}
    assert [c["action"] for c in fake_agent.calls] == ["extract_table_data", "extract_text"]
    assert h.events.of("step_test_override_applied") == []
    assert all("mode" not in e.payload for e in h.events.events if e.type != "run_started")
    assert h.events.of("run_started")[0].payload["mode"] == "production"


@pytest.mark.asyncio
async def test_test_mode_mocks_external_steps_without_test_data(fake_agent: FakeAgentServer,
                                                                 agents: HttpAgentClient) -> None:
    h = Harness(agents=agents)
    doc = ckp({
        "read": seq({"step_id": "table", "action": "extract_table_data", "target": "#t", "output_variable": "rows"},
                    {"step_id": "note", "action": "log", "message": "internal steps still run"},
                    agent="WEB", next_node="done"),
        "done": end(outputs={"rows": "{{rows}}"}),
    })

    out = await h.run(doc, mode="test")

    assert out.status == "completed", out.error
    assert fake_agent.calls == []
    assert out.outputs["rows"] == {"mocked": True, "action": "extract_table_data", "binding": "agent"}
    assert [e.payload["message"] for e in h.events.of("log")] == ["internal steps still run"]


@pytest.mark.asyncio
async def test_mode_survives_a_resume_after_an_approval(fake_agent: FakeAgentServer, agents: HttpAgentClient) -> None:
    h = Harness(agents=agents)
    doc = ckp({
        "gate": {"type": "human_approval", "prompt": "go?", "on_approve": "read", "on_reject": "done"},
        "read": seq({"step_id": "table", "action": "extract_table_data", "target": "#t", "output_variable": "rows"},
                    agent="WEB", next_node="done"),
        "done": end(outputs={"rows": "{{rows}}"}),
    }, global_config={"test_data_overrides": {"read.table": [{"id": 1}]}})
    ir = compile_ok(doc)

    paused = await h.run(ir, mode="test")
    assert paused.status == "waiting_approval"
    out = await h.resume(ir, decision={"decision": "approve"})

    assert out.status == "completed", out.error
    assert out.outputs == {"rows": [{"id": 1}]}
    assert fake_agent.calls == []


# ----------------------------------------------------------------------------- rate limiting
def _three_agent_branches(**rate: Any) -> dict[str, Any]:
    nodes: dict[str, Any] = {"fork": {"type": "parallel", "next_node": "done",
                                      "branches": [{"branch_id": f"b{i}", "start_node": f"b{i}"} for i in range(3)]}}
    for i in range(3):
        nodes[f"b{i}"] = seq({"action": "execute_query", "query": f"q{i}"}, agent="API", next_node="done")
    nodes["done"] = end()
    return ckp(nodes, global_config={"rate_limiting": {"enabled": True, **rate}} if rate else None)


def _overlaps(calls: list[dict[str, Any]], delay: float) -> int:
    starts = sorted(c["received_at"] for c in calls)
    return sum(1 for a, b in itertools.pairwise(starts) if b - a < delay * 0.9)


@pytest.mark.asyncio
async def test_without_rate_limits_parallel_agent_calls_overlap(fake_agent: FakeAgentServer,
                                                                agents: HttpAgentClient) -> None:
    fake_agent.set_delay("execute_query", 0.3)
    h = Harness(agents=agents)

    started = time.monotonic()
    out = await h.run(_three_agent_branches())

    assert out.status == "completed", out.error
    assert time.monotonic() - started < 0.8
    assert _overlaps(fake_agent.calls, 0.3) == 2


@pytest.mark.asyncio
async def test_max_concurrent_operations_one_serializes_parallel_agent_calls(fake_agent: FakeAgentServer,
                                                                             agents: HttpAgentClient) -> None:
    fake_agent.set_delay("execute_query", 0.3)
    h = Harness(agents=agents)

    started = time.monotonic()
    out = await h.run(_three_agent_branches(max_concurrent_operations=1))
    elapsed = time.monotonic() - started

    assert out.status == "completed", out.error
    assert elapsed >= 0.85, f"three 0.3 s calls one at a time took only {elapsed:.2f} s"
    assert _overlaps(fake_agent.calls, 0.3) == 0


@pytest.mark.asyncio
async def test_max_requests_per_minute_paces_calls(fake_agent: FakeAgentServer, agents: HttpAgentClient) -> None:
    h = Harness(agents=agents)
    doc = ckp({"a": seq(*[{"action": "execute_query", "query": f"q{i}"} for i in range(4)], agent="API",
                        next_node="done"),
               "done": end()}, global_config={"rate_limiting": {"max_requests_per_minute": 600}})

    out = await h.run(doc)

    assert out.status == "completed", out.error
    starts = [c["received_at"] for c in fake_agent.calls]
    # 600/min = one call per 100 ms: the k-th call starts no sooner than k slots after the first
    # (a late earlier call may leave a shorter gap before the next one, never a faster rate).
    since_first = [round(t - starts[0], 3) for t in starts]
    assert len(starts) == 4 and all(since_first[k] >= 0.1 * k - 0.01 for k in range(4)), since_first


# ----------------------------------------------------------------------------- on_failure
@pytest.mark.asyncio
async def test_on_failure_node_receives_the_error_and_ends_the_run(fake_agent: FakeAgentServer,
                                                                   agents: HttpAgentClient) -> None:
    fake_agent.fail_next(400, action="click")
    h = Harness(agents=agents)
    doc = ckp({
        "a": seq({"action": "click", "target": "#x"}, agent="WEB", next_node="done"),
        "done": end(),
        "recover": {"type": "processing", "next_node": "failed_end", "operations": [
            {"action": "format_string", "template": "recovered from {{error.node_id}}: {{error.message}}",
             "output_variable": "note"}]},
        "failed_end": end("failed", outputs={"note": "{{note}}"}),
    }, global_config={"on_failure": "recover"})

    out = await h.run(doc)

    assert out.status == "failed"
    assert out.outputs["note"].startswith("recovered from a: agent for channel 'WEB' answered HTTP 400")
    assert [e.node_id for e in h.events.of("node_started")] == ["a", "recover", "failed_end"]


@pytest.mark.asyncio
async def test_a_failing_recovery_node_ends_the_run_without_looping_and_keeps_the_first_failure() -> None:
    h = Harness()
    doc = ckp({
        "a": {"type": "verification", "checks": [{"condition": "false", "message": "first failure"}],
              "next_node": "done"},
        "done": end(),
        "recover": {"type": "verification", "checks": [{"condition": "false", "message": "second failure"}],
                    "next_node": "done"},
    }, global_config={"on_failure": "recover"})

    out = await h.run(doc)

    assert out.status == "failed"
    assert out.error is not None and out.error["message"] == "first failure" and out.error["node_id"] == "a"
    assert out.error["handler_error"]["message"] == "second failure"
    assert out.error["handler_error"]["node_id"] == "recover"
    assert out.last_node == "recover"
    assert [e.node_id for e in h.events.of("node_started")] == ["a", "recover"]


# ----------------------------------------------------------------------------- SLA and node timeout
def _slow(sla: dict[str, Any], **node: Any) -> dict[str, Any]:
    return ckp({
        "slow": seq({"action": "wait", "duration_ms": 300}, {"action": "set_variable", "variable": "finished",
                                                             "value": True},
                    sla=sla, next_node="done", **node),
        "done": end(outputs={"route": "normal"}),
        "escalate": end(outputs={"route": "escalated"}),
    })


@pytest.mark.asyncio
async def test_sla_warn_emits_a_breach_and_continues() -> None:
    h = Harness()

    out = await h.run(_slow({"max_duration_ms": 100, "on_breach": "warn"}))

    assert out.status == "completed"
    assert out.outputs == {"route": "normal"}
    [breach] = h.events.payloads("sla_breached")
    assert breach["on_breach"] == "warn" and breach["duration_ms"] >= 300


@pytest.mark.asyncio
async def test_sla_fail_stops_the_node_at_the_limit() -> None:
    h = Harness()

    started = time.monotonic()
    out = await h.run(_slow({"max_duration_ms": 100, "on_breach": "fail"}))

    assert time.monotonic() - started < 0.3
    assert out.status == "failed"
    assert out.error is not None and out.error["type"] == "SlaBreached"
    assert "finished" not in out.vars


@pytest.mark.asyncio
async def test_sla_escalate_routes_to_the_escalation_handler() -> None:
    h = Harness()

    out = await h.run(_slow({"max_duration_ms": 100, "on_breach": "escalate", "escalation_handler": "escalate"}))

    assert out.status == "completed"
    assert out.outputs == {"route": "escalated"}


@pytest.mark.asyncio
async def test_sla_within_limit_is_silent() -> None:
    h = Harness()

    out = await h.run(_slow({"max_duration_ms": 5000, "on_breach": "fail"}))

    assert out.status == "completed"
    assert h.events.of("sla_breached") == []


@pytest.mark.asyncio
async def test_node_timeout_ms_fails_a_node_that_runs_too_long() -> None:
    h = Harness()
    doc = ckp({"slow": seq({"action": "wait", "duration_ms": 2000}, timeout_ms=100, next_node="done"),
               "done": end()})

    started = time.monotonic()
    out = await h.run(doc)

    assert time.monotonic() - started < 1
    assert out.status == "failed"
    assert out.error is not None and out.error["type"] == "NodeTimeout"
