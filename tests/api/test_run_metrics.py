"""What a run does shows in /api/metrics: runs started and finished by procedure and
status, node and step durations, the approval wait, HTTP requests by route template."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.api.run_support import approval_doc, import_procedure, log_doc, pending_approvals, start_run, wait_status

pytest_plugins = ("tests.api.run_fixtures",)
pytestmark = pytest.mark.asyncio


def _value(text: str, name: str, **labels: str) -> float:
    """The sample ``name{labels}`` (labels in any order, others allowed), 0 when absent."""
    for line in text.splitlines():
        if not line.startswith(name + "{") and line.split(" ")[0] != name:
            continue
        if all(f'{k}="{v}"' in line for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


async def test_runs_nodes_steps_approvals_and_requests_are_counted(api: httpx.AsyncClient) -> None:
    before = (await api.get("/api/metrics")).text
    await import_procedure(api, log_doc("metered"))
    await import_procedure(api, approval_doc("metered_gate"))
    run = await start_run(api, "metered")
    await wait_status(api, run["run_id"], "completed")
    gated = await start_run(api, "metered_gate")
    [approval] = await pending_approvals(api, gated["run_id"])
    assert (await api.post(f"/api/approvals/{approval['approval_id']}/decision",
                           json={"decision": "approved"})).status_code == 200
    await wait_status(api, gated["run_id"], "completed")

    text = (await api.get("/api/metrics")).text

    def grew(name: str, **labels: str) -> float:
        return _value(text, name, **labels) - _value(before, name, **labels)

    assert grew("langorch_runs_started_total", procedure_id="metered", trigger_type="manual") == 1
    assert grew("langorch_runs_finished_total", procedure_id="metered", status="completed") == 1
    assert grew("langorch_runs_finished_total", procedure_id="metered_gate", status="waiting_approval") == 1
    assert grew("langorch_runs_finished_total", procedure_id="metered_gate", status="completed") == 1
    assert grew("langorch_run_duration_seconds_count", procedure_id="metered", status="completed") == 1
    assert grew("langorch_node_duration_seconds_count", node_type="sequence", outcome="completed") >= 1
    assert grew("langorch_step_duration_seconds_count", binding="internal", outcome="completed") >= 1
    assert grew("langorch_approval_wait_seconds_count", decision="approve") == 1
    assert grew("langorch_http_request_duration_seconds_count", method="POST", route="/api/runs", status="2xx") == 2
    assert re.search(r'langorch_http_request_duration_seconds_count\{[^}]*route="/api/runs/\{run_id\}"', text)
    assert "langorch_queue_oldest_age_seconds 0.0" in text
