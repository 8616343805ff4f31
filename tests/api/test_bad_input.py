"""Bad input of any kind gets a 4xx with the error envelope, never a 5xx, and stores nothing.

One regression test per case found by fuzzing ``langorch serve`` (issue #13), on SQLite
and PostgreSQL (the ``client`` fixture runs both).
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.api.conftest import assert_error, ckp, create_procedure


def _nested(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = {"a": value}
    return value


async def _post_raw(client: httpx.AsyncClient, url: str, body: bytes) -> httpx.Response:
    return await client.post(url, content=body, headers={"content-type": "application/json"})


@pytest.mark.asyncio
@pytest.mark.parametrize("depth", [300, 1000, 5000])
async def test_deeply_nested_input_vars_are_refused_before_a_run_is_stored(client: httpx.AsyncClient,
                                                                            depth: int) -> None:
    await create_procedure(client)
    body = '{"procedure_id": "test_proc", "input_vars": {"x": ' + "[" * depth + "]" * depth + "}}"

    response = await _post_raw(client, "/api/runs", body.encode())

    error = assert_error(response, 422, "invalid_request")
    assert "nest" in error["message"]
    assert (await client.get("/api/runs")).json() == []


@pytest.mark.asyncio
@pytest.mark.parametrize("where", ["procedure_id", "input_vars"])
async def test_a_nul_byte_in_a_body_string_is_422_at_its_field(client: httpx.AsyncClient, where: str) -> None:
    await create_procedure(client)
    body: dict[str, Any] = {"procedure_id": "test_proc", "input_vars": {"note": "ok"}}
    if where == "procedure_id":
        body["procedure_id"] = "test\u0000proc"
    else:
        body["input_vars"]["note"] = "a\u0000b"

    response = await client.post("/api/runs", json=body)

    error = assert_error(response, 422, "invalid_request")
    assert "NUL" in error["message"]
    assert error["details"][0]["loc"][:2] == ["body", where]


@pytest.mark.asyncio
async def test_a_nul_byte_in_a_key_is_422(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/procedures/validate", json={"ckp_json": {"a\u0000": 1}})

    assert_error(response, 422, "invalid_request")


@pytest.mark.asyncio
async def test_a_lone_surrogate_is_422(client: httpx.AsyncClient) -> None:
    response = await _post_raw(client, "/api/procedures/validate", b'{"ckp_json": {"description": "\\ud800"}}')

    error = assert_error(response, 422, "invalid_request")
    assert "surrogate" in error["message"]


@pytest.mark.asyncio
@pytest.mark.parametrize("path", ["/api/runs/abc%00def", "/api/procedures/x%00y", "/api/procedures/x/1%00",
                                  "/api/runs?procedure_id=a%00b", "/api/approvals/%00"])
async def test_a_nul_byte_in_a_path_or_query_is_422(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path)

    error = assert_error(response, 422, "invalid_request")
    assert "NUL" in error["message"]


@pytest.mark.asyncio
@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
async def test_nan_and_infinity_are_refused(client: httpx.AsyncClient, constant: str) -> None:
    await create_procedure(client)

    response = await _post_raw(client, "/api/runs",
                               b'{"procedure_id": "test_proc", "input_vars": {"x": %s}}' % constant.encode())

    error = assert_error(response, 422, "invalid_request")
    assert constant.lstrip("-") in error["message"]
    assert (await client.get("/api/runs")).json() == []


@pytest.mark.asyncio
@pytest.mark.parametrize("number", [str(2**64), str(-(2**63) - 1), "9" * 5000])
async def test_an_integer_outside_64_bits_is_refused(client: httpx.AsyncClient, number: str) -> None:
    await create_procedure(client)

    response = await _post_raw(client, "/api/runs",
                               b'{"procedure_id": "test_proc", "input_vars": {"x": %s}}' % number.encode())

    error = assert_error(response, 422, "invalid_request")
    assert "64-bit" in error["message"]


@pytest.mark.asyncio
async def test_the_largest_64_bit_integers_are_accepted(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/procedures/validate",
                                 json={"ckp_json": ckp(global_config={"x": 2**63 - 1, "y": -(2**63)})})

    assert response.status_code == 200, response.text


@pytest.mark.asyncio
async def test_invalid_utf8_is_the_documented_422(client: httpx.AsyncClient) -> None:
    response = await _post_raw(client, "/api/procedures/validate", b'{"ckp_json": {"description": "\xff\xfe"}}')

    error = assert_error(response, 422, "invalid_request")
    assert "UTF-8" in error["message"]


@pytest.mark.asyncio
@pytest.mark.parametrize("body", [b"{", b'{"ckp_json": }', b"[1,2", b"", b"nul"])
async def test_a_body_that_does_not_parse_is_422_invalid_request(client: httpx.AsyncClient, body: bytes) -> None:
    response = await _post_raw(client, "/api/procedures/validate", body)

    error = assert_error(response, 422, "invalid_request")
    assert error["details"], "details say where parsing stopped"


@pytest.mark.asyncio
@pytest.mark.parametrize("field,value", [("procedure_id", "a/b"), ("version", "1.0/2"), ("procedure_id", "has space"),
                                         ("version", "..")])
async def test_an_id_or_version_outside_the_pattern_is_refused_at_import(client: httpx.AsyncClient, field: str,
                                                                         value: str) -> None:
    response = await client.post("/api/procedures", json={"ckp_json": ckp(**{field: value})})

    error = assert_error(response, 422)
    assert any(d["path"] == f"/{field}" for d in error["details"]), error
    assert (await client.get("/api/procedures")).json() == []


@pytest.mark.asyncio
async def test_a_stored_run_that_cannot_be_rendered_is_listed_with_an_error_marker(
        client: httpx.AsyncClient, sessions: Any) -> None:
    from tests.api.conftest import add_run
    await create_procedure(client)
    good = (await add_run(sessions, "test_proc")).run_id
    bad = (await add_run(sessions, "test_proc", input_vars=_nested(400))).run_id

    listed = await client.get("/api/runs")
    one = await client.get(f"/api/runs/{bad}")
    events = await client.get(f"/api/runs/{bad}/events")

    assert listed.status_code == 200, listed.text
    rows = {r["run_id"]: r for r in listed.json()}
    assert rows[good].get("render_error") is None
    assert "nest" in rows[bad]["render_error"]
    assert one.status_code == 200 and one.json()["render_error"]
    assert events.status_code == 200
    assert json.dumps(rows[bad])  # valid JSON all the way down
