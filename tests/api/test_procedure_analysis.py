"""/api/procedures: validate, schema, graph and explain (nothing executes)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.api.conftest import assert_error, broken_ckp, ckp, create_procedure

pytestmark = pytest.mark.asyncio

EXAMPLES = Path(__file__).resolve().parents[2] / "ckp_examples"

EXPLAIN_ME: dict[str, Any] = {
    "procedure_id": "explain_me", "version": "1.0.0",
    "variables_schema": {"required": {"items": {"type": "array", "description": "things"},
                                      "region": {"type": "string", "default": "eu"}},
                         "optional": {"summary": {"type": "string"}}},
    "global_config": {"secrets_config": {"provider": "env_vars",
                                         "secret_references": {"portal_token": "PORTAL_TOKEN"}}},
    "workflow_graph": {"start_node": "each", "nodes": {
        "each": {"type": "loop", "iterator": "items", "iterator_variable": "item", "body_node": "think",
                 "max_iterations": 5, "next_node": "fetch"},
        "think": {"type": "llm_action", "prompt": "Summarise {{item}}", "model": "gpt-test",
                  "retry": {"max_retries": 1}, "outputs": {"summary": "text"}, "next_node": None},
        "fetch": {"type": "sequence", "agent": "WEB", "next_node": "ask",
                  "steps": [{"step_id": "open", "action": "navigate",
                             "url": "https://portal.test/{{secrets.portal_token}}"}]},
        "ask": {"type": "human_approval", "prompt": "OK?", "decision_type": "approve_reject",
                "on_approve": "done", "on_reject": "done"},
        "done": {"type": "terminate", "status": "success"}}},
}


# --------------------------------------------------------------------------- validate and schema
async def test_validate_a_good_ckp_saves_nothing(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/procedures/validate", json={"ckp_json": ckp()})

    assert response.status_code == 200
    body = response.json()
    assert body["valid"] is True and body["diagnostics"] == []
    assert body["procedure_id"] == "test_proc" and body["version"] == "1.0.0" and len(body["ir_hash"]) == 64
    assert_error(await client.get("/api/procedures/test_proc/1.0.0"), 404)


async def test_validate_a_bad_ckp_answers_200_with_diagnostics(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/procedures/validate", json={"ckp_json": broken_ckp()})

    assert response.status_code == 200
    body = response.json()
    assert body["valid"] is False and body["ir_hash"] is None
    assert "CKP202" in {d["code"] for d in body["diagnostics"]}


@pytest.mark.parametrize(("document", "code"), [("[1]", "CKP102"), ("{oops", "CKP101"), (42, "CKP102"),
                                                 (None, "CKP102")])
async def test_validate_accepts_json_text_and_reports_what_is_not_a_ckp(client: httpx.AsyncClient, document: Any,
                                                                       code: str) -> None:
    body = (await client.post("/api/procedures/validate", json={"ckp_json": document})).json()

    assert body["valid"] is False
    assert code in {d["code"] for d in body["diagnostics"]}


async def test_validate_accepts_ckp_text(client: httpx.AsyncClient) -> None:
    body = (await client.post("/api/procedures/validate", json={"ckp_json": json.dumps(ckp())})).json()

    assert body["valid"] is True


async def test_validate_needs_a_ckp_json_field(client: httpx.AsyncClient) -> None:
    assert_error(await client.post("/api/procedures/validate", json={}), 422, "invalid_request")


async def test_schema_is_the_ckp_json_schema(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/procedures/schema")

    assert response.status_code == 200
    schema = response.json()
    assert "2020-12" in schema["$schema"]
    assert {"procedure_id", "workflow_graph"} <= set(schema["$defs"]["Procedure"]["properties"])


# --------------------------------------------------------------------------- graph
async def test_graph_of_every_example_names_only_its_own_nodes(client: httpx.AsyncClient) -> None:
    for path in sorted(EXAMPLES.glob("*.json")):
        document = json.loads(path.read_text())
        await create_procedure(client, document)
        response = await client.get(f"/api/procedures/{document['procedure_id']}/{document['version']}/graph")
        assert response.status_code == 200, (path.name, response.text)
        graph = response.json()
        ids = {n["id"] for n in graph["nodes"]}
        assert ids == set(document["workflow_graph"]["nodes"])
        assert all(e["source"] in ids and e["target"] in ids for e in graph["edges"])
        assert len({e["id"] for e in graph["edges"]}) == len(graph["edges"])
        assert [n["id"] for n in graph["nodes"] if n["is_start"]] == [graph["start_node"]]


async def test_graph_nodes_carry_tier_label_agent_data_and_position(client: httpx.AsyncClient) -> None:
    await create_procedure(client, EXPLAIN_ME)

    graph = (await client.get("/api/procedures/explain_me/1.0.0/graph")).json()

    nodes = {n["id"]: n for n in graph["nodes"]}
    assert set(nodes["fetch"]) == {"id", "type", "tier", "label", "agent", "is_start", "is_terminal", "data",
                                   "position"}
    assert {k: n["tier"] for k, n in nodes.items()} == {"each": "control", "think": "intelligent",
                                                        "fetch": "deterministic", "ask": "control",
                                                        "done": "control"}
    assert nodes["fetch"]["agent"] == "WEB"
    assert nodes["fetch"]["data"]["steps"][0]["action"] == "navigate"
    assert nodes["think"]["data"]["model"] == "gpt-test"
    assert nodes["done"]["is_terminal"] and not nodes["each"]["is_terminal"]
    assert nodes["each"]["position"]["x"] < nodes["think"]["position"]["x"]
    edges = {(e["source"], e["target"], e["kind"]) for e in graph["edges"]}
    assert {("each", "think", "body"), ("each", "fetch", "next"), ("ask", "done", "approve"),
            ("ask", "done", "reject")} <= edges
    assert set(graph["edges"][0]) == {"id", "source", "target", "kind", "label"}


async def test_graph_of_an_unknown_version_is_404(client: httpx.AsyncClient) -> None:
    assert_error(await client.get("/api/procedures/nothing/1.0.0/graph"), 404, "not_found")


# --------------------------------------------------------------------------- explain
async def test_explain_lists_what_a_run_would_touch(client: httpx.AsyncClient) -> None:
    await create_procedure(client, EXPLAIN_ME)

    response = await client.post("/api/procedures/explain_me/1.0.0/explain", json={"input_vars": {"region": "us"}})

    assert response.status_code == 200
    body = response.json()
    assert body["estimated_max_llm_calls"] == 10  # 5 loop iterations x (1 try + 1 retry)
    assert body["llm_models"] == ["gpt-test"]
    assert body["has_unbounded_cycles"] is False
    assert {n["id"]: n["max_visits"] for n in body["nodes"]}["think"] == 5
    kinds = sorted((c["kind"], c["action"], c.get("channel")) for c in body["external_calls"])
    assert kinds == [("agent", "navigate", "WEB"), ("llm", "llm_action", None)]
    assert [a["node_id"] for a in body["approvals"]] == ["ask"]
    assert body["variables_required"] == ["items"]
    assert body["missing_inputs"] == ["items"]
    assert body["secrets"] == [{"name": "portal_token", "provider": "env_vars", "key": "PORTAL_TOKEN"}]
    assert body["side_effects"] is True
    assert body["execution_mode"] == "production"


async def test_explain_without_a_body_treats_every_required_input_as_missing(client: httpx.AsyncClient) -> None:
    await create_procedure(client, EXPLAIN_ME)

    body = (await client.post("/api/procedures/explain_me/1.0.0/explain")).json()

    assert body["missing_inputs"] == ["items"]


async def test_explain_flags_cycles_no_loop_bounds(client: httpx.AsyncClient) -> None:
    document = ckp("again", variables_schema={"required": {"n": {"type": "integer", "default": 1}}})
    nodes = document["workflow_graph"]["nodes"]
    nodes["greet"]["next_node"] = "think"
    nodes["think"] = {"type": "llm_action", "prompt": "n={{n}}", "next_node": "check"}
    nodes["check"] = {"type": "logic", "rules": [{"condition": "{{n}} > 3", "next_node": "greet"}],
                      "default_next_node": "end"}
    await create_procedure(client, document)

    body = (await client.post("/api/procedures/again/1.0.0/explain", json={})).json()

    assert body["has_unbounded_cycles"] is True
    assert body["estimated_max_llm_calls"] is None
    assert {n["id"]: n["max_visits"] for n in body["nodes"]} == {"greet": None, "think": None, "check": None,
                                                                 "end": 1}


async def test_explain_errors(client: httpx.AsyncClient) -> None:
    await create_procedure(client, EXPLAIN_ME)

    assert_error(await client.post("/api/procedures/nothing/1.0.0/explain"), 404, "not_found")
    assert_error(await client.post("/api/procedures/explain_me/1.0.0/explain", json={"input_vars": [1]}), 422)
