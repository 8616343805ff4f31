"""/api/procedures: import, list, versions, read, replace, delete and the status lifecycle."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.api.conftest import add_run, assert_error, broken_ckp, ckp, create_procedure

pytestmark = pytest.mark.asyncio

READ_FIELDS = {"id", "procedure_id", "version", "status", "effective_date", "description", "project_id", "ir_hash",
               "tags", "provenance", "retrieval_metadata", "created_by", "change_note", "created_at", "updated_at",
               "run_count"}


# --------------------------------------------------------------------------- create
async def test_create_answers_201_with_the_stored_version_and_a_get_finds_it(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/procedures", json={"ckp_json": ckp(effective_date="2025-01-01"),
                                                          "project_id": None})

    assert response.status_code == 201
    body = response.json()
    assert set(body) == READ_FIELDS | {"ckp_json", "warnings", "unchanged"}
    assert body["unchanged"] is False
    assert body["procedure_id"] == "test_proc" and body["version"] == "1.0.0"
    assert body["status"] == "draft"
    assert body["effective_date"] == "2025-01-01"
    assert body["description"] == "test_proc for API tests"
    assert len(body["ir_hash"]) == 64
    assert body["run_count"] == 0 and body["warnings"] == []
    got = await client.get("/api/procedures/test_proc/1.0.0")
    assert got.status_code == 200
    assert got.json()["id"] == body["id"]
    assert got.json()["ckp_json"] == ckp(effective_date="2025-01-01")


async def test_create_returns_compiler_warnings_with_the_created_object(client: httpx.AsyncClient) -> None:
    body = await create_procedure(client, ckp(surprise_field=1))

    assert [w["code"] for w in body["warnings"]] == ["CKP108"]
    assert set(body["warnings"][0]) == {"code", "severity", "path", "message", "hint"}
    assert body["warnings"][0]["severity"] == "warning"


@pytest.mark.parametrize(("ckp_status", "override", "expected"), [
    ("active", None, "active"), ("Deprecated", None, "deprecated"), ("published", None, "draft"),
    (None, None, "draft"), ("active", "archived", "archived"),
])
async def test_status_comes_from_the_ckp_unless_the_body_sets_it(
        client: httpx.AsyncClient, ckp_status: str | None, override: str | None, expected: str) -> None:
    document = ckp(status=ckp_status) if ckp_status else ckp()
    body = await create_procedure(client, document, **({"status": override} if override else {}))

    assert body["status"] == expected


async def test_tags_merge_the_ckp_tags_and_retrieval_metadata_tags(client: httpx.AsyncClient) -> None:
    body = await create_procedure(client, ckp(tags=["finance", "ap"],
                                              retrieval_metadata={"tags": ["ap", "invoices"], "keywords": ["x"]}))

    assert body["tags"] == ["finance", "ap", "invoices"]
    assert body["retrieval_metadata"]["keywords"] == ["x"]


async def test_an_invalid_ckp_is_refused_with_the_compiler_diagnostics(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/procedures", json={"ckp_json": broken_ckp()})

    error = assert_error(response, 422, "invalid_ckp")
    assert isinstance(error["details"], list) and error["details"]
    assert all(set(d) == {"code", "severity", "path", "message", "hint"} for d in error["details"])
    dangling = [d for d in error["details"] if d["code"] == "CKP202"]
    assert dangling and dangling[0]["path"] == "/workflow_graph/nodes/greet/next_node"
    assert (await client.get("/api/procedures/broken/1.0.0")).status_code == 404


@pytest.mark.parametrize("extra", [{"procedure_id": "other"}, {"version": "9.9.9"},
                                   {"procedure_id": "other", "version": "9.9.9"}])
async def test_procedure_id_or_version_beside_the_ckp_must_match_it(client: httpx.AsyncClient,
                                                                   extra: dict[str, str]) -> None:
    response = await client.post("/api/procedures", json={"ckp_json": ckp(), **extra})

    error = assert_error(response, 422, "identity_mismatch")
    assert {d["field"] for d in error["details"]} == set(extra)


async def test_matching_procedure_id_and_version_are_accepted(client: httpx.AsyncClient) -> None:
    body = await create_procedure(client, ckp(), procedure_id="test_proc", version="1.0.0")

    assert body["procedure_id"] == "test_proc"


async def test_a_changed_document_under_an_existing_version_is_409_in_plain_words(client: httpx.AsyncClient) -> None:
    first = await create_procedure(client)

    changed = await client.post("/api/procedures", json={"ckp_json": ckp(description="something else")})

    error = assert_error(changed, 409, "duplicate_version")
    assert error["details"]["id"] == first["id"]
    assert error["message"].startswith("Version 1.0.0 of test_proc already exists with different content")
    assert "PUT" not in error["message"]


async def test_an_identical_reimport_answers_200_unchanged_with_the_existing_version(
        client: httpx.AsyncClient) -> None:
    first = await create_procedure(client)

    again = await client.post("/api/procedures", json={"ckp_json": ckp()})

    assert again.status_code == 200
    assert again.json()["unchanged"] is True
    assert again.json()["id"] == first["id"]
    listed = (await client.get("/api/procedures/test_proc/versions")).json()
    assert len(listed) == 1


async def test_project_id_must_name_an_existing_project(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/procedures", json={"ckp_json": ckp(), "project_id": "nope"})
    assert_error(response, 422, "unknown_project")

    project = (await client.post("/api/projects", json={"name": "Finance"})).json()
    body = await create_procedure(client, project_id=project["id"], created_by="alice")
    assert body["project_id"] == project["id"]
    assert body["created_by"] == "tester"  # the caller's identity, never the body's claim


@pytest.mark.parametrize("payload", [{}, {"ckp_json": "not an object"}, {"ckp_json": [1, 2]},
                                     {"ckp_json": ckp(), "status": "published"}, []])
async def test_a_malformed_body_is_422_never_500(client: httpx.AsyncClient, payload: Any) -> None:
    assert_error(await client.post("/api/procedures", json=payload), 422, "invalid_request")


async def test_a_body_that_is_not_json_is_422(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/procedures", content=b"{not json",
                                 headers={"content-type": "application/json"})
    assert_error(response, 422, "invalid_request")


async def test_subflows_resolve_against_stored_procedures(client: httpx.AsyncClient) -> None:
    caller = ckp("caller")
    caller["workflow_graph"]["nodes"]["greet"] = {"type": "subflow", "procedure_id": "callee", "version": "1.0.0",
                                                  "next_node": "end"}
    missing = (await client.post("/api/procedures/validate", json={"ckp_json": caller})).json()
    assert [d["code"] for d in missing["diagnostics"]] == ["CKP503"]

    await create_procedure(client, ckp("callee"))
    found = (await client.post("/api/procedures/validate", json={"ckp_json": caller})).json()
    assert found["diagnostics"] == []


async def test_subflows_that_call_each_other_in_a_cycle_are_refused(client: httpx.AsyncClient) -> None:
    first = ckp("first")
    first["workflow_graph"]["nodes"]["greet"] = {"type": "subflow", "procedure_id": "second", "next_node": "end"}
    await create_procedure(client, first)
    second = ckp("second")
    second["workflow_graph"]["nodes"]["greet"] = {"type": "subflow", "procedure_id": "first", "next_node": "end"}

    error = assert_error(await client.post("/api/procedures", json={"ckp_json": second}), 422, "invalid_ckp")
    assert "CKP500" in {d["code"] for d in error["details"]}


# --------------------------------------------------------------------------- list and versions
async def _seed(client: httpx.AsyncClient) -> None:
    await create_procedure(client, ckp("alpha", "1.9.0", status="active", tags=["finance"]))
    await create_procedure(client, ckp("alpha", "1.10.0", status="draft", tags=["finance"]))
    await create_procedure(client, ckp("beta", "2.0.0", status="active", description="Pays vendors",
                                       retrieval_metadata={"keywords": ["invoice"],
                                                           "primary_intents": ["settle a bill"]}))
    await create_procedure(client, ckp("gamma", "0.1.0", tags=["ops", "Finance"]))


async def test_list_answers_an_array_of_the_newest_version_per_procedure(client: httpx.AsyncClient) -> None:
    await _seed(client)

    response = await client.get("/api/procedures")

    assert response.status_code == 200
    assert response.headers["x-total-count"] == "3"
    body = response.json()
    assert isinstance(body, list)
    assert [(p["procedure_id"], p["version"]) for p in body] == [("alpha", "1.10.0"), ("beta", "2.0.0"),
                                                                  ("gamma", "0.1.0")]
    assert set(body[0]) == READ_FIELDS


async def test_list_with_all_versions(client: httpx.AsyncClient) -> None:
    await _seed(client)

    response = await client.get("/api/procedures", params={"all_versions": "true"})

    assert response.headers["x-total-count"] == "4"
    assert [(p["procedure_id"], p["version"]) for p in response.json()][:2] == [("alpha", "1.10.0"),
                                                                                 ("alpha", "1.9.0")]


@pytest.mark.parametrize(("params", "expected"), [
    ({"status": "active"}, [("alpha", "1.9.0"), ("beta", "2.0.0")]),
    ({"status": "archived"}, []),
    ({"search": "ALPHA"}, [("alpha", "1.10.0")]),
    ({"search": "vendors"}, [("beta", "2.0.0")]),
    ({"search": "invoice"}, [("beta", "2.0.0")]),
    ({"search": "settle"}, [("beta", "2.0.0")]),
    ({"tags": "finance"}, [("alpha", "1.10.0"), ("gamma", "0.1.0")]),
    ({"tags": "ops, nothing"}, [("gamma", "0.1.0")]),
    ({"tags": "nothing"}, []),
])
async def test_list_filters(client: httpx.AsyncClient, params: dict[str, str],
                            expected: list[tuple[str, str]]) -> None:
    await _seed(client)

    response = await client.get("/api/procedures", params=params)

    assert [(p["procedure_id"], p["version"]) for p in response.json()] == expected
    assert response.headers["x-total-count"] == str(len(expected))


async def test_list_filters_by_project(client: httpx.AsyncClient) -> None:
    project = (await client.post("/api/projects", json={"name": "Ops"})).json()
    await create_procedure(client, ckp("mine"), project_id=project["id"])
    await create_procedure(client, ckp("theirs"))

    body = (await client.get("/api/procedures", params={"project_id": project["id"]})).json()

    assert [p["procedure_id"] for p in body] == ["mine"]


async def test_list_pages_with_limit_and_offset(client: httpx.AsyncClient) -> None:
    await _seed(client)

    response = await client.get("/api/procedures", params={"limit": 1, "offset": 1})

    assert [p["procedure_id"] for p in response.json()] == ["beta"]
    assert response.headers["x-total-count"] == "3"


@pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 100000}, {"offset": -1}, {"status": "nope"},
                                    {"all_versions": "maybe"}])
async def test_list_rejects_bad_query_parameters(client: httpx.AsyncClient, params: dict[str, Any]) -> None:
    assert_error(await client.get("/api/procedures", params=params), 422, "invalid_request")


async def test_versions_newest_first_with_run_counts(client: httpx.AsyncClient,
                                                     sessions: async_sessionmaker[AsyncSession]) -> None:
    await _seed(client)
    await add_run(sessions, "alpha", "1.9.0")

    response = await client.get("/api/procedures/alpha/versions")

    assert response.status_code == 200
    assert response.headers["x-total-count"] == "2"
    assert [(v["version"], v["run_count"]) for v in response.json()] == [("1.10.0", 0), ("1.9.0", 1)]
    assert_error(await client.get("/api/procedures/nothing/versions"), 404, "not_found")


async def test_get_without_version_answers_the_newest(client: httpx.AsyncClient) -> None:
    await _seed(client)

    body = (await client.get("/api/procedures/alpha")).json()

    assert body["version"] == "1.10.0" and body["ckp_json"]["version"] == "1.10.0"
    assert_error(await client.get("/api/procedures/nothing"), 404, "not_found")


async def test_get_unknown_version_is_404(client: httpx.AsyncClient) -> None:
    await create_procedure(client)

    error = assert_error(await client.get("/api/procedures/test_proc/2.0.0"), 404, "not_found")
    assert error["details"] == {"procedure_id": "test_proc", "version": "2.0.0"}


# --------------------------------------------------------------------------- update
async def test_put_replaces_the_ckp_of_a_version_without_runs(client: httpx.AsyncClient) -> None:
    created = await create_procedure(client)
    changed = ckp(description="now with a better description")

    response = await client.put("/api/procedures/test_proc/1.0.0", json={"ckp_json": changed})

    assert response.status_code == 200
    body = response.json()
    assert body["id"] == created["id"]
    assert body["description"] == "now with a better description"
    assert body["ir_hash"] != created["ir_hash"]
    assert (await client.get("/api/procedures/test_proc/1.0.0")).json()["ckp_json"] == changed


async def test_put_is_refused_once_the_version_has_runs(client: httpx.AsyncClient,
                                                        sessions: async_sessionmaker[AsyncSession]) -> None:
    created = await create_procedure(client)
    await add_run(sessions, "test_proc", "1.0.0", status="running")

    response = await client.put("/api/procedures/test_proc/1.0.0", json={"ckp_json": ckp(description="changed")})

    error = assert_error(response, 409, "version_has_runs")
    assert "new version" in error["message"]
    assert error["details"]["run_count"] == 1
    unchanged = (await client.get("/api/procedures/test_proc/1.0.0")).json()
    assert unchanged["ir_hash"] == created["ir_hash"] and unchanged["run_count"] == 1


async def test_put_checks_identity_diagnostics_and_existence(client: httpx.AsyncClient) -> None:
    await create_procedure(client)

    assert_error(await client.put("/api/procedures/test_proc/1.0.0", json={"ckp_json": ckp(version="2.0.0")}),
                 422, "identity_mismatch")
    bad = broken_ckp("test_proc")
    assert_error(await client.put("/api/procedures/test_proc/1.0.0", json={"ckp_json": bad}), 422, "invalid_ckp")
    assert_error(await client.put("/api/procedures/test_proc/9.0.0", json={"ckp_json": ckp(version="9.0.0")}),
                 404, "not_found")
    assert_error(await client.put("/api/procedures/test_proc/1.0.0", json={"status": "active"}), 422)


async def test_put_can_change_status_and_project(client: httpx.AsyncClient) -> None:
    await create_procedure(client)
    project = (await client.post("/api/projects", json={"name": "P"})).json()

    body = (await client.put("/api/procedures/test_proc/1.0.0",
                             json={"ckp_json": ckp(), "status": "active", "project_id": project["id"]})).json()
    assert body["status"] == "active" and body["project_id"] == project["id"]

    response = await client.put("/api/procedures/test_proc/1.0.0", json={"ckp_json": ckp(), "status": "draft"})
    assert_error(response, 409, "invalid_transition")


# --------------------------------------------------------------------------- delete
async def test_delete_removes_a_version(client: httpx.AsyncClient) -> None:
    await create_procedure(client)

    response = await client.delete("/api/procedures/test_proc/1.0.0")

    assert response.status_code == 204 and response.content == b""
    assert_error(await client.get("/api/procedures/test_proc/1.0.0"), 404)
    assert_error(await client.delete("/api/procedures/test_proc/1.0.0"), 404, "not_found")


async def test_delete_with_runs_needs_force_and_keeps_the_runs(client: httpx.AsyncClient,
                                                              sessions: async_sessionmaker[AsyncSession]) -> None:
    await create_procedure(client)
    run = await add_run(sessions, "test_proc", "1.0.0", status="completed")

    error = assert_error(await client.delete("/api/procedures/test_proc/1.0.0"), 409, "version_has_runs")
    assert "force=true" in error["message"]

    assert (await client.delete("/api/procedures/test_proc/1.0.0", params={"force": "true"})).status_code == 204
    async with sessions() as session:
        from langorch.store.models import Run

        assert await session.get(Run, run.run_id) is not None


async def test_delete_never_removes_a_version_an_unfinished_run_needs(
        client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]) -> None:
    await create_procedure(client)
    await add_run(sessions, "test_proc", "1.0.0", status="waiting_approval")

    response = await client.delete("/api/procedures/test_proc/1.0.0", params={"force": "true"})

    error = assert_error(response, 409, "version_has_runs")
    assert error["details"]["unfinished_runs"] == 1


# --------------------------------------------------------------------------- lifecycle
@pytest.mark.parametrize("method", ["PATCH", "POST"])
async def test_status_follows_the_lifecycle(client: httpx.AsyncClient, method: str) -> None:
    await create_procedure(client)
    url = "/api/procedures/test_proc/1.0.0/status"

    seen = []
    for status in ("active", "deprecated", "active", "deprecated", "archived"):
        response = await client.request(method, url, json={"status": status})
        assert response.status_code == 200, response.text
        seen.append(response.json()["status"])

    assert seen == ["active", "deprecated", "active", "deprecated", "archived"]
    assert (await client.get("/api/procedures/test_proc/1.0.0")).json()["status"] == "archived"


@pytest.mark.parametrize(("path", "target"), [(["draft"], "deprecated"), (["draft"], "archived"),
                                              (["active"], "draft"), (["active", "deprecated", "archived"], "active")])
async def test_status_refuses_other_transitions(client: httpx.AsyncClient, path: list[str], target: str) -> None:
    await create_procedure(client)
    url = "/api/procedures/test_proc/1.0.0/status"
    for status in path[1:] if path[0] == "draft" else path:
        assert (await client.patch(url, json={"status": status})).status_code == 200

    error = assert_error(await client.patch(url, json={"status": target}), 409, "invalid_transition")
    assert error["details"]["to"] == target


async def test_setting_the_current_status_again_is_a_no_op(client: httpx.AsyncClient) -> None:
    created = await create_procedure(client)

    response = await client.patch("/api/procedures/test_proc/1.0.0/status", json={"status": "draft"})

    assert response.status_code == 200 and response.json()["updated_at"] == created["updated_at"]


async def test_status_of_a_version_with_runs_can_still_change(client: httpx.AsyncClient,
                                                              sessions: async_sessionmaker[AsyncSession]) -> None:
    await create_procedure(client, ckp(status="active"))
    await add_run(sessions, "test_proc")

    response = await client.patch("/api/procedures/test_proc/1.0.0/status", json={"status": "deprecated"})

    assert response.status_code == 200 and response.json()["run_count"] == 1


async def test_status_errors(client: httpx.AsyncClient) -> None:
    await create_procedure(client)

    assert_error(await client.patch("/api/procedures/test_proc/1.0.0/status", json={"status": "gone"}), 422)
    assert_error(await client.patch("/api/procedures/test_proc/2.0.0/status", json={"status": "active"}), 404)
