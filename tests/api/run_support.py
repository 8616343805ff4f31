"""Helpers for the run, approval, SSE and queue tests (fixtures: ``run_fixtures``).

The app runs for real: ``create_app`` on a migrated SQLite file, served by uvicorn on a
loopback port (SSE needs a real socket), with the embedded worker and its loops on fast
timings. Procedures are imported through ``POST /api/procedures``; agents are registered
through ``POST /api/agents`` and answered by the loopback ``FakeAgentServer``.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

import httpx
import pytest

from langorch.settings import ApiSettings, DatabaseSettings, Settings, WorkerSettings

WORKLOADS = Path(__file__).resolve().parents[3] / "shared" / "bench" / "workloads"
TERMINAL = ("completed", "failed", "canceled")


def worker_settings(db_path: Path, **worker: Any) -> Settings:
    values: dict[str, Any] = {"embedded": True, "concurrency": 4, "poll_interval_s": 1.0, "heartbeat_s": 0.3,
                              "stale_after_s": 3.0, "cancel_grace_s": 0.3}
    values.update(worker)
    return Settings(db=DatabaseSettings(url=f"sqlite+aiosqlite:///{db_path}"), worker=WorkerSettings(**values),
                    api=ApiSettings(max_body_bytes=1024 * 1024))


# -- CKP documents -----------------------------------------------------------------------------


def doc(procedure_id: str, nodes: Mapping[str, Any], *, start: str | None = None, version: str = "1.0.0",
        variables: Mapping[str, Any] | None = None, **root: Any) -> dict[str, Any]:
    document: dict[str, Any] = {"procedure_id": procedure_id, "version": version, "status": "active",
                                "workflow_graph": {"start_node": start or next(iter(nodes)), "nodes": dict(nodes)}}
    if variables is not None:
        document["variables_schema"] = dict(variables)
    document.update(root)
    return document


def end(status: str = "success", **extra: Any) -> dict[str, Any]:
    return {"type": "terminate", "status": status, **extra}


def log_doc(procedure_id: str = "hello", version: str = "1.0.0") -> dict[str, Any]:
    return doc(procedure_id, {
        "greet": {"type": "sequence", "next_node": "done",
                  "steps": [{"step_id": "hi", "action": "log", "value": "hello {{name}}"}]},
        "done": end(outputs={"greeting": "hello {{name}}"}),
    }, variables={"name": {"type": "string", "default": "world"}}, version=version)


def approval_doc(procedure_id: str = "approve_me", **gate: Any) -> dict[str, Any]:
    return doc(procedure_id, {
        "prep": {"type": "processing", "next_node": "gate",
                 "operations": [{"action": "set_variable", "variable": "stage", "value": "prepped"}]},
        "gate": {"type": "human_approval", "prompt": "Pay {{amount}}?", "context_data": {"amount": "{{amount}}"},
                 "decision_variable": "verdict", "on_approve": "paid", "on_reject": "refused", **gate},
        "paid": end(outputs={"route": "approved", "verdict": "{{verdict}}"}),
        "refused": end(outputs={"route": "rejected", "verdict": "{{verdict}}"}),
    }, variables={"amount": {"type": "number", "default": 120}})


def gates_doc(procedure_id: str = "three_gates") -> dict[str, Any]:
    nodes: dict[str, Any] = {
        "fork": {"type": "parallel", "next_node": "after",
                 "branches": [{"branch_id": g, "start_node": g} for g in ("legal", "finance", "ops")]},
    }
    for g in ("legal", "finance", "ops"):
        nodes[g] = {"type": "human_approval", "prompt": f"{g} sign-off", "decision_variable": f"{g}_decision",
                    "on_approve": "after", "on_reject": "after"}
    nodes["after"] = end(outputs={g: "{{" + g + "_decision}}" for g in ("legal", "finance", "ops")})
    return doc(procedure_id, nodes)


def wait_doc(procedure_id: str = "slow", wait_ms: int = 10_000) -> dict[str, Any]:
    return doc(procedure_id, {
        "nap": {"type": "sequence", "next_node": "done",
                "steps": [{"step_id": "zz", "action": "wait", "duration_ms": wait_ms}]},
        "done": end(),
    })


def workload(name: str) -> dict[str, Any]:
    if not WORKLOADS.exists():
        pytest.skip(f"{WORKLOADS} is not here")
    data: dict[str, Any] = json.loads((WORKLOADS / name).read_text())
    return data


# -- API helpers ---------------------------------------------------------------------------------


async def import_procedure(api: httpx.AsyncClient, document: Mapping[str, Any]) -> dict[str, Any]:
    response = await api.post("/api/procedures", json={"ckp_json": dict(document)})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def register_agent(api: httpx.AsyncClient, channel: str, url: str, name: str = "fake") -> None:
    response = await api.post("/api/agents", json={"name": name, "channel": channel, "base_url": url})
    assert response.status_code == 201, response.text


async def start_run(api: httpx.AsyncClient, procedure_id: str, **body: Any) -> dict[str, Any]:
    response = await api.post("/api/runs", json={"procedure_id": procedure_id, **body})
    assert response.status_code == 201, response.text
    run: dict[str, Any] = response.json()
    return run


async def wait_status(api: httpx.AsyncClient, run_id: str, *statuses: str, timeout: float = 20) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    run: dict[str, Any] = {}
    while time.monotonic() < deadline:
        run = (await api.get(f"/api/runs/{run_id}")).json()
        if run.get("status") in statuses:
            return run
        await asyncio.sleep(0.03)
    raise AssertionError(f"run {run_id} is {run.get('status')}, not {statuses} after {timeout}s: {run}")


async def pending_approvals(api: httpx.AsyncClient, run_id: str, count: int = 1,
                            timeout: float = 20) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    items: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        items = (await api.get("/api/approvals", params={"run_id": run_id, "status": "pending"})).json()
        if len(items) >= count:
            return items
        await asyncio.sleep(0.03)
    raise AssertionError(f"run {run_id} has {len(items)} pending approvals, expected {count}")


async def events(api: httpx.AsyncClient, run_id: str) -> list[dict[str, Any]]:
    response = await api.get(f"/api/runs/{run_id}/events")
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()
    return items


class SseMessage:
    def __init__(self) -> None:
        self.id: str | None = None
        self.event = "message"
        self.data: list[str] = []

    @property
    def json(self) -> Any:
        return json.loads("\n".join(self.data))


async def read_sse(response: httpx.Response, *, stop_after: int | None = None) -> AsyncIterator[SseMessage]:
    """Parse a text/event-stream body into messages (comments and pings skipped)."""
    current = SseMessage()
    seen = 0
    async for line in response.aiter_lines():
        if line == "":
            if current.data or current.id is not None:
                yield current
                seen += 1
                if stop_after is not None and seen >= stop_after:
                    return
            current = SseMessage()
            continue
        if line.startswith(":"):
            continue
        field, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if field == "id":
            current.id = value
        elif field == "event":
            current.event = value
        elif field == "data":
            current.data.append(value)


async def stream_run(api: httpx.AsyncClient, run_id: str, *, last_event_id: int | None = None,
                     stop_after: int | None = None, timeout: float = 30) -> list[SseMessage]:
    """Read a run's SSE stream until it ends (or ``stop_after`` messages); the messages."""
    headers = {"Last-Event-ID": str(last_event_id)} if last_event_id is not None else {}
    out: list[SseMessage] = []

    async def consume() -> None:
        async with api.stream("GET", f"/api/runs/{run_id}/stream", headers=headers) as response:
            assert response.status_code == 200, await response.aread()
            async for message in read_sse(response, stop_after=stop_after):
                out.append(message)

    await asyncio.wait_for(consume(), timeout)
    return out
