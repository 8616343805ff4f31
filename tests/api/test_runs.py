"""/api/runs: start (inputs checked), list and filter, read, events, cancel (within a
second), retry from the failed node, delete, cleanup, metrics, diagnostics, checkpoints and
artifacts — against the real app with its embedded worker on a migrated SQLite file."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from langorch.settings import Settings
from langorch.store.db import make_engine, make_sessionmaker
from langorch.store.models import Artifact
from tests.api.conftest import assert_error
from tests.api.run_support import (
    approval_doc,
    doc,
    end,
    events,
    import_procedure,
    log_doc,
    pending_approvals,
    register_agent,
    start_run,
    wait_doc,
    wait_status,
)
from tests.fakes.agent_server import FakeAgentServer

pytest_plugins = ("tests.api.run_fixtures",)
pytestmark = pytest.mark.asyncio

RUN_FIELDS = {"run_id", "procedure_id", "procedure_version", "thread_id", "status", "input_vars", "output_vars",
              "total_prompt_tokens", "total_completion_tokens", "estimated_cost_usd", "started_at", "ended_at",
              "last_node_id", "error_message", "trigger_type", "triggered_by", "created_at", "updated_at",
              "project_id", "error"}


async def test_a_posted_run_is_committed_queued_and_then_completes(api: httpx.AsyncClient) -> None:
    await import_procedure(api, log_doc())

    response = await api.post("/api/runs", json={"procedure_id": "hello", "input_vars": {"name": "Ann"}})

    assert response.status_code == 201, response.text
    run = response.json()
    assert set(run) >= RUN_FIELDS
    assert run["status"] in ("queued", "running", "completed")
    assert run["thread_id"] == run["run_id"] and run["procedure_version"] == "1.0.0"
    assert run["input_vars"] == {"name": "Ann"} and run["trigger_type"] == "manual"
    assert (await api.get(f"/api/runs/{run['run_id']}")).status_code == 200  # read-your-writes
    done = await wait_status(api, run["run_id"], "completed", "failed")
    assert done["status"] == "completed", done
    assert done["output_vars"] == {"greeting": "hello Ann"}
    assert done["started_at"] and done["ended_at"] and done["last_node_id"] == "done"


async def test_sensitive_inputs_are_masked_in_every_run_answer(api: httpx.AsyncClient) -> None:
    await import_procedure(api, doc("secretive", {
        "greet": {"type": "sequence", "next_node": "done",
                  "steps": [{"step_id": "hi", "action": "log", "value": "token {{token}}"}]},
        "done": end(outputs={"echo": "{{token}}"}),
    }, variables={"token": {"type": "string", "sensitive": True}}))

    created = await api.post("/api/runs", json={"procedure_id": "secretive", "input_vars": {"token": "tk-123456"}})

    assert created.status_code == 201, created.text
    assert created.json()["input_vars"] == {"token": "***"}
    done = await wait_status(api, created.json()["run_id"], "completed", "failed")
    assert done["status"] == "completed", done
    listed = (await api.get("/api/runs", params={"procedure_id": "secretive"})).text
    timeline = (await api.get(f"/api/runs/{done['run_id']}/events")).text
    for body in (str(done), listed, timeline):
        assert "tk-123456" not in body


async def test_inputs_are_checked_against_variables_schema_with_one_error_per_field(
        api: httpx.AsyncClient) -> None:
    await import_procedure(api, doc("typed", {"only": end()}, variables={
        "invoice_id": {"type": "string", "required": True, "validation": {"regex": "^INV-[0-9]+$"}},
        "amount": {"type": "number", "required": True, "validation": {"min": 1}},
        "currency": {"type": "string", "validation": {"allowed_values": ["EUR", "USD"]}},
    }))

    response = await api.post("/api/runs", json={"procedure_id": "typed",
                                                 "input_vars": {"invoice_id": "nope", "currency": "GBP"}})

    error = assert_error(response, 422, "invalid_input")
    fields = sorted(d["field"] for d in error["details"])
    assert fields == ["amount", "currency", "invoice_id"]
    listed = (await api.get("/api/runs", params={"procedure_id": "typed"})).json()
    assert listed == []  # nothing was queued


async def test_unknown_procedure_or_version_is_404(api: httpx.AsyncClient) -> None:
    await import_procedure(api, log_doc())
    assert_error(await api.post("/api/runs", json={"procedure_id": "nope"}), 404, "not_found")
    assert_error(await api.post("/api/runs", json={"procedure_id": "hello", "procedure_version": "9.9"}), 404)
    assert_error(await api.post("/api/runs", json={"input_vars": {}}), 422)


async def test_the_latest_active_version_runs_unless_one_is_named(api: httpx.AsyncClient) -> None:
    await import_procedure(api, log_doc(version="1.0.0"))
    await import_procedure(api, {**log_doc(version="1.10.0"), "status": "active"})
    await import_procedure(api, {**log_doc(version="2.0.0"), "status": "draft"})

    latest = await start_run(api, "hello")
    named = await start_run(api, "hello", procedure_version="2.0.0")

    assert latest["procedure_version"] == "1.10.0"
    assert named["procedure_version"] == "2.0.0"


async def test_list_filters_paginates_and_counts(api: httpx.AsyncClient) -> None:
    await import_procedure(api, log_doc())
    await import_procedure(api, approval_doc())
    done = [await start_run(api, "hello") for _ in range(3)]
    waiting = await start_run(api, "approve_me")
    for run in done:
        await wait_status(api, run["run_id"], "completed")
    await wait_status(api, waiting["run_id"], "waiting_approval")

    page = await api.get("/api/runs", params={"limit": 2, "offset": 0})
    assert page.status_code == 200 and len(page.json()) == 2 and page.headers["x-total-count"] == "4"
    completed = await api.get("/api/runs", params={"status": "completed,failed"})
    assert {r["run_id"] for r in completed.json()} == {r["run_id"] for r in done}
    by_proc = await api.get("/api/runs", params={"procedure_id": "approve_me"})
    assert [r["run_id"] for r in by_proc.json()] == [waiting["run_id"]]
    found = await api.get("/api/runs", params={"search": waiting["run_id"][:10]})
    assert [r["run_id"] for r in found.json()] == [waiting["run_id"]]
    later = await api.get("/api/runs", params={"created_after": "2999-01-01T00:00:00Z"})
    assert later.json() == [] and later.headers["x-total-count"] == "0"
    assert (await api.get("/api/runs", params={"limit": 0})).status_code == 422


async def test_events_are_ordered_by_seq_without_gaps(api: httpx.AsyncClient) -> None:
    await import_procedure(api, log_doc())
    run = await start_run(api, "hello")
    await wait_status(api, run["run_id"], "completed")

    timeline = await events(api, run["run_id"])

    assert [e["seq"] for e in timeline] == list(range(1, len(timeline) + 1))
    assert timeline[0]["event_type"] == "run_started" and timeline[-1]["event_type"] == "run_completed"
    after = (await api.get(f"/api/runs/{run['run_id']}/events", params={"after_seq": 2})).json()
    assert [e["seq"] for e in after] == list(range(3, len(timeline) + 1))
    assert_error(await api.get("/api/runs/nope/events"), 404)


async def test_cancel_reaches_a_running_step_within_one_second(api: httpx.AsyncClient) -> None:
    await import_procedure(api, wait_doc(wait_ms=30_000))
    run = await start_run(api, "slow")
    await wait_status(api, run["run_id"], "running")
    await asyncio.sleep(0.3)  # inside the 30 s wait step

    started = time.perf_counter()
    response = await api.post(f"/api/runs/{run['run_id']}/cancel")
    assert response.status_code == 200, response.text
    assert response.json()["cancellation_requested"] is True
    canceled = await wait_status(api, run["run_id"], "canceled", "completed", "failed", timeout=5)
    elapsed = time.perf_counter() - started

    assert canceled["status"] == "canceled"
    assert elapsed < 1.0, f"cancel took {elapsed:.3f}s"
    assert (await events(api, run["run_id"]))[-1]["event_type"] == "run_canceled"
    assert_error(await api.post(f"/api/runs/{run['run_id']}/cancel"), 409, "conflict")


async def test_cancel_of_a_waiting_run_ends_it_and_closes_its_approvals(api: httpx.AsyncClient) -> None:
    await import_procedure(api, approval_doc())
    run = await start_run(api, "approve_me")
    [approval] = await pending_approvals(api, run["run_id"])

    response = await api.post(f"/api/runs/{run['run_id']}/cancel")

    assert response.status_code == 200 and response.json()["status"] == "canceled"
    closed = (await api.get(f"/api/approvals/{approval['approval_id']}")).json()
    assert closed["status"] == "canceled"
    decided = await api.post(f"/api/approvals/{approval['approval_id']}/decision", json={"decision": "approve"})
    assert_error(decided, 409)
    assert (await events(api, run["run_id"]))[-1]["event_type"] == "run_canceled"


async def test_delete_refuses_running_runs_and_removes_finished_ones(api: httpx.AsyncClient) -> None:
    await import_procedure(api, wait_doc(wait_ms=30_000))
    await import_procedure(api, log_doc())
    slow = await start_run(api, "slow")
    await wait_status(api, slow["run_id"], "running")
    assert_error(await api.delete(f"/api/runs/{slow['run_id']}"), 409, "conflict")
    await api.post(f"/api/runs/{slow['run_id']}/cancel")
    await wait_status(api, slow["run_id"], "canceled")

    fast = await start_run(api, "hello")
    await wait_status(api, fast["run_id"], "completed")
    assert (await api.delete(f"/api/runs/{fast['run_id']}")).status_code == 204
    assert_error(await api.get(f"/api/runs/{fast['run_id']}"), 404)
    assert (await api.get(f"/api/runs/{fast['run_id']}/events")).status_code == 404
    assert_error(await api.delete("/api/runs/nope"), 404)


async def test_cleanup_history_deletes_only_finished_runs_before_a_date(api: httpx.AsyncClient) -> None:
    await import_procedure(api, log_doc())
    await import_procedure(api, approval_doc())
    done = await start_run(api, "hello")
    waiting = await start_run(api, "approve_me")
    await wait_status(api, done["run_id"], "completed")
    await wait_status(api, waiting["run_id"], "waiting_approval")

    none = await api.delete("/api/runs/cleanup/history", params={"before": "2000-01-01T00:00:00Z"})
    assert none.status_code == 200 and none.json()["deleted"] == 0
    response = await api.delete("/api/runs/cleanup/history",
                                params={"before": "2999-01-01T00:00:00Z", "status": "completed,running"})

    assert response.status_code == 200
    assert response.json()["run_ids"] == [done["run_id"]] and response.json()["statuses"] == ["completed"]
    assert (await api.get(f"/api/runs/{waiting['run_id']}")).status_code == 200
    assert_error(await api.delete("/api/runs/cleanup/history", params={"status": "running"}), 422)


async def test_metrics_summary_counts_statuses_and_failure_rate(api: httpx.AsyncClient,
                                                                fake_agent: FakeAgentServer) -> None:
    await import_procedure(api, log_doc())
    await import_procedure(api, _agent_doc())
    await register_agent(api, "API", fake_agent.url)
    fake_agent.fail_next(400, action="post")
    ok = await start_run(api, "hello")
    bad = await start_run(api, "two_calls", input_vars={"ref": "A"})
    await wait_status(api, ok["run_id"], "completed")
    await wait_status(api, bad["run_id"], "failed")

    summary = (await api.get("/api/runs/metrics/summary")).json()

    assert summary["total_runs"] == 2
    assert summary["by_status"]["completed"] == 1 and summary["by_status"]["failed"] == 1
    assert summary["failure_rate"] == 0.5
    assert summary["this_week"]["runs"] == 2 and summary["this_week"]["failed"] == 1


def _agent_doc() -> dict[str, Any]:
    """fetch (agent) → post (agent, fails when scripted) → done."""
    return doc("two_calls", {
        "fetch": {"type": "sequence", "agent": "API", "next_node": "post",
                  "steps": [{"step_id": "get", "action": "fetch", "ref": "{{ref}}", "output_variable": "got"}]},
        "post": {"type": "sequence", "agent": "API", "next_node": "done",
                 "steps": [{"step_id": "put", "action": "post", "ref": "{{ref}}", "output_variable": "posted"}]},
        "done": end(outputs={"ref": "{{ref}}"}),
    }, variables={"ref": {"type": "string", "required": True}}, global_config={"max_retries": 0})


async def test_diagnostics_show_the_failed_node_and_step_records(api: httpx.AsyncClient,
                                                                 fake_agent: FakeAgentServer) -> None:
    await import_procedure(api, _agent_doc())
    await register_agent(api, "API", fake_agent.url)
    fake_agent.fail_next(400, action="post")
    run = await start_run(api, "two_calls", input_vars={"ref": "A"})
    failed = await wait_status(api, run["run_id"], "failed")

    diag = (await api.get(f"/api/runs/{run['run_id']}/diagnostics")).json()

    assert failed["error"]["node_id"] == "post" and failed["error_message"]
    assert diag["failed_node_id"] == "post" and diag["status"] == "failed"
    assert len(diag["step_idempotency"]) == 1  # fetch completed, post did not
    assert diag["pending_approvals"] == [] and diag["active_leases"] == []
    assert [j["status"] for j in diag["jobs"]] == ["done"]
    assert_error(await api.get("/api/runs/nope/diagnostics"), 404)


async def test_retry_continues_from_the_failed_node_with_changed_inputs(api: httpx.AsyncClient,
                                                                        fake_agent: FakeAgentServer) -> None:
    await import_procedure(api, _agent_doc())
    await register_agent(api, "API", fake_agent.url)
    fake_agent.fail_next(400, action="post")
    run = await start_run(api, "two_calls", input_vars={"ref": "A"})
    await wait_status(api, run["run_id"], "failed")

    response = await api.post(f"/api/runs/{run['run_id']}/retry", json={"input_vars": {"ref": "B"}})

    assert response.status_code == 201, response.text
    retry = response.json()
    assert retry["retry_of"] == run["run_id"] and retry["run_id"] != run["run_id"]
    assert retry["input_vars"] == {"ref": "B"} and retry["trigger_type"] == "retry"
    done = await wait_status(api, retry["run_id"], "completed", "failed")
    assert done["status"] == "completed", done
    assert done["output_vars"] == {"ref": "B"}
    assert len(fake_agent.calls_for("fetch")) == 1, "the node before the failure ran again"
    assert [c["params"]["ref"] for c in fake_agent.calls_for("post")] == ["A", "B"]
    started = (await events(api, retry["run_id"]))[0]
    assert started["event_type"] == "run_started" and started["payload"]["from_node"] == "post"
    assert_error(await api.post(f"/api/runs/{retry['run_id']}/retry", json={}), 409)


async def test_checkpoints_are_listed_and_readable(api: httpx.AsyncClient) -> None:
    await import_procedure(api, approval_doc())
    run = await start_run(api, "approve_me")
    await wait_status(api, run["run_id"], "waiting_approval")

    listed = (await api.get(f"/api/runs/{run['run_id']}/checkpoints")).json()

    assert listed and listed[0]["next"] == ["gate"] and listed[0]["interrupts"]
    detail = await api.get(f"/api/runs/{run['run_id']}/checkpoints/{listed[0]['checkpoint_id']}")
    assert detail.status_code == 200
    assert detail.json()["values"]["vars"]["stage"] == "prepped"
    assert_error(await api.get(f"/api/runs/{run['run_id']}/checkpoints/nope"), 404)
    assert_error(await api.get("/api/runs/nope/checkpoints"), 404)


async def test_artifacts_are_listed_and_downloaded(api: httpx.AsyncClient, run_settings: Settings,
                                                   tmp_path: Path) -> None:
    await import_procedure(api, log_doc())
    run = await start_run(api, "hello")
    await wait_status(api, run["run_id"], "completed")
    report = tmp_path / "report.txt"
    report.write_text("total: 42\n")
    engine = make_engine(run_settings.db.url)
    async with make_sessionmaker(engine)() as session:
        session.add(Artifact(artifact_id="a1", run_id=run["run_id"], name="report.txt", mime_type="text/plain",
                             size=report.stat().st_size, uri=report.as_uri()))
        session.add(Artifact(artifact_id="a2", run_id=run["run_id"], name="remote.bin", uri="s3://bucket/x"))
        await session.commit()
    await engine.dispose()

    listed = (await api.get(f"/api/runs/{run['run_id']}/artifacts")).json()
    content = await api.get(f"/api/runs/{run['run_id']}/artifacts/a1/content")

    assert [a["name"] for a in listed] == ["report.txt", "remote.bin"]
    assert content.status_code == 200 and content.text == "total: 42\n"
    assert content.headers["content-type"].startswith("text/plain")
    assert_error(await api.get(f"/api/runs/{run['run_id']}/artifacts/a2/content"), 404)
    assert_error(await api.get(f"/api/runs/{run['run_id']}/artifacts/zz/content"), 404)


async def test_an_agent_that_keeps_failing_has_its_circuit_opened_and_leaves_rotation(
        api: httpx.AsyncClient, fake_agent: FakeAgentServer) -> None:
    await import_procedure(api, _agent_doc())
    await register_agent(api, "API", fake_agent.url)
    [agent] = (await api.get("/api/agents", params={"channel": "API"})).json()
    fake_agent.fail_next(503, times=3, action="fetch")

    for ref in ("A", "B", "C"):
        run = await start_run(api, "two_calls", input_vars={"ref": ref})
        assert (await wait_status(api, run["run_id"], "failed"))["status"] == "failed"

    opened = (await api.get(f"/api/agents/{agent['agent_id']}")).json()
    assert opened["circuit_state"] == "open" and opened["consecutive_failures"] == 3
    assert opened["circuit_open_until"]
    calls = len(fake_agent.calls)
    run = await start_run(api, "two_calls", input_vars={"ref": "D"})
    failed = await wait_status(api, run["run_id"], "failed")
    assert "no online agent" in (failed["error_message"] or "")
    assert len(fake_agent.calls) == calls  # the open circuit kept the agent out of rotation

    closed = await api.put(f"/api/agents/{agent['agent_id']}", json={"circuit_state": "closed"})
    assert closed.json()["circuit_state"] == "closed"
    run = await start_run(api, "two_calls", input_vars={"ref": "E"})
    assert (await wait_status(api, run["run_id"], "completed"))["status"] == "completed"


async def test_retry_does_not_repeat_a_side_effect_the_failed_node_already_performed(
        api: httpx.AsyncClient, fake_agent: FakeAgentServer) -> None:
    await import_procedure(api, doc("charge_then_post", {
        "pay": {"type": "sequence", "agent": "API", "next_node": "done", "steps": [
            {"step_id": "charge", "action": "charge", "ref": "{{ref}}", "output_variable": "charged"},
            {"step_id": "post", "action": "post", "ref": "{{ref}}", "output_variable": "posted"}]},
        "done": end(outputs={"ref": "{{ref}}"}),
    }, variables={"ref": {"type": "string", "required": True}}, global_config={"max_retries": 0}))
    await register_agent(api, "API", fake_agent.url)
    fake_agent.fail_next(400, action="post")
    run = await start_run(api, "charge_then_post", input_vars={"ref": "A"})
    await wait_status(api, run["run_id"], "failed")

    first = (await api.post(f"/api/runs/{run['run_id']}/retry", json={})).json()
    fake_agent.fail_next(400, action="post")
    assert (await wait_status(api, first["run_id"], "completed", "failed"))["status"] == "failed"
    second = (await api.post(f"/api/runs/{first['run_id']}/retry", json={})).json()
    done = await wait_status(api, second["run_id"], "completed", "failed")

    assert done["status"] == "completed", done
    assert len(fake_agent.calls_for("charge")) == 1, "a retry charged again"
    assert len(fake_agent.calls_for("post")) == 3


# ----------------------------------------------------------------------------- where a run failed, ended, waits
def _routed_failure_doc(procedure_id: str, *, via: str) -> dict[str, Any]:
    """post (agent) fails; the failure goes to a failed terminate node through global
    on_failure (``via="on_failure"``) or the step's error handler (``via="fallback"``)."""
    post: dict[str, Any] = {"type": "sequence", "agent": "API", "next_node": "done",
                            "steps": [{"step_id": "put", "action": "post", "ref": "x", "output_variable": "posted"}]}
    config: dict[str, Any] = {"max_retries": 0}
    if via == "fallback":
        post["error_handlers"] = [{"error_type": "*", "action": "fallback_node", "fallback_node": "workflow_failed"}]
    else:
        config["on_failure"] = "workflow_failed"
    return doc(procedure_id, {"post": post, "done": end(), "workflow_failed": end("failed")}, global_config=config)


@pytest.mark.parametrize("via", ["on_failure", "fallback"])
async def test_a_failure_routed_to_a_terminate_node_names_the_failing_node_and_the_end(
        api: httpx.AsyncClient, fake_agent: FakeAgentServer, via: str) -> None:
    await import_procedure(api, _routed_failure_doc(f"routed_{via}", via=via))
    await register_agent(api, "API", fake_agent.url)
    fake_agent.fail_next(400, action="post")

    run = await start_run(api, f"routed_{via}")
    failed = await wait_status(api, run["run_id"], "failed")
    diag = (await api.get(f"/api/runs/{run['run_id']}/diagnostics")).json()

    assert failed["error"]["node_id"] == "post", failed["error"]
    assert failed["last_node_id"] == "workflow_failed"
    assert diag["failed_node_id"] == "post" and diag["last_node_id"] == "workflow_failed"


async def test_a_run_waiting_for_a_person_names_the_approval_node_as_its_last_node(api: httpx.AsyncClient) -> None:
    await import_procedure(api, approval_doc())

    run = await start_run(api, "approve_me")
    waiting = await wait_status(api, run["run_id"], "waiting_approval")

    assert waiting["last_node_id"] == "gate"


async def test_a_test_mode_run_answers_from_test_data_reaches_no_agent_and_says_its_mode(
        api: httpx.AsyncClient, fake_agent: FakeAgentServer) -> None:
    document = _agent_doc()
    document["global_config"]["test_data_overrides"] = {"fetch.get": {"id": 7}, "put": {"posted": True}}
    document["workflow_graph"]["nodes"]["done"] = end(outputs={"got": "{{got}}", "posted": "{{posted}}"})
    await import_procedure(api, document)
    await register_agent(api, "API", fake_agent.url)

    run = await start_run(api, "two_calls", input_vars={"ref": "A"}, mode="test")
    done = await wait_status(api, run["run_id"], "completed")
    timeline = await events(api, run["run_id"])

    assert run["mode"] == "test" and done["mode"] == "test"
    assert done["output_vars"] == {"got": {"id": 7}, "posted": {"posted": True}}
    assert fake_agent.calls == []
    assert all(e["payload"].get("mode") == "test" for e in timeline)
    assert [e["step_id"] for e in timeline if e["event_type"] == "step_test_override_applied"] == ["get", "put"]


async def test_a_run_without_a_mode_is_production_and_an_unknown_mode_is_422(
        api: httpx.AsyncClient) -> None:
    await import_procedure(api, log_doc())

    run = await start_run(api, "hello")
    bad = await api.post("/api/runs", json={"procedure_id": "hello", "mode": "staging"})

    assert run["mode"] == "production"
    assert_error(bad, 422, "invalid_request")


async def test_a_failing_on_failure_handler_keeps_the_original_failure_and_adds_its_own(
        api: httpx.AsyncClient, fake_agent: FakeAgentServer) -> None:
    document = _routed_failure_doc("handler_fails", via="on_failure")
    document["workflow_graph"]["nodes"]["workflow_failed"] = {
        "type": "sequence", "agent": "PAGER", "next_node": "done",
        "steps": [{"step_id": "page", "action": "page_oncall", "text": "{{error.message}}"}]}
    await import_procedure(api, document)
    await register_agent(api, "API", fake_agent.url)
    fake_agent.fail_next(400, action="post")

    run = await start_run(api, "handler_fails")
    failed = await wait_status(api, run["run_id"], "failed")

    assert failed["error"]["node_id"] == "post", failed["error"]
    assert failed["error"]["handler_error"]["node_id"] == "workflow_failed"
    assert "PAGER" in failed["error"]["handler_error"]["message"]
    assert failed["last_node_id"] == "workflow_failed"
