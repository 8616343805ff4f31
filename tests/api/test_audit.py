"""The audit log through the API: mutating requests are recorded once, in the middleware, with
the action named from the route, the subject, the caller, the request id and the status;
reads and the caller's own mistakes are not, denied attempts are; GET /api/audit filters and
pages, /export streams JSON lines, /verify walks the chain; SSE still streams."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from langorch.api.audit import ACTIONS, AuditMiddleware, recorded_status, route_templates, template_key
from tests.api.conftest import assert_error, ckp, create_procedure
from tests.api.run_support import approval_doc, import_procedure, pending_approvals, start_run, stream_run
from tests.auth_support import bearer

pytest_plugins = ("tests.api.run_fixtures",)
pytestmark = pytest.mark.asyncio


async def entries(client: httpx.AsyncClient, **params: Any) -> list[dict[str, Any]]:
    response = await client.get("/api/audit", params=params)
    assert response.status_code == 200, response.text
    body: list[dict[str, Any]] = response.json()
    return body


async def test_the_app_installs_the_audit_middleware(app: FastAPI) -> None:
    assert any(m.cls is AuditMiddleware for m in app.user_middleware)


async def test_mutations_are_recorded_with_their_action_subject_and_caller(client: httpx.AsyncClient) -> None:
    await create_procedure(client, ckp("audited"))
    changed = await client.post("/api/procedures/audited/1.0.0/status", json={"status": "active"})
    assert changed.status_code == 200, changed.text
    project = (await client.post("/api/projects", json={"name": "finance"})).json()
    assert (await client.put(f"/api/projects/{project['id']}", json={"description": "d"})).status_code == 200
    agent = await client.post("/api/agents", json={"agent_id": "a1", "name": "A", "channel": "web",
                                                    "base_url": "http://agent.example:9000"})
    assert agent.status_code == 201, agent.text
    assert (await client.delete("/api/agents/a1")).status_code == 204

    got = await entries(client)

    assert [e["action"] for e in got] == ["agent.delete", "agent.create", "project.update", "project.create",
                                          "procedure.status", "procedure.import"]
    assert [e["seq"] for e in got] == [6, 5, 4, 3, 2, 1]
    by_action = {e["action"]: e for e in got}
    imported = by_action["procedure.import"]
    assert (imported["subject_type"], imported["subject_id"], imported["outcome"]) == ("procedure", "audited", 201)
    assert imported["details"]["version"] == "1.0.0"
    assert (imported["actor"], imported["actor_kind"], imported["role"]) == ("tester", "token", "admin")
    status = by_action["procedure.status"]
    assert (status["subject_id"], status["details"]["version"], status["details"]["status"]) == (
        "audited", "1.0.0", "active")
    created = by_action["project.create"]
    assert (created["subject_type"], created["subject_id"], created["project_id"]) == (
        "project", project["id"], project["id"])
    assert by_action["agent.create"]["subject_id"] == "a1"
    assert (by_action["agent.delete"]["subject_id"], by_action["agent.delete"]["outcome"]) == ("a1", 204)
    for entry in got:
        assert len(entry["hash"]) == 64 and entry["request_id"]


async def test_the_request_id_is_echoed_and_recorded(client: httpx.AsyncClient) -> None:
    mine = await client.post("/api/projects", json={"name": "p1"}, headers={"X-Request-ID": "trace-42.a:b"})
    fresh = await client.post("/api/projects", json={"name": "p2"}, headers={"X-Request-ID": "no spaces allowed"})
    read = await client.get("/api/projects")

    assert mine.headers["x-request-id"] == "trace-42.a:b"
    assert fresh.headers["x-request-id"] != "no spaces allowed" and len(fresh.headers["x-request-id"]) == 32
    assert read.headers["x-request-id"]
    got = await entries(client)
    assert [e["request_id"] for e in got] == [fresh.headers["x-request-id"], "trace-42.a:b"]


async def test_reads_and_the_callers_own_mistakes_are_not_recorded(client: httpx.AsyncClient) -> None:
    await client.get("/api/procedures")
    assert (await client.post("/api/procedures/validate", json={"ckp_json": ckp()})).status_code == 200
    assert_error(await client.delete("/api/agents/nobody"), 404)
    assert_error(await client.post("/api/projects", json={"name": ""}), 422)
    assert_error(await client.post("/api/nowhere", json={}), 404)

    assert await entries(client) == []


async def test_denied_attempts_are_recorded(client: httpx.AsyncClient) -> None:
    denied = await client.post("/api/projects", json={"name": "x"}, headers=bearer("viewer", "vic"))
    assert_error(denied, 403)
    anonymous = await client.post("/api/runs/r1/cancel", headers={"Authorization": ""})
    assert_error(anonymous, 401)

    cancel, create = await entries(client)

    assert (create["action"], create["actor"], create["role"], create["outcome"]) == (
        "project.create", "vic", "viewer", 403)
    assert create["details"]["error"] == denied.json()["error"]["code"]
    assert (cancel["action"], cancel["actor"], cancel["actor_kind"], cancel["subject_id"], cancel["outcome"]) == (
        "run.cancel", "anonymous", "anonymous", "r1", 401)


async def test_a_sign_in_is_recorded_with_the_name_it_gave_never_the_password(client: httpx.AsyncClient) -> None:
    password = "not-the-password-1234"
    failed = await client.post("/api/auth/login", json={"username": "eve", "password": password},
                               headers={"Authorization": ""})
    assert failed.status_code == 401, failed.text

    [entry] = await entries(client)

    assert (entry["action"], entry["actor"], entry["outcome"]) == ("auth.login", "eve", 401)
    assert password not in json.dumps(entry)


async def test_filters_and_paging(client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]) -> None:
    for name in ("a", "b", "c"):
        assert (await client.post("/api/projects", json={"name": name})).status_code == 201
    await client.post("/api/projects", json={"name": "v"}, headers=bearer("viewer", "vic"))
    await create_procedure(client, ckp("filtered"))
    async with sessions() as session:  # one entry a day old
        await session.execute(text("UPDATE audit_log SET at = :at WHERE seq = 1"),
                              {"at": datetime.now(UTC) - timedelta(days=1)})
        await session.commit()

    response = await client.get("/api/audit", params={"action": "project.create", "limit": 2})
    assert response.headers["x-total-count"] == "4" and len(response.json()) == 2
    page2 = await client.get("/api/audit", params={"action": "project.create", "limit": 2, "offset": 2})
    assert [e["seq"] for e in response.json() + page2.json()] == [4, 3, 2, 1]
    assert [e["seq"] for e in await entries(client, actor="vic")] == [4]
    assert [e["action"] for e in await entries(client, action="procedure.")] == ["procedure.import"]
    assert [e["seq"] for e in await entries(client, subject_type="procedure", subject_id="filtered")] == [5]
    since = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    assert [e["seq"] for e in await entries(client, since=since)] == [5, 4, 3, 2]
    assert [e["seq"] for e in await entries(client, until=since)] == [1]
    assert_error(await client.get("/api/audit", params={"since": "yesterday"}), 422)
    assert_error(await client.get("/api/audit", params={"actor": "a\x00b"}), 422, "invalid_request")
    assert_error(await client.get("/api/audit/export", params={"subject_id": "\x00"}), 422, "invalid_request")
    assert_error(await client.get("/api/audit", params={"limit": 0}), 422)


async def test_export_streams_json_lines_oldest_first(client: httpx.AsyncClient) -> None:
    for name in ("a", "b", "c"):
        await client.post("/api/projects", json={"name": name})
    await create_procedure(client, ckp("exported"))

    async with client.stream("GET", "/api/audit/export", params={"action": "project.create"}) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("application/x-ndjson")
        lines = [json.loads(line) async for line in response.aiter_lines() if line]

    assert [e["seq"] for e in lines] == [1, 2, 3]
    assert {e["action"] for e in lines} == {"project.create"}
    assert set(lines[0]) >= {"seq", "at", "actor", "action", "prev_hash", "hash", "request_id", "outcome"}
    everything = (await client.get("/api/audit/export")).text.splitlines()
    last = json.loads(everything[-1])
    verified = await client.get("/api/audit/verify", params={"anchor": f"{last['seq']}:{last['hash']}"})
    assert verified.json()["ok"] is True


async def test_verify_reports_the_first_bad_entry(client: httpx.AsyncClient,
                                                  sessions: async_sessionmaker[AsyncSession]) -> None:
    for name in ("a", "b", "c"):
        await client.post("/api/projects", json={"name": name})
    intact = (await client.get("/api/audit/verify")).json()
    assert {k: intact[k] for k in ("ok", "checked", "first_bad_seq", "problem", "head_seq")} == {
        "ok": True, "checked": 3, "first_bad_seq": None, "problem": None, "head_seq": 3}

    async with sessions() as session:
        await session.execute(text("UPDATE audit_log SET actor = 'someone else' WHERE seq = 2"))
        await session.commit()
    broken = (await client.get("/api/audit/verify")).json()

    assert (broken["ok"], broken["checked"], broken["first_bad_seq"]) == (False, 1, 2)
    assert "edited" in broken["problem"]
    assert_error(await client.get("/api/audit/verify", params={"anchor": "seven"}), 422)


async def test_only_admins_read_the_audit_log(client: httpx.AsyncClient) -> None:
    for path in ("/api/audit", "/api/audit/export", "/api/audit/verify"):
        assert_error(await client.get(path, headers=bearer("operator", "op")), 403)


async def test_every_mutating_route_of_the_app_has_a_named_action(app: FastAPI) -> None:
    """A new route gets a name in ACTIONS (or is marked as changing nothing) when it is added."""
    templates = route_templates(app)
    assert any(t.path == "/api/runs/{run_id}/cancel" for t in templates)
    unnamed = sorted(f"{m} {t.path}" for t in templates for m in t.methods
                     if m not in ("GET", "HEAD", "OPTIONS") and template_key(m, t.path) not in ACTIONS)
    assert unnamed == []


async def test_sse_streams_through_the_middleware_and_the_decision_is_recorded(api: httpx.AsyncClient) -> None:
    await import_procedure(api, approval_doc())
    run = await start_run(api, "approve_me")
    follower = asyncio.create_task(stream_run(api, run["run_id"]))
    [approval] = await pending_approvals(api, run["run_id"])

    decided = await api.post(f"/api/approvals/{approval['approval_id']}/decision", json={"decision": "approve"})
    assert decided.status_code == 200, decided.text
    messages = await follower

    assert messages[-1].event == "end" and messages[-1].json["status"] == "completed"
    assert len(messages) > 3
    got = {e["action"]: e for e in (await api.get("/api/audit")).json()}
    assert got["run.start"]["subject_id"] == run["run_id"]
    decision = got["approval.decide"]
    assert (decision["subject_id"], decision["details"]["decision"], decision["details"]["run_id"]) == (
        approval["approval_id"], "approve", run["run_id"])
    assert (await api.get("/api/audit/verify")).json()["ok"] is True


async def test_an_answer_is_still_given_when_its_entry_cannot_be_written(
        client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession],
        caplog: pytest.LogCaptureFixture) -> None:
    async def rename(old: str, new: str) -> None:  # the PostgreSQL schema is shared: put it back after
        async with sessions() as session:
            await session.execute(text(f"ALTER TABLE {old} RENAME TO {new}"))
            await session.commit()

    await rename("audit_log", "audit_log_away")
    try:
        with caplog.at_level("ERROR", logger="langorch.api.audit"):
            response = await client.post("/api/projects", json={"name": "still made"})
    finally:
        await rename("audit_log_away", "audit_log")

    assert response.status_code == 201, response.text
    assert response.json()["name"] == "still made"
    assert any("could not record POST /api/projects" in r.getMessage() for r in caplog.records)


async def test_which_answers_are_recorded() -> None:
    assert [s for s in (200, 201, 204, 301, 400, 401, 403, 404, 409, 413, 422, 429, 500, 503)
            if recorded_status(s)] == [200, 201, 204, 401, 403, 500, 503]
