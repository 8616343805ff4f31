"""Run-completed chains on SQLite and PostgreSQL, with a real worker running the runs: a
finished run of A starts B with A's outputs (once per source run, filtered, on the
statuses asked for), and a chain that would close a cycle is refused at registration."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from langorch.services import chains, triggers
from langorch.services.errors import Invalid
from langorch.services.runtime_wiring import ServerRuntime
from langorch.store.models import Run, RunEvent, TriggerFire
from langorch.worker.worker import Worker
from tests.api import conftest as api_fixtures
from tests.api.conftest import assert_error, create_procedure
from tests.api.run_support import doc, end

pytestmark = pytest.mark.asyncio

# The API tests' app over SQLite and PostgreSQL (no embedded worker: the tests run one).
app, client, settings = api_fixtures.app, api_fixtures.client, api_fixtures.settings
db_path, migrated_template = api_fixtures.db_path, api_fixtures.migrated_template
pg_migrated, pg_url = api_fixtures.pg_migrated, api_fixtures.pg_url


def _rt(app: FastAPI) -> ServerRuntime:
    rt: ServerRuntime = app.state.ctx.extras["runtime"]
    return rt


def source_doc() -> dict[str, Any]:
    """A: ends completed with {amount, customer}, or failed when amount is negative."""
    return doc("invoice", {
        "check": {"type": "logic", "rules": [{"condition": "amount < 0", "next_node": "refused"}],
                  "default_next_node": "booked"},
        "booked": end(outputs={"amount": "{{amount}}", "customer": "{{customer}}"}),
        "refused": end("failed", outputs={"amount": "{{amount}}", "reason": "negative amount"}),
    }, variables={"amount": {"type": "number", "required": True}, "customer": {"type": "string", "default": "acme"}})


def target_doc(procedure_id: str = "notify") -> dict[str, Any]:
    return doc(procedure_id, {
        "say": {"type": "sequence", "next_node": "done",
                "steps": [{"step_id": "log", "action": "log", "value": "{{customer}}: {{amount}}"}]},
        "done": end(outputs={"seen_amount": "{{amount}}"}),
    }, variables={"amount": {"type": "any"}, "customer": {"type": "string", "default": "nobody"}})


async def _chain(app: FastAPI, procedure_id: str, source: str, **config: Any) -> str:
    async with _rt(app).sessions() as session:
        made = await triggers.create(session, None, {"procedure_id": procedure_id, "trigger_type": "run_completed",
                                                     "config": {"source_procedure_id": source, **config}})
        await session.commit()
        return made.trigger.id


async def _start(client: httpx.AsyncClient, procedure_id: str, **inputs: Any) -> str:
    response = await client.post("/api/runs", json={"procedure_id": procedure_id, "input_vars": inputs})
    assert response.status_code == 201, response.text
    run_id: str = response.json()["run_id"]
    return run_id


async def _runs(app: FastAPI, procedure_id: str) -> list[Run]:
    async with _rt(app).sessions() as session:
        return list(await session.scalars(select(Run).where(Run.procedure_id == procedure_id)
                                          .order_by(Run.created_at)))


async def _setup(app: FastAPI, client: httpx.AsyncClient) -> Worker:
    await create_procedure(client, source_doc(), status="active")
    await create_procedure(client, target_doc(), status="active")
    return Worker(_rt(app), concurrency=2)


async def test_a_completed_run_starts_the_chain_with_its_outputs(app: FastAPI, client: httpx.AsyncClient) -> None:
    worker = await _setup(app, client)
    trigger_id = await _chain(app, "notify", "invoice")
    source = await _start(client, "invoice", amount=250, customer="globex")
    await worker.drain()
    [chained] = await _runs(app, "notify")
    assert chained.status == "completed"
    assert chained.input_vars == {"amount": 250, "customer": "globex"}
    assert chained.output_vars == {"seen_amount": 250}
    assert chained.trigger_id == trigger_id and chained.trigger_type == "run_completed"
    assert chained.triggered_by == f"run {source}"
    async with _rt(app).sessions() as session:
        first = await session.scalar(select(RunEvent).where(RunEvent.run_id == chained.run_id, RunEvent.seq == 1))
    assert first is not None and first.type == "trigger_fired" and first.payload["trigger_id"] == trigger_id


async def test_a_false_filter_starts_nothing(app: FastAPI, client: httpx.AsyncClient) -> None:
    worker = await _setup(app, client)
    await _chain(app, "notify", "invoice", filter="outputs.amount > 100")
    await _start(client, "invoice", amount=40)
    await worker.drain()
    assert await _runs(app, "notify") == []
    await _start(client, "invoice", amount=101)
    await worker.drain()
    [chained] = await _runs(app, "notify")
    assert chained.input_vars["amount"] == 101


async def test_failed_runs_chain_only_when_asked(app: FastAPI, client: httpx.AsyncClient) -> None:
    worker = await _setup(app, client)
    await create_procedure(client, target_doc("escalate"), status="active")
    await _chain(app, "notify", "invoice")  # on: completed (the default)
    await _chain(app, "escalate", "invoice", on=["failed"], filter="status == 'failed'")
    await _start(client, "invoice", amount=-5)
    await worker.drain()
    assert [r.status for r in await _runs(app, "invoice")] == ["failed"]
    assert await _runs(app, "notify") == []
    [escalated] = await _runs(app, "escalate")
    assert escalated.input_vars == {"amount": -5, "reason": "negative amount", "customer": "nobody"}  # + default
    await _start(client, "invoice", amount=7)
    await worker.drain()
    assert len(await _runs(app, "notify")) == 1 and len(await _runs(app, "escalate")) == 1


async def test_both_statuses_when_on_names_both(app: FastAPI, client: httpx.AsyncClient) -> None:
    worker = await _setup(app, client)
    await _chain(app, "notify", "invoice", on=["completed", "failed"])
    await _start(client, "invoice", amount=-1)
    await _start(client, "invoice", amount=1)
    await worker.drain()
    assert sorted(r.input_vars["amount"] for r in await _runs(app, "notify")) == [-1, 1]


async def test_one_chained_run_per_source_run_even_if_the_hook_runs_twice(app: FastAPI,
                                                                         client: httpx.AsyncClient) -> None:
    worker = await _setup(app, client)
    trigger_id = await _chain(app, "notify", "invoice")
    source = await _start(client, "invoice", amount=300)
    await worker.drain()
    assert await chains.after_run(_rt(app), source) == []  # the worker already ran it
    assert await chains.after_run(_rt(app), source) == []
    runs = await _runs(app, "notify")
    assert len(runs) == 1
    async with _rt(app).sessions() as session:
        outcomes = list(await session.scalars(select(TriggerFire.outcome).where(TriggerFire.trigger_id == trigger_id)))
    assert outcomes == ["queued"]


async def test_the_hook_fires_a_finished_run_only_once_when_called_directly(app: FastAPI,
                                                                           client: httpx.AsyncClient) -> None:
    worker = await _setup(app, client)
    source = await _start(client, "invoice", amount=12)
    await worker.drain()  # no chain registered yet: nothing follows
    await _chain(app, "notify", "invoice")
    first = await chains.after_run(_rt(app), source)
    again = await chains.after_run(_rt(app), source)
    assert len(first) == 1 and again == []
    assert [r.run_id for r in await _runs(app, "notify")] == first


async def test_a_filter_that_cannot_be_evaluated_is_recorded_not_run(app: FastAPI, client: httpx.AsyncClient) -> None:
    worker = await _setup(app, client)
    trigger_id = await _chain(app, "notify", "invoice", filter="outputs.customer > 3")
    await _start(client, "invoice", amount=5, customer="acme")
    await worker.drain()
    assert await _runs(app, "notify") == []
    async with _rt(app).sessions() as session:
        fires = list(await session.scalars(select(TriggerFire).where(TriggerFire.trigger_id == trigger_id)))
    assert [f.outcome for f in fires] == ["failed"] and "filter" in (fires[0].detail or "")


async def test_a_chain_that_closes_a_cycle_is_refused(app: FastAPI, client: httpx.AsyncClient) -> None:
    for name in ("a", "b", "c"):
        await create_procedure(client, target_doc(name), status="active")
    await _chain(app, "b", "a")
    await _chain(app, "c", "b")
    response = await client.post("/api/triggers", json={
        "procedure_id": "a", "trigger_type": "run_completed", "config": {"source_procedure_id": "c"}})
    error = assert_error(response, 422)
    assert error["details"][0]["field"] == "config.source_procedure_id"
    assert error["details"][0]["cycle"] == ["c", "a", "b", "c"]
    assert "c → a → b → c" in error["message"]
    with pytest.raises(Invalid) as itself:
        await _chain(app, "a", "a")
    assert itself.value.details[0]["cycle"] == ["a", "a"]
    await _chain(app, "c", "a")  # a → c as well as a → b → c: no cycle
    c_to_d = await _chain(app, "a", "d")  # d is no procedure of a chain yet
    response = await client.put(f"/api/triggers/{c_to_d}", json={"config": {"source_procedure_id": "b"}})
    error = assert_error(response, 422)
    assert error["details"][0]["cycle"] == ["b", "a", "b"]


async def test_bad_chain_settings_are_refused_naming_the_field(app: FastAPI, client: httpx.AsyncClient) -> None:
    await create_procedure(client, target_doc(), status="active")
    for config, field in (({}, "config.source_procedure_id"),
                          ({"source_procedure_id": "x", "on": ["canceled"]}, "config.on"),
                          ({"source_procedure_id": "x", "filter": "outputs.amount >"}, "config.filter")):
        response = await client.post("/api/triggers", json={"procedure_id": "notify", "trigger_type": "run_completed",
                                                            "config": config})
        error = assert_error(response, 422)
        assert error["details"][0]["field"] == field, error
