"""As a user: import an active procedure whose trigger is a schedule, and runs start by
themselves on a live server (embedded worker and leader loops), each once per instant."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from tests.api.run_support import doc, end, import_procedure

pytest_plugins = ("tests.api.run_fixtures",)
pytestmark = pytest.mark.asyncio


async def test_an_activated_schedule_starts_runs_by_itself(api: httpx.AsyncClient) -> None:
    document = doc("every_two_seconds", {
        "hello": {"type": "sequence", "next_node": "done",
                  "steps": [{"step_id": "s", "action": "log", "value": "tick"}]},
        "done": end(),
    }, trigger={"type": "scheduled", "rrule": "FREQ=SECONDLY;INTERVAL=2"})
    await import_procedure(api, document)
    deadline = time.monotonic() + 20
    runs: list[dict[str, object]] = []
    while time.monotonic() < deadline:
        runs = (await api.get("/api/runs", params={"procedure_id": "every_two_seconds"})).json()
        if len([r for r in runs if r["status"] == "completed"]) >= 2:
            break
        await asyncio.sleep(0.3)
    completed = [r for r in runs if r["status"] == "completed"]
    assert len(completed) >= 2, runs
    assert {r["trigger_type"] for r in runs} == {"scheduled"} and {r["triggered_by"] for r in runs} == {"schedule"}
    first = (await api.get(f"/api/runs/{completed[-1]['run_id']}/events")).json()[0]
    assert first["event_type"] == "trigger_fired" and first["payload"]["scheduled_for"]
    instants = set()
    for run in runs:
        events = (await api.get(f"/api/runs/{run['run_id']}/events")).json()
        instants.add(events[0]["payload"]["scheduled_for"])
    assert len(instants) == len(runs)  # one run per instant
