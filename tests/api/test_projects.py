"""/api/projects: CRUD and the cost summary from the runs table."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.api.conftest import add_run, assert_error, ckp, create_procedure

pytestmark = pytest.mark.asyncio


async def test_create_then_get(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/projects", json={"name": "Finance", "description": "AP and AR"})

    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"id", "name", "description", "allowed_hosts", "created_at", "updated_at"}
    assert body["allowed_hosts"] == []
    assert body["name"] == "Finance" and body["description"] == "AP and AR"
    assert (await client.get(f"/api/projects/{body['id']}")).json() == body


async def test_names_are_unique(client: httpx.AsyncClient) -> None:
    first = (await client.post("/api/projects", json={"name": "Ops"})).json()

    error = assert_error(await client.post("/api/projects", json={"name": "Ops"}), 409, "duplicate_project")
    assert error["details"]["id"] == first["id"]


@pytest.mark.parametrize("payload", [{}, {"name": ""}, {"name": "x" * 201}, {"name": 5}, {"description": "d"}])
async def test_create_rejects_bad_bodies(client: httpx.AsyncClient, payload: object) -> None:
    assert_error(await client.post("/api/projects", json=payload), 422, "invalid_request")


async def test_list_is_an_array_by_name_with_a_total(client: httpx.AsyncClient) -> None:
    for name in ("beta", "alpha", "gamma"):
        await client.post("/api/projects", json={"name": name})

    response = await client.get("/api/projects", params={"limit": 2})

    assert [p["name"] for p in response.json()] == ["alpha", "beta"]
    assert response.headers["x-total-count"] == "3"
    searched = await client.get("/api/projects", params={"search": "AMM"})
    assert [p["name"] for p in searched.json()] == ["gamma"] and searched.headers["x-total-count"] == "1"


async def test_update_changes_only_the_fields_sent(client: httpx.AsyncClient) -> None:
    project = (await client.post("/api/projects", json={"name": "Ops", "description": "keep"})).json()
    other = (await client.post("/api/projects", json={"name": "Other"})).json()

    renamed = (await client.put(f"/api/projects/{project['id']}", json={"name": "Operations"})).json()
    assert renamed["name"] == "Operations" and renamed["description"] == "keep"
    cleared = (await client.put(f"/api/projects/{project['id']}", json={"description": None})).json()
    assert cleared["name"] == "Operations" and cleared["description"] is None
    assert_error(await client.put(f"/api/projects/{project['id']}", json={"name": other["name"]}), 409)
    assert_error(await client.put("/api/projects/nope", json={"name": "x"}), 404, "not_found")


async def test_delete_keeps_procedures_without_a_project(client: httpx.AsyncClient) -> None:
    project = (await client.post("/api/projects", json={"name": "Temp"})).json()
    await create_procedure(client, project_id=project["id"])

    response = await client.delete(f"/api/projects/{project['id']}")

    assert response.status_code == 204
    assert_error(await client.get(f"/api/projects/{project['id']}"), 404, "not_found")
    assert (await client.get("/api/procedures/test_proc/1.0.0")).json()["project_id"] is None
    assert_error(await client.delete(f"/api/projects/{project['id']}"), 404)


async def test_cost_summary_sums_tokens_and_cost_by_procedure(client: httpx.AsyncClient,
                                                              sessions: async_sessionmaker[AsyncSession]) -> None:
    project = (await client.post("/api/projects", json={"name": "Costs"})).json()
    await create_procedure(client, ckp("a"), project_id=project["id"])
    for tokens, cost in ((100, 0.01), (50, 0.005)):
        await add_run(sessions, "a", project_id=project["id"], total_prompt_tokens=tokens,
                      total_completion_tokens=tokens // 2, estimated_cost_usd=cost)
    await add_run(sessions, "b", project_id=project["id"], total_prompt_tokens=10, total_completion_tokens=0,
                  estimated_cost_usd=0.001)
    await add_run(sessions, "a", total_prompt_tokens=999, estimated_cost_usd=9.0)  # another project's run

    response = await client.get(f"/api/projects/{project['id']}/cost-summary")

    assert response.status_code == 200
    body = response.json()
    assert body["project_id"] == project["id"]
    assert body["run_count"] == 3
    assert body["total_prompt_tokens"] == 160 and body["total_completion_tokens"] == 75
    assert body["total_tokens"] == 235
    assert body["estimated_cost_usd"] == pytest.approx(0.016)
    assert [(line["procedure_id"], line["run_count"], line["total_tokens"]) for line in body["by_procedure"]] == [
        ("a", 2, 225), ("b", 1, 10)]


async def test_cost_summary_of_an_empty_or_unknown_project(client: httpx.AsyncClient) -> None:
    project = (await client.post("/api/projects", json={"name": "Empty"})).json()

    body = (await client.get(f"/api/projects/{project['id']}/cost-summary")).json()
    assert body["run_count"] == 0 and body["estimated_cost_usd"] == 0 and body["by_procedure"] == []
    assert_error(await client.get("/api/projects/nope/cost-summary"), 404, "not_found")
