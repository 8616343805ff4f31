"""GET /api/queue/stats: jobs by status, the oldest queued job's age, workers seen."""

from __future__ import annotations

import httpx
import pytest

from tests.api.run_support import (
    approval_doc,
    import_procedure,
    log_doc,
    start_run,
    wait_status,
)

pytest_plugins = ("tests.api.run_fixtures",)
pytestmark = pytest.mark.asyncio


async def test_stats_show_jobs_and_the_embedded_worker(api: httpx.AsyncClient) -> None:
    await import_procedure(api, log_doc())
    await import_procedure(api, approval_doc())
    done = await start_run(api, "hello")
    waiting = await start_run(api, "approve_me")
    await wait_status(api, done["run_id"], "completed")
    await wait_status(api, waiting["run_id"], "waiting_approval")

    response = await api.get("/api/queue/stats")

    assert response.status_code == 200, response.text
    stats = response.json()
    assert stats["jobs"] == {"queued": 0, "running": 0, "done": 2, "failed": 0, "canceled": 0}
    assert stats["oldest_queued_age_s"] is None and stats["queued_by_kind"] == {}
    [worker] = [w for w in stats["workers"] if w["alive"]]
    assert worker["embedded"] is True and worker["concurrency"] == 4
    assert worker["last_heartbeat_at"] and worker["running_jobs"] == 0


async def test_a_waiting_run_holds_no_job_and_a_decision_queues_one(api: httpx.AsyncClient) -> None:
    await import_procedure(api, approval_doc())
    run = await start_run(api, "approve_me")
    await wait_status(api, run["run_id"], "waiting_approval")
    before = (await api.get("/api/queue/stats")).json()
    assert before["jobs"]["running"] == 0 and before["jobs"]["queued"] == 0

    [approval] = (await api.get("/api/approvals", params={"run_id": run["run_id"]})).json()
    await api.post(f"/api/approvals/{approval['approval_id']}/decision", json={"decision": "approve"})
    await wait_status(api, run["run_id"], "completed")

    after = (await api.get("/api/queue/stats")).json()
    assert after["jobs"]["done"] == 2
