"""The secret search (issue #10's acceptance test): a procedure uses one secret everywhere —
a log step, set_variable, an http_request's URL, header and body, an agent step, an
approval prompt, a failing request's error message and terminate outputs — on a real
``langorch serve`` process with its own SQLite database and log file. The run pauses at
the approval, the server process is stopped and started again, the approval is decided,
the run finishes. Then every database file (and its WAL), the log file, every file the
server wrote, and every API answer (runs, events, approvals, checkpoints list and detail,
diagnostics, the run's SSE stream and the approvals SSE stream) are searched for the
value, its base64 and its JSON-escaped forms: zero occurrences.

Meanwhile the loopback HTTP service and agent must have received the value: the run
worked, it just never kept it."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import secrets
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests import serve_process
from tests.api.run_support import (
    doc,
    end,
    import_procedure,
    pending_approvals,
    read_sse,
    register_agent,
    start_run,
    wait_status,
)
from tests.auth_support import bearer
from tests.fakes.agent_server import FakeAgentServer
from tests.fakes.echo_server import EchoServer

SHOWN = "<<secret:api_key>>"


class Serve(serve_process.Serve):
    """The server of this test: the secret in its environment."""

    def __init__(self, folder: Path, secret: str) -> None:
        super().__init__(folder, {"LANGORCH_SECRET_API_KEY": secret})


def _procedure(echo_url: str) -> dict[str, Any]:
    return doc("leaky", {
        "prep": {"type": "sequence", "next_node": "gate", "steps": [
            {"step_id": "say", "action": "log", "message": "using {{secrets.api_key}}"},
            {"step_id": "auth", "action": "set_variable", "variable": "auth", "value": "Bearer {{secrets.api_key}}"},
            {"step_id": "call", "action": "http_request", "method": "POST",
             "url": echo_url + "/echo?key={{secrets.api_key}}",
             "headers": {"Authorization": "{{auth}}", "X-Key": "{{secrets.api_key}}"},
             "body": {"key": "{{secrets.api_key}}", "auth": "{{auth}}"}, "output_variable": "echoed"},
            {"step_id": "agent", "action": "lookup", "agent": "WEB", "token": "{{auth}}",
             "key": "{{secrets.api_key}}", "output_variable": "agent_result"},
        ]},
        "gate": {"type": "human_approval", "prompt": "Send it with {{secrets.api_key}} ({{auth}})?",
                 "context_data": {"key": "{{secrets.api_key}}", "echo": "{{echoed.body.headers['x-key']}}"},
                 "on_approve": "after", "on_reject": "after"},
        "after": {"type": "sequence", "next_node": "ok", "steps": [
            {"step_id": "again", "action": "http_request", "method": "POST", "url": echo_url + "/again",
             "headers": {"Authorization": "{{auth}}"}, "body": {"key": "{{secrets.api_key}}"},
             "output_variable": "second"},
            {"step_id": "boom", "action": "http_request", "url": echo_url + "/fail?key={{secrets.api_key}}"},
        ]},
        "ok": end(),
        "failed_end": end("failed", outputs={"key": "{{secrets.api_key}}", "auth": "{{auth}}",
                                             "agent_echo": "{{agent_result.echo.key}}",
                                             "error": "{{error.message}}"}),
    }, global_config={"secrets_config": {"provider": "env_vars", "secret_references": {"api_key": "API_KEY"}},
                      "on_failure": "failed_end", "max_retries": 0})


@contextlib.asynccontextmanager
async def _client(url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=url, timeout=30, headers=bearer("admin")) as client:
        yield client


async def _follow(api: httpx.AsyncClient, path: str, into: list[str], ready: asyncio.Event) -> None:
    """Append every SSE message of ``path`` to ``into`` (raw data) until the stream ends."""
    async with api.stream("GET", path) as response:
        assert response.status_code == 200, await response.aread()
        ready.set()
        async for message in read_sse(response):
            into.append("\n".join(message.data))


async def _answers(api: httpx.AsyncClient, run_id: str) -> list[str]:
    """Every API answer about the run, as text."""
    paths = [f"/api/runs/{run_id}", "/api/runs", f"/api/runs/{run_id}/events", f"/api/runs/{run_id}/diagnostics",
             f"/api/approvals?run_id={run_id}", f"/api/runs/{run_id}/checkpoints", f"/api/runs/{run_id}/artifacts"]
    texts = []
    for path in paths:
        response = await api.get(path)
        assert response.status_code == 200, (path, response.text)
        texts.append(response.text)
    for approval in (await api.get("/api/approvals", params={"run_id": run_id})).json():
        texts.append((await api.get(f"/api/approvals/{approval['approval_id']}")).text)
    checkpoints = (await api.get(f"/api/runs/{run_id}/checkpoints")).json()
    assert checkpoints, "the run has checkpoints to inspect"
    for checkpoint in checkpoints:
        detail = await api.get(f"/api/runs/{run_id}/checkpoints/{checkpoint['checkpoint_id']}")
        assert detail.status_code == 200, detail.text
        texts.append(detail.text)
    return texts


def _forms(value: str) -> dict[str, str]:
    raw = value.encode()
    return {"value": value, "base64": base64.b64encode(raw).decode(),
            "base64 (URL-safe, unpadded)": base64.urlsafe_b64encode(raw).decode().rstrip("="),
            "JSON-escaped": json.dumps(value)[1:-1]}


@pytest.mark.asyncio
async def test_a_secret_used_everywhere_is_found_nowhere_after_a_pause_and_a_server_restart(tmp_path: Path) -> None:
    value = "lk-" + secrets.token_urlsafe(36)
    answers: list[str] = []
    run_stream: list[str] = []
    approval_stream: list[str] = []
    server = Serve(tmp_path, value)
    with EchoServer() as echo, FakeAgentServer() as agent:
        server.start()
        try:
            async with _client(server.url) as api:
                await register_agent(api, "WEB", agent.url)
                await import_procedure(api, _procedure(echo.url))
                ready = asyncio.Event()
                inbox = asyncio.create_task(_follow(api, "/api/approvals/stream", approval_stream, ready))
                await asyncio.wait_for(ready.wait(), 10)
                run_id = (await start_run(api, "leaky"))["run_id"]
                timeline = asyncio.create_task(_follow(api, f"/api/runs/{run_id}/stream", run_stream,
                                                       asyncio.Event()))
                await wait_status(api, run_id, "waiting_approval", timeout=60)
                [approval] = await pending_approvals(api, run_id)
                assert approval["prompt"] == f"Send it with {SHOWN} (Bearer {SHOWN})?"
                deadline = time.monotonic() + 10
                while not any('"created"' in m for m in approval_stream) and time.monotonic() < deadline:
                    await asyncio.sleep(0.05)
                assert any(approval["approval_id"] in m for m in approval_stream), "the inbox stream saw the gate"
                answers += await _answers(api, run_id)
                for task in (inbox, timeline):
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError, httpx.HTTPError):
                        await task
        finally:
            server.stop()

        server.start()  # the same database and checkpoints, a new process: nothing remembered in memory
        try:
            async with _client(server.url) as api:
                ready = asyncio.Event()
                inbox = asyncio.create_task(_follow(api, "/api/approvals/stream", approval_stream, ready))
                await asyncio.wait_for(ready.wait(), 10)
                decided = await api.post(f"/api/approvals/{approval['approval_id']}/decision",
                                         json={"decision": "approve"})
                assert decided.status_code == 200, decided.text
                final = await wait_status(api, run_id, "completed", "failed", "canceled", timeout=60)
                await asyncio.wait_for(_follow(api, f"/api/runs/{run_id}/stream", run_stream, asyncio.Event()), 30)
                answers += await _answers(api, run_id)
                deadline = time.monotonic() + 10
                while not any('"decided"' in m for m in approval_stream) and time.monotonic() < deadline:
                    await asyncio.sleep(0.05)
                inbox.cancel()
                with contextlib.suppress(asyncio.CancelledError, httpx.HTTPError):
                    await inbox
        finally:
            server.stop()

    # The run worked: the calls were sent the value, before and after the restart.
    assert [s["path"] for s in echo.seen] == [f"/echo?key={value}", "/again", f"/fail?key={value}"]
    assert echo.seen[0]["headers"]["authorization"] == f"Bearer {value}" and echo.seen[0]["headers"]["x-key"] == value
    assert echo.seen[0]["body"] == {"key": value, "auth": f"Bearer {value}"}
    assert echo.seen[1]["headers"]["authorization"] == f"Bearer {value}" and echo.seen[1]["body"] == {"key": value}
    assert agent.calls[0]["params"]["token"] == f"Bearer {value}" and agent.calls[0]["params"]["key"] == value
    # ... and kept references: the failure, its error message and the outputs name the secret.
    assert final["status"] == "failed", final
    assert f"/fail?key={SHOWN}" in final["error_message"] and f"/fail?key={SHOWN}" in final["error"]["message"]
    assert final["output_vars"]["key"] == SHOWN and final["output_vars"]["auth"] == f"Bearer {SHOWN}"
    assert final["output_vars"]["agent_echo"] == SHOWN, "the agent's echo of the value was sealed"
    assert any('"decided"' in m for m in approval_stream), "the inbox stream saw the decision"
    assert any('"run_failed"' in m for m in run_stream), "the run's stream was read to its end"

    places: dict[str, bytes] = {f"file {p.relative_to(tmp_path)}": p.read_bytes()
                                for p in sorted(tmp_path.rglob("*")) if p.is_file()}
    assert any(name.endswith("langorch.db") for name in places) and any("checkpoints.db" in n for n in places)
    assert "file serve.log" in places
    places.update({f"API answer {i}": a.encode() for i, a in enumerate(answers)})
    places["run SSE stream"] = "\n".join(run_stream).encode()
    places["approvals SSE stream"] = "\n".join(approval_stream).encode()
    found = [f"{form} in {place}" for place, blob in places.items() for form, text in _forms(value).items()
             if text.encode() in blob]
    assert found == [], found
