"""A ``langorch serve`` killed with kill -9 during an 8 s ``wait`` step and started again
finishes the run within 15 s of the restart, from its last checkpoint: the server takes
over its own previous claims at once (their liveness locks died with the old process) and
the wait step resumes with the time it had left, not all 8 s again."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx

from tests.auth_support import bearer
from tests.serve_process import Serve

ADMIN = bearer("admin")

PROCEDURE: dict[str, Any] = {
    "procedure_id": "slow_wait",
    "version": "1.0.0",
    "status": "active",
    "workflow_graph": {
        "start_node": "before",
        "nodes": {
            "before": {"type": "sequence", "next_node": "pause",
                       "steps": [{"step_id": "note", "action": "log", "value": "starting"}]},
            "pause": {"type": "sequence", "next_node": "done",
                      "steps": [{"step_id": "wait", "action": "wait", "duration_ms": 8000}]},
            "done": {"type": "terminate", "status": "success"},
        },
    },
}


def _events(http: httpx.Client, run_id: str) -> list[dict[str, Any]]:
    answer = http.get(f"/api/runs/{run_id}/events")
    answer.raise_for_status()
    events: list[dict[str, Any]] = answer.json()
    return events


def test_a_server_killed_during_a_wait_finishes_the_run_within_15_s_of_its_restart(tmp_path: Path) -> None:
    server = Serve(tmp_path)
    server.start()
    try:
        with httpx.Client(base_url=server.url, headers=ADMIN, timeout=10) as http:
            http.post("/api/procedures", json={"ckp_json": PROCEDURE}).raise_for_status()
            run_id = http.post("/api/runs", json={"procedure_id": "slow_wait"}).json()["run_id"]
            deadline = time.monotonic() + 30
            while not any(e["event_type"] == "step_started" and e["step_id"] == "wait" for e in _events(http, run_id)):
                assert time.monotonic() < deadline, server.log_path.read_text()[-3000:]
                time.sleep(0.1)
        waiting_since = time.monotonic()
        time.sleep(2)
        server.kill()

        restarted_at = time.monotonic()
        server.start()
        with httpx.Client(base_url=server.url, headers=ADMIN, timeout=10) as http:
            deadline = restarted_at + 30
            while (run := http.get(f"/api/runs/{run_id}").json())["status"] not in ("completed", "failed"):
                assert time.monotonic() < deadline, (run["status"], server.log_path.read_text()[-3000:])
                time.sleep(0.1)
            finished_at = time.monotonic()
            events = _events(http, run_id)
    finally:
        server.stop()

    assert run["status"] == "completed", run
    print(f"recovery: completed {finished_at - restarted_at:.1f} s after the restart began")
    assert finished_at - restarted_at <= 15, f"completed {finished_at - restarted_at:.1f} s after the restart"
    assert finished_at - waiting_since >= 7.5, "the wait was cut short"
    types = [e["event_type"] for e in events]
    assert "run_recovered" in types
    # From its last checkpoint: the node before the wait did not run again.
    assert [e["step_id"] for e in events if e["event_type"] == "step_started"].count("note") == 1
    resumed = [e for e in events if e["event_type"] == "step_completed" and e["step_id"] == "wait"]
    assert resumed and resumed[-1]["payload"]["result"]["resumed_with_ms"] < 7000, resumed
