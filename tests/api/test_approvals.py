"""/api/approvals: the inbox, decisions that resume exactly their gate (also several at
once), 409 on a second decision, expiry by the background loop, and the inbox SSE stream."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from tests.api.conftest import assert_error
from tests.api.run_support import (
    approval_doc,
    events,
    gates_doc,
    import_procedure,
    pending_approvals,
    read_sse,
    start_run,
    wait_status,
)
from tests.auth_support import bearer

pytest_plugins = ("tests.api.run_fixtures",)
pytestmark = pytest.mark.asyncio

APPROVAL_FIELDS = {"approval_id", "run_id", "node_id", "prompt", "decision_type", "options", "context_data",
                   "status", "decided_by", "comment", "created_at", "decided_at", "expires_at"}


async def test_a_decision_resumes_the_run_to_completion(api: httpx.AsyncClient) -> None:
    await import_procedure(api, approval_doc())
    run = await start_run(api, "approve_me", input_vars={"amount": 75})
    [approval] = await pending_approvals(api, run["run_id"])
    assert set(approval) >= APPROVAL_FIELDS
    assert approval["prompt"] == "Pay 75?" and approval["context_data"] == {"amount": 75}
    assert approval["node_id"] == "gate" and approval["status"] == "pending"
    assert (await api.get(f"/api/runs/{run['run_id']}")).json()["status"] == "waiting_approval"

    response = await api.post(f"/api/approvals/{approval['approval_id']}/decision",
                              json={"decision": "approve", "comment": "fine"}, headers=bearer("approver", "ann"))

    assert response.status_code == 200, response.text
    decided = response.json()
    assert decided["status"] == "approved" and decided["decided_by"] == "ann" and decided["decided_at"]
    done = await wait_status(api, run["run_id"], "completed", "failed")
    assert done["output_vars"] == {"route": "approved", "verdict": "approved"}
    types = [e["event_type"] for e in await events(api, run["run_id"])]
    assert types.count("approval_requested") == 1 and types.count("approval_decided") == 1


async def test_a_second_decision_is_409_with_the_first_one(api: httpx.AsyncClient) -> None:
    await import_procedure(api, approval_doc())
    run = await start_run(api, "approve_me")
    [approval] = await pending_approvals(api, run["run_id"])
    url = f"/api/approvals/{approval['approval_id']}/decision"

    first = await api.post(url, json={"status": "rejected"}, headers=bearer("approver", "bob"))
    second = await api.post(url, json={"decision": "approve"}, headers=bearer("approver", "eve"))

    assert first.status_code == 200 and first.json()["status"] == "rejected"
    error = assert_error(second, 409, "conflict")
    assert error["details"]["first_decision"]["decided_by"] == "bob"
    assert error["details"]["first_decision"]["status"] == "rejected"
    done = await wait_status(api, run["run_id"], "completed", "failed")
    assert done["output_vars"]["route"] == "rejected"


async def test_two_simultaneous_decisions_on_one_approval_apply_once(api: httpx.AsyncClient) -> None:
    await import_procedure(api, approval_doc())
    run = await start_run(api, "approve_me")
    [approval] = await pending_approvals(api, run["run_id"])
    url = f"/api/approvals/{approval['approval_id']}/decision"

    answers = await asyncio.gather(*(api.post(url, json={"decision": d})
                                     for d in ("approve", "reject", "approve", "reject")))

    assert sorted(a.status_code for a in answers) == [200, 409, 409, 409]
    await wait_status(api, run["run_id"], "completed")
    types = [e["event_type"] for e in await events(api, run["run_id"])]
    assert types.count("approval_decided") == 1


async def test_bad_decisions_are_422_and_unknown_approvals_404(api: httpx.AsyncClient) -> None:
    await import_procedure(api, approval_doc())
    run = await start_run(api, "approve_me")
    [approval] = await pending_approvals(api, run["run_id"])
    url = f"/api/approvals/{approval['approval_id']}/decision"

    assert_error(await api.post(url, json={"decision": "maybe"}), 422)
    assert_error(await api.post(url, json={"status": "pending"}), 422)
    assert_error(await api.post(url, json={}), 422)
    assert_error(await api.post("/api/approvals/nope/decision", json={"decision": "approve"}), 404)
    assert_error(await api.get("/api/approvals/nope"), 404)
    assert (await api.get(f"/api/approvals/{approval['approval_id']}")).json()["status"] == "pending"


async def test_select_option_and_provide_input_gates(api: httpx.AsyncClient) -> None:
    await import_procedure(api, approval_doc("pick", decision_type="select_option", options=["Small", "Large"]))
    await import_procedure(api, approval_doc("ask", decision_type="provide_input"))
    pick = await start_run(api, "pick")
    ask = await start_run(api, "ask")
    [choice] = await pending_approvals(api, pick["run_id"])
    [question] = await pending_approvals(api, ask["run_id"])
    assert choice["options"] == ["Small", "Large"] and choice["decision_type"] == "select_option"

    assert_error(await api.post(f"/api/approvals/{choice['approval_id']}/decision", json={"decision": "Medium"}),
                 422)
    picked = await api.post(f"/api/approvals/{choice['approval_id']}/decision", json={"decision": "large"})
    given = await api.post(f"/api/approvals/{question['approval_id']}/decision",
                           json={"payload": {"po": "PO-9"}})

    assert picked.status_code == 200 and picked.json()["decision"] == "Large"
    assert given.status_code == 200 and given.json()["payload"] == {"po": "PO-9"}
    assert (await wait_status(api, pick["run_id"], "completed"))["output_vars"]["verdict"] == "Large"
    assert (await wait_status(api, ask["run_id"], "completed"))["output_vars"]["verdict"] == {"po": "PO-9"}


@pytest.mark.parametrize("order", [("legal", "finance", "ops"), ("ops", "legal", "finance")])
async def test_parallel_gates_are_decided_in_any_order(api: httpx.AsyncClient, order: tuple[str, ...]) -> None:
    await import_procedure(api, gates_doc())
    run = await start_run(api, "three_gates")
    gates = {a["node_id"]: a for a in await pending_approvals(api, run["run_id"], 3)}
    verdicts = {"legal": "approve", "finance": "reject", "ops": "approve"}

    for step, gate in enumerate(order):
        response = await api.post(f"/api/approvals/{gates[gate]['approval_id']}/decision",
                                  json={"decision": verdicts[gate]})
        assert response.status_code == 200, response.text
        if step < 2:
            current = await _settled(api, run["run_id"])
            assert current["status"] == "waiting_approval"
            left = {a["node_id"] for a in (await api.get("/api/approvals", params={
                "run_id": run["run_id"], "status": "pending"})).json()}
            assert left == set(order[step + 1:])

    done = await wait_status(api, run["run_id"], "completed", "failed")
    assert done["output_vars"] == {"legal": "approved", "finance": "rejected", "ops": "approved"}
    decided = [e["node_id"] for e in await events(api, run["run_id"]) if e["event_type"] == "approval_decided"]
    assert decided == list(order)


async def test_parallel_gates_decided_all_at_once_lose_no_decision(api: httpx.AsyncClient) -> None:
    await import_procedure(api, gates_doc())
    run = await start_run(api, "three_gates")
    gates = await pending_approvals(api, run["run_id"], 3)
    verdict = {"legal": "reject", "finance": "approve", "ops": "approve"}

    answers = await asyncio.gather(*(api.post(f"/api/approvals/{g['approval_id']}/decision",
                                              json={"decision": verdict[g["node_id"]]}) for g in gates))

    assert [a.status_code for a in answers] == [200, 200, 200]
    done = await wait_status(api, run["run_id"], "completed", "failed")
    assert done["output_vars"] == {"legal": "rejected", "finance": "approved", "ops": "approved"}


async def _settled(api: httpx.AsyncClient, run_id: str) -> dict[str, Any]:
    """The run once no job of it is queued or running."""
    for _ in range(600):
        diag = (await api.get(f"/api/runs/{run_id}/diagnostics")).json()
        if all(j["status"] not in ("queued", "running") for j in diag["jobs"]):
            return (await api.get(f"/api/runs/{run_id}")).json()
        await asyncio.sleep(0.02)
    raise AssertionError("jobs did not settle")


async def test_an_expired_approval_applies_the_gate_timeout_action(api: httpx.AsyncClient) -> None:
    await import_procedure(api, approval_doc("expiring", timeout_ms=300, timeout_action="auto_reject"))
    run = await start_run(api, "expiring")
    [approval] = await pending_approvals(api, run["run_id"])
    assert approval["expires_at"] is not None

    done = await wait_status(api, run["run_id"], "completed", "failed", timeout=10)

    assert done["output_vars"]["route"] == "rejected"
    expired = (await api.get(f"/api/approvals/{approval['approval_id']}")).json()
    assert expired["status"] == "timed_out" and expired["decision"] == "timeout"
    assert_error(await api.post(f"/api/approvals/{approval['approval_id']}/decision",
                                json={"decision": "approve"}), 409)


async def test_inbox_lists_pending_first_and_filters(api: httpx.AsyncClient) -> None:
    await import_procedure(api, approval_doc())
    first = await start_run(api, "approve_me")
    [old] = await pending_approvals(api, first["run_id"])
    await api.post(f"/api/approvals/{old['approval_id']}/decision", json={"decision": "approve"})
    await wait_status(api, first["run_id"], "completed")
    second = await start_run(api, "approve_me")
    [new] = await pending_approvals(api, second["run_id"])

    inbox = await api.get("/api/approvals")
    pending = await api.get("/api/approvals", params={"status": "pending"})
    by_node = await api.get("/api/approvals", params={"node_id": "nowhere"})

    assert [a["approval_id"] for a in inbox.json()] == [new["approval_id"], old["approval_id"]]
    assert inbox.headers["x-total-count"] == "2"
    assert [a["approval_id"] for a in pending.json()] == [new["approval_id"]]
    assert by_node.json() == [] and by_node.headers["x-total-count"] == "0"


async def test_the_inbox_stream_pushes_created_and_decided(api: httpx.AsyncClient) -> None:
    await import_procedure(api, approval_doc())
    updates: list[dict[str, Any]] = []
    ready = asyncio.Event()

    async def listen() -> None:
        async with api.stream("GET", "/api/approvals/stream") as response:
            assert response.status_code == 200
            async for message in read_sse(response):
                if message.event == "ready":
                    ready.set()
                elif message.event == "approval_update":
                    updates.append(message.json)
                    if len(updates) == 2:
                        return

    listener = asyncio.create_task(listen())
    await asyncio.wait_for(ready.wait(), 10)
    run = await start_run(api, "approve_me")
    [approval] = await pending_approvals(api, run["run_id"])
    await api.post(f"/api/approvals/{approval['approval_id']}/decision", json={"decision": "approve"})
    await asyncio.wait_for(listener, 10)

    assert [u["action"] for u in updates] == ["created", "decided"]
    assert all(u["approval_id"] == approval["approval_id"] for u in updates)
    assert updates[1]["approval"]["status"] == "approved"
