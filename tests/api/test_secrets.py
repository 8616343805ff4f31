"""/api/secrets: the built-in store is write-only (no answer carries a value), encrypted at
rest (no column holds the plaintext), scoped per project, and versioned on rotation."""

from __future__ import annotations

import base64
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from langorch.services.secret_store import MASTER_KEY_ENV, MasterKey
from langorch.store.models import StoredSecret
from tests.api.conftest import assert_error
from tests.api.run_support import doc, end, register_agent, start_run, wait_status
from tests.fakes.agent_server import FakeAgentServer

pytest_plugins = ("tests.api.run_fixtures",)

VALUE = "sk-live-Api-5ecret-0123456789abcdef"
MASTER = MasterKey.generate("test")


@pytest.fixture(autouse=True)
def master_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """The master key from the environment: no test writes a key file."""
    monkeypatch.setenv(MASTER_KEY_ENV, MASTER.text())


async def _create(client: httpx.AsyncClient, **body: Any) -> dict[str, Any]:
    response = await client.post("/api/secrets", json={"name": "crm_token", "value": VALUE, **body})
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def _project(client: httpx.AsyncClient, name: str = "billing") -> str:
    response = await client.post("/api/projects", json={"name": name})
    assert response.status_code == 201, response.text
    project_id: str = response.json()["id"]
    return project_id


async def _rows(sessions: async_sessionmaker[AsyncSession]) -> list[StoredSecret]:
    async with sessions() as session:
        return list((await session.execute(select(StoredSecret))).scalars())


@pytest.mark.asyncio
async def test_a_created_secret_answers_with_metadata_and_never_its_value(
        client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]) -> None:
    created = await _create(client, description="CRM API token")

    assert set(created) == {"secret_id", "name", "project_id", "description", "version", "created_by",
                            "created_at", "updated_at", "last_used_at"}
    assert (created["name"], created["project_id"], created["version"], created["last_used_at"]) == (
        "crm_token", None, 1, None)
    assert created["created_by"]  # the caller's identity, never a name sent in the body
    answers = [await client.get("/api/secrets"), await client.get(f"/api/secrets/{created['secret_id']}"),
               await client.get("/api/secrets", params={"project_id": ""}),
               await client.put(f"/api/secrets/{created['secret_id']}", json={"description": "renamed"}),
               await client.get("/openapi.json")]
    for answer in answers:
        assert answer.status_code == 200, answer.text
        assert VALUE not in answer.text
    assert answers[0].headers["X-Total-Count"] == "1"
    assert [s["name"] for s in answers[0].json()] == ["crm_token"]


@pytest.mark.asyncio
async def test_the_database_holds_only_ciphertext_bound_to_the_key_that_made_it(
        client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]) -> None:
    await _create(client)

    [row] = await _rows(sessions)
    stored = " ".join(str(getattr(row, column.key)) for column in StoredSecret.__table__.columns)
    assert VALUE not in stored
    assert VALUE.encode() not in base64.b64decode(row.ciphertext)
    assert row.key_fingerprint == MASTER.fingerprint
    assert MASTER.text() not in stored


@pytest.mark.asyncio
async def test_a_name_is_unique_per_scope_and_a_project_may_shadow_a_global_secret(
        client: httpx.AsyncClient) -> None:
    await _create(client)
    duplicate = await client.post("/api/secrets", json={"name": "crm_token", "value": "other"})
    error = assert_error(duplicate, 409, "duplicate_secret")
    assert "other" not in duplicate.text and VALUE not in duplicate.text
    assert error["details"]["name"] == "crm_token"

    project = await _project(client)
    shadow = await _create(client, project_id=project)
    assert shadow["project_id"] == project

    only_project = (await client.get("/api/secrets", params={"project_id": project})).json()
    only_global = (await client.get("/api/secrets", params={"project_id": ""})).json()
    everything = (await client.get("/api/secrets")).json()
    assert [s["secret_id"] for s in only_project] == [shadow["secret_id"]]
    assert [s["project_id"] for s in only_global] == [None]
    assert len(everything) == 2


@pytest.mark.asyncio
@pytest.mark.parametrize(("body", "status", "code"), [
    ({"name": "1starts_with_digit", "value": "v"}, 422, "invalid_request"),
    ({"name": "has space", "value": "v"}, 422, "invalid_request"),
    ({"name": "x" * 129, "value": "v"}, 422, "invalid_request"),
    ({"name": "ok", "value": ""}, 422, "invalid_request"),
    ({"name": "ok", "value": "v" * (64 * 1024 + 1)}, 422, "invalid_request"),
    ({"name": "ok", "value": "é" * (40 * 1024)}, 422, "invalid_secret"),  # 80 KiB of UTF-8 in 40 Ki characters
    ({"name": "ok", "value": "a\x00b"}, 422, "invalid_request"),
    ({"name": "ok", "value": "v", "project_id": "no-such-project"}, 422, "unknown_project"),
    ({"name": "ok", "value": "v", "project_id": "a\x00b"}, 422, "invalid_request"),
    ({"name": "ok", "value": "v", "description": "a\x00b"}, 422, "invalid_request"),
    ({"name": "ok", "value": "v", "extra": 1}, 422, "invalid_request"),
])
async def test_bad_secrets_are_refused_without_echoing_the_value(
        client: httpx.AsyncClient, body: dict[str, Any], status: int, code: str) -> None:
    response = await client.post("/api/secrets", json=body)

    assert_error(response, status, code)
    if len(body["value"]) > 3:
        assert body["value"] not in response.text
    assert (await client.get("/api/secrets")).json() == []


@pytest.mark.asyncio
async def test_a_new_value_is_a_rotation_and_a_description_is_not(
        client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]) -> None:
    created = await _create(client)
    [before] = await _rows(sessions)

    described = await client.put(f"/api/secrets/{created['secret_id']}", json={"description": "for the CRM"})
    assert (described.json()["version"], described.json()["description"]) == (1, "for the CRM")
    rotated = await client.put(f"/api/secrets/{created['secret_id']}", json={"value": "sk-rotated-2"})

    assert rotated.status_code == 200, rotated.text
    assert rotated.json()["version"] == 2
    assert "sk-rotated-2" not in rotated.text
    [after] = await _rows(sessions)
    assert after.ciphertext != before.ciphertext and after.version == 2
    assert_error(await client.put(f"/api/secrets/{created['secret_id']}", json={"value": "x\x00"}), 422,
                 "invalid_request")
    assert_error(await client.put("/api/secrets/nope", json={"value": "v"}), 404, "not_found")


@pytest.mark.asyncio
async def test_a_nul_in_an_id_or_filter_is_a_clear_4xx(client: httpx.AsyncClient) -> None:
    assert_error(await client.get("/api/secrets/a%00b"), 422, "invalid_request")
    assert_error(await client.put("/api/secrets/a%00b", json={"description": "x"}), 422, "invalid_request")
    assert_error(await client.delete("/api/secrets/a%00b"), 422, "invalid_request")
    assert_error(await client.get("/api/secrets?project_id=a%00b"), 422, "invalid_request")


@pytest.mark.asyncio
async def test_a_deleted_secret_is_gone(client: httpx.AsyncClient) -> None:
    created = await _create(client)

    assert (await client.delete(f"/api/secrets/{created['secret_id']}")).status_code == 204
    assert_error(await client.get(f"/api/secrets/{created['secret_id']}"), 404, "not_found")
    assert_error(await client.delete(f"/api/secrets/{created['secret_id']}"), 404, "not_found")
    assert (await client.get("/api/secrets")).json() == []
    await _create(client)  # the name is free again


# -- runs read the store -------------------------------------------------------------------------


def _crm_doc(procedure_id: str) -> dict[str, Any]:
    return doc(procedure_id, {
        "call": {"type": "sequence", "agent": "CRM", "next_node": "done", "steps": [
            {"step_id": "login", "action": "login", "token": "{{secrets.crm}}"}]},
        "done": end(),
    }, global_config={"secrets_config": {"provider": "langorch", "secret_references": {"crm": "crm_token"}}})


@pytest.mark.asyncio
async def test_runs_read_their_projects_secret_first_and_see_a_rotation_at_once(api: httpx.AsyncClient) -> None:
    project = await _project(api, "crm-team")
    await _create(api, value="global-value-1")
    shadow = await _create(api, value="project-value-1", project_id=project)
    for procedure_id, project_id in (("crm_in_project", project), ("crm_global", None)):
        response = await api.post("/api/procedures", json={"ckp_json": _crm_doc(procedure_id),
                                                           "project_id": project_id})
        assert response.status_code == 201, response.text

    with FakeAgentServer() as agent:
        await register_agent(api, "CRM", agent.url)

        async def token_sent(procedure_id: str) -> str:
            run = await start_run(api, procedure_id)
            done = await wait_status(api, run["run_id"], "completed", "failed")
            assert done["status"] == "completed", done
            for answer in (await api.get(f"/api/runs/{run['run_id']}"),
                           await api.get(f"/api/runs/{run['run_id']}/events")):
                assert "-value-" not in answer.text
            token: str = agent.calls[-1]["params"]["token"]
            return token

        assert await token_sent("crm_in_project") == "project-value-1"
        assert await token_sent("crm_global") == "global-value-1"
        rotated = await api.put(f"/api/secrets/{shadow['secret_id']}", json={"value": "project-value-2"})
        assert rotated.status_code == 200
        assert await token_sent("crm_in_project") == "project-value-2"  # no waiting for the cache TTL

    used = (await api.get(f"/api/secrets/{shadow['secret_id']}")).json()
    assert used["last_used_at"] is not None and used["version"] == 2
