"""/api/procedures for the visual builder: scopes from validate, ``$ui`` positions, change notes."""

from __future__ import annotations

import copy
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.api.conftest import add_run, assert_error, ckp, create_procedure

pytestmark = pytest.mark.asyncio


def moved(document: dict[str, Any], x: float) -> dict[str, Any]:
    out = copy.deepcopy(document)
    for i, node in enumerate(out["workflow_graph"]["nodes"].values()):
        node["$ui"] = {"position": {"x": x, "y": 80 * i}}
    return out


# --------------------------------------------------------------------------- validate: scopes
async def test_validate_returns_the_variables_known_at_each_nodes_entry(client: httpx.AsyncClient) -> None:
    document = ckp(variables_schema={"customer": {"type": "string"}})
    document["workflow_graph"]["nodes"]["greet"]["steps"].append(
        {"step_id": "remember", "action": "set_variable", "variable": "greeting", "value": "hi {{customer}}"})

    body = (await client.post("/api/procedures/validate", json={"ckp_json": document})).json()

    assert body["valid"] is True
    assert set(body["scopes"]) == {"greet", "end"}
    assert "customer" in body["scopes"]["greet"] and "run_id" in body["scopes"]["greet"]
    assert "greeting" not in body["scopes"]["greet"]
    assert "greeting" in body["scopes"]["end"]
    assert body["scopes"]["end"] == sorted(body["scopes"]["end"])


async def test_validate_of_a_document_that_does_not_parse_has_empty_scopes(client: httpx.AsyncClient) -> None:
    body = (await client.post("/api/procedures/validate", json={"ckp_json": "{oops"})).json()

    assert body["valid"] is False and body["scopes"] == {}


async def test_validate_answers_scopes_only_for_the_nodes_asked_for(client: httpx.AsyncClient) -> None:
    none = (await client.post("/api/procedures/validate", json={"ckp_json": ckp(), "scopes_for": []})).json()
    one = (await client.post("/api/procedures/validate",
                             json={"ckp_json": ckp(), "scopes_for": ["end", "no_such_node"]})).json()

    assert none["valid"] is True and none["scopes"] == {}
    assert list(one["scopes"]) == ["end"] and "run_id" in one["scopes"]["end"]


# --------------------------------------------------------------------------- $ui positions
async def test_ui_positions_raise_no_warning_and_keep_the_ir_hash(client: httpx.AsyncClient) -> None:
    plain = (await client.post("/api/procedures/validate", json={"ckp_json": ckp()})).json()
    annotated = (await client.post("/api/procedures/validate", json={"ckp_json": moved(ckp(), 100)})).json()

    assert annotated["diagnostics"] == []
    assert annotated["ir_hash"] == plain["ir_hash"]


async def test_ui_positions_are_stored_verbatim(client: httpx.AsyncClient) -> None:
    document = moved(ckp(), 100)
    created = await create_procedure(client, document)

    assert created["warnings"] == []
    stored = (await client.get("/api/procedures/test_proc/1.0.0")).json()
    assert stored["ckp_json"] == document


async def test_create_with_only_moved_nodes_under_a_stored_version_is_409_not_unchanged(
        client: httpx.AsyncClient) -> None:
    first = await create_procedure(client, moved(ckp(), 100))

    again = await client.post("/api/procedures", json={"ckp_json": moved(ckp(), 500)})

    error = assert_error(again, 409, "duplicate_version")
    assert error["details"]["id"] == first["id"]
    stored = (await client.get("/api/procedures/test_proc/1.0.0")).json()
    assert stored["ckp_json"] == moved(ckp(), 100)


async def test_put_of_a_draft_without_runs_saves_moved_nodes_with_the_same_ir_hash(
        client: httpx.AsyncClient) -> None:
    first = await create_procedure(client, moved(ckp(), 100))

    response = await client.put("/api/procedures/test_proc/1.0.0", json={"ckp_json": moved(ckp(), 500)})

    assert response.status_code == 200
    assert response.json()["ir_hash"] == first["ir_hash"]
    stored = (await client.get("/api/procedures/test_proc/1.0.0")).json()
    assert stored["ckp_json"] == moved(ckp(), 500)


async def test_put_of_moved_nodes_is_still_refused_once_the_version_has_runs(
        client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]) -> None:
    await create_procedure(client, moved(ckp(), 100))
    await add_run(sessions, "test_proc", "1.0.0")

    response = await client.put("/api/procedures/test_proc/1.0.0", json={"ckp_json": moved(ckp(), 500)})

    assert_error(response, 409, "version_has_runs")


# --------------------------------------------------------------------------- change notes
async def test_a_change_note_round_trips_through_create_get_and_the_version_list(client: httpx.AsyncClient) -> None:
    note = "Moved the approval before the payment — per audit finding #7.\nSecond line."
    created = await create_procedure(client, ckp(version="1.1.0"), change_note=note)

    assert created["change_note"] == note
    assert (await client.get("/api/procedures/test_proc/1.1.0")).json()["change_note"] == note
    listed = (await client.get("/api/procedures/test_proc/versions")).json()
    assert [v["change_note"] for v in listed] == [note]


async def test_a_version_created_without_a_note_has_none(client: httpx.AsyncClient) -> None:
    created = await create_procedure(client)

    assert created["change_note"] is None
    assert (await client.get("/api/procedures", params={"all_versions": "true"})).json()[0]["change_note"] is None


async def test_put_replaces_the_change_note_only_when_one_is_sent(client: httpx.AsyncClient) -> None:
    await create_procedure(client, change_note="first draft")

    kept = await client.put("/api/procedures/test_proc/1.0.0", json={"ckp_json": ckp(description="x")})
    assert kept.json()["change_note"] == "first draft"
    replaced = await client.put("/api/procedures/test_proc/1.0.0",
                                json={"ckp_json": ckp(description="y"), "change_note": "second draft"})
    assert replaced.json()["change_note"] == "second draft"


@pytest.mark.parametrize(("note", "words"), [("before\x00after", "NUL"), ("x" * 2001, "2000 characters")])
async def test_a_change_note_with_nul_or_over_2000_characters_is_422_with_a_clear_message(
        client: httpx.AsyncClient, note: str, words: str) -> None:
    for response in (await client.post("/api/procedures", json={"ckp_json": ckp(), "change_note": note}),
                     await client.put("/api/procedures/test_proc/1.0.0",
                                      json={"ckp_json": ckp(), "change_note": note})):
        error = assert_error(response, 422, "invalid_request")
        assert [d["loc"] for d in error["details"]] == [["body", "change_note"]]
        assert words in error["details"][0]["message"]
    assert_error(await client.get("/api/procedures/test_proc/1.0.0"), 404)


async def test_a_change_note_of_exactly_2000_characters_is_kept(client: httpx.AsyncClient) -> None:
    created = await create_procedure(client, change_note="é" * 2000)

    assert created["change_note"] == "é" * 2000
