"""processing, transform, logic, verification and terminate nodes in a running graph."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from langorch.connectors.agents import HttpAgentClient
from tests.fakes.agent_server import FakeAgentServer
from tests.runtime.harness import Harness, RecordingSleep, ckp, end, setvar


@pytest_asyncio.fixture
async def agents(fake_agent: FakeAgentServer) -> AsyncIterator[HttpAgentClient]:
    async with HttpAgentClient({"EMAIL": fake_agent.url}) as client:
        yield client


# ----------------------------------------------------------------------------- processing / transform
@pytest.mark.asyncio
async def test_processing_operations_run_in_order_and_see_earlier_results() -> None:
    h = Harness()
    doc = ckp({
        "p": {"type": "processing", "next_node": "done", "operations": [
            {"action": "parse_json", "source": "{{raw}}", "output_variable": "data"},
            {"action": "calculate", "expression": "data.qty * data.price", "output_variable": "total"},
            {"action": "format_string", "template": "total={{total}}", "output_variable": "label"},
        ]},
        "done": end(outputs={"label": "{{label}}"}),
    }, variables={"raw": {"type": "string"}})

    out = await h.run(doc, {"raw": '{"qty": 3, "price": 2.5}'})

    assert out.status == "completed", out.error
    assert out.vars["total"] == 7.5
    assert out.outputs == {"label": "total=7.5"}


@pytest.mark.asyncio
async def test_transform_filters_and_sorts_a_list_into_variables() -> None:
    h = Harness()
    doc = ckp({
        "t": {"type": "transform", "next_node": "done", "transformations": [
            {"type": "filter", "source_variable": "items", "expression": "item.qty > 1", "output_variable": "big"},
            {"type": "sort", "source_variable": "big", "output_variable": "sorted",
             "params": {"key": "qty", "order": "desc"}},
        ]},
        "done": end(),
    }, variables={"items": {"type": "array"}})

    out = await h.run(doc, {"items": [{"qty": 1}, {"qty": 5}, {"qty": 3}]})

    assert out.status == "completed", out.error
    assert out.vars["big"] == [{"qty": 5}, {"qty": 3}]
    assert out.vars["sorted"] == [{"qty": 5}, {"qty": 3}]


# ----------------------------------------------------------------------------- logic
def _router() -> dict[str, object]:
    return ckp({
        "route": {"type": "logic", "rules": [
            {"condition": "amount > 1000", "next_node": "big"},
            {"condition": "amount > 100", "next_node": "medium"},
        ], "default_next_node": "small"},
        "big": end(outputs={"size": "big"}),
        "medium": end(outputs={"size": "medium"}),
        "small": end(outputs={"size": "small"}),
    }, variables={"amount": {"type": "number"}})


@pytest.mark.asyncio
@pytest.mark.parametrize(("amount", "size"), [(5000, "big"), (500, "medium"), (5, "small")])
async def test_logic_first_matching_rule_wins_else_default(amount: int, size: str) -> None:
    h = Harness()

    out = await h.run(_router(), {"amount": amount})

    assert out.outputs == {"size": size}
    assert len(h.events.of("route_selected")) == 1


@pytest.mark.asyncio
async def test_logic_without_default_follows_next_node() -> None:
    h = Harness()
    doc = ckp({
        "route": {"type": "logic", "rules": [{"condition": "flag == true", "next_node": "yes"}],
                  "next_node": "no"},
        "yes": end(outputs={"went": "yes"}),
        "no": end(outputs={"went": "no"}),
    }, variables={"flag": {"type": "boolean"}})

    out = await h.run(doc, {"flag": False})

    assert out.outputs == {"went": "no"}


# ----------------------------------------------------------------------------- verification
def _verify(on_fail: str, routes: bool = False) -> dict[str, object]:
    node: dict[str, object] = {"type": "verification", "next_node": "done", "checks": [
        {"id": "positive", "condition": "total > 0", "on_fail": on_fail, "message": "total must be positive"},
    ]}
    if routes:
        node.update(on_pass="passed", on_fail="failed")
    return ckp({"v": node, "done": end(outputs={"v": "{{verification.passed}}"}),
                "passed": end(outputs={"route": "pass"}), "failed": end(outputs={"route": "fail"})},
               variables={"total": {"type": "number"}})


@pytest.mark.asyncio
async def test_verification_fail_workflow_fails_the_run() -> None:
    h = Harness()

    out = await h.run(_verify("fail_workflow"), {"total": -1})

    assert out.status == "failed"
    assert out.error is not None
    assert out.error["type"] == "VerificationFailed" and out.error["message"] == "total must be positive"


@pytest.mark.asyncio
async def test_verification_warn_emits_a_warning_and_continues() -> None:
    h = Harness()

    out = await h.run(_verify("warn"), {"total": -1})

    assert out.status == "completed"
    assert h.events.payloads("verification_warning") == [{"check": "positive", "message": "total must be positive"}]


@pytest.mark.asyncio
async def test_verification_continue_records_the_failure_silently() -> None:
    h = Harness()

    out = await h.run(_verify("continue"), {"total": -1})

    assert out.status == "completed"
    assert out.vars["verification"]["results"] == {"positive": False}
    assert h.events.of("verification_warning") == []


@pytest.mark.asyncio
@pytest.mark.parametrize(("total", "route"), [(5, "pass"), (-5, "fail")])
async def test_verification_routes_to_on_pass_or_on_fail(total: int, route: str) -> None:
    h = Harness()

    out = await h.run(_verify("fail_workflow", routes=True), {"total": total})

    assert out.status == "completed"
    assert out.outputs == {"route": route}


# ----------------------------------------------------------------------------- terminate
@pytest.mark.asyncio
async def test_terminate_success_renders_outputs_and_runs_cleanup_actions(fake_agent: FakeAgentServer,
                                                                          agents: HttpAgentClient) -> None:
    h = Harness(agents=agents)
    doc = ckp({
        "s": setvar("order", "o-1", next_node="done"),
        "done": end(outputs={"order": "{{order}}", "n": "{{count}}"},
                    cleanup_actions=[{"action": "set_variable", "variable": "count", "value": 2},
                                     {"action": "send_email", "recipients": ["ops@x.test"],
                                      "subject": "done {{order}}"}]),
    })

    out = await h.run(doc)

    assert out.status == "completed"
    assert out.outputs == {"order": "o-1", "n": 2}
    assert [c["action"] for c in fake_agent.calls] == ["send_email"]
    assert fake_agent.calls[0]["params"]["subject"] == "done o-1"


@pytest.mark.asyncio
async def test_terminate_custom_error_action_goes_to_the_nodes_agent_like_a_sequence_step(
        fake_agent: FakeAgentServer, agents: HttpAgentClient) -> None:
    fake_agent.set_result("page_oncall", {"paged": "oncall-7"})
    fake_agent.fail_next(503, action="page_oncall")
    h = Harness(agents=agents, sleep=RecordingSleep())
    doc = ckp({
        "s": setvar("batch", "B-9", next_node="stop"),
        "stop": end("failed", agent="EMAIL", outputs={"paged": "{{page.paged}}"}, error_actions=[
            {"action": "page_oncall", "recipients": ["oncall@x.test"], "subject": "batch {{batch}} failed",
             "output_variable": "page", "max_retries": 1, "retry_delay_ms": 10},
            {"action": "log", "message": "paged {{page.paged}}"}]),
    })

    out = await h.run(doc)

    assert out.status == "failed"
    assert [c["action"] for c in fake_agent.calls] == ["page_oncall", "page_oncall"], "retried like a step"
    assert fake_agent.calls[1]["params"] == {"recipients": ["oncall@x.test"], "subject": "batch B-9 failed"}
    assert fake_agent.calls[1]["step_id"] == "action_0"
    assert out.outputs == {"paged": "oncall-7"}
    assert [p["message"] for p in h.events.payloads("log")] == ["paged oncall-7"]
    assert h.events.of("terminate_action_failed") == []


@pytest.mark.asyncio
async def test_terminate_action_with_its_own_agent_goes_to_that_channel(fake_agent: FakeAgentServer) -> None:
    async with HttpAgentClient({"HELPDESK": fake_agent.url}) as client:
        h = Harness(agents=client)
        doc = ckp({"stop": end("failed", agent="EMAIL", error_actions=[
            {"step_id": "ticket", "action": "open_ticket", "agent": "HELPDESK", "value": {"sev": 1}}])})

        out = await h.run(doc)

    assert out.status == "failed"
    assert [(c["action"], c["step_id"], c["params"]) for c in fake_agent.calls] == [
        ("open_ticket", "ticket", {"value": {"sev": 1}})]


@pytest.mark.asyncio
async def test_terminate_step_actions_are_skipped_in_dry_run_and_keep_their_idempotency_key(
        fake_agent: FakeAgentServer, agents: HttpAgentClient) -> None:
    doc = ckp({"stop": end("failed", agent="EMAIL", error_actions=[
        {"action": "page_oncall", "idempotency_key": "page-{{procedure_id}}"}])})
    h = Harness(agents=agents)

    dry = await h.run(doc, run_id="dry", mode="dry_run")
    assert dry.status == "failed" and fake_agent.calls == []
    assert h.events.payloads("step_skipped_dry_run")[0]["skipped_action"] == "page_oncall"

    await h.run(doc, run_id="first")
    await h.run(doc, run_id="second")  # same business key: the first run's result is reused
    assert len(fake_agent.calls) == 1
    assert [e.payload["cached"] for e in h.events.of("step_completed") if e.run_id == "second"] == [True]


@pytest.mark.asyncio
async def test_terminate_failed_ends_the_run_failed_and_runs_error_actions() -> None:
    h = Harness()
    doc = ckp({
        "s": setvar("reason", "no stock", next_node="stop"),
        "stop": end("failed", outputs={"reason": "{{reason}}"},
                    cleanup_actions=[{"action": "log", "message": "cleanup should not run"}],
                    error_actions=[{"action": "log", "message": "failing: {{reason}}", "level": "ERROR"}]),
    })

    out = await h.run(doc)

    assert out.status == "failed"
    assert out.outputs == {"reason": "no stock"}
    assert out.error is not None and out.error["type"] == "TerminatedAsFailed"
    assert [p["message"] for p in h.events.payloads("log")] == ["failing: no stock"]
    assert h.events.of("run_failed")
