"""Who may decide an approval: the approver role at least, then the node's approval_level,
approvers and approver_groups; the decision is stored under the caller's name, whatever the
body says."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
import pytest_asyncio

from tests.api.conftest import LiveServer, assert_error
from tests.api.run_support import approval_doc, import_procedure, pending_approvals, start_run, wait_status
from tests.auth_support import bearer

pytest_plugins = ("tests.api.run_fixtures",)
pytestmark = pytest.mark.asyncio

Caller = Callable[..., httpx.AsyncClient]


@pytest_asyncio.fixture
async def as_(server: LiveServer) -> AsyncIterator[Caller]:
    opened: list[httpx.AsyncClient] = []

    def make(role: str, name: str, **claims: Any) -> httpx.AsyncClient:
        http = httpx.AsyncClient(base_url=server.url, timeout=30, headers=bearer(role, name, **claims))
        opened.append(http)
        return http

    yield make
    for http in opened:
        await http.aclose()


async def _pending(api: httpx.AsyncClient, procedure_id: str, **gate: Any) -> dict[str, Any]:
    await import_procedure(api, approval_doc(procedure_id, **gate))
    run = await start_run(api, procedure_id, input_vars={"amount": 10})
    [approval] = await pending_approvals(api, run["run_id"])
    return approval


async def _decide(http: httpx.AsyncClient, approval: dict[str, Any], **body: Any) -> httpx.Response:
    return await http.post(f"/api/approvals/{approval['approval_id']}/decision",
                           json={"decision": "approve", **body})


async def test_the_decision_is_recorded_under_the_callers_name_not_the_bodys(api: httpx.AsyncClient,
                                                                             as_: Caller) -> None:
    approval = await _pending(api, "who_decides")
    decided = await _decide(as_("approver", "ann"), approval, decided_by="ceo@bigcorp.example")
    assert decided.status_code == 200, decided.text
    assert decided.json()["decided_by"] == "ann"
    await wait_status(api, approval["run_id"], "completed")


async def test_a_viewer_cannot_decide(api: httpx.AsyncClient, as_: Caller) -> None:
    approval = await _pending(api, "viewer_tries")
    assert_error(await _decide(as_("viewer", "vic"), approval), 403, "forbidden")
    assert (await api.get(f"/api/approvals/{approval['approval_id']}")).json()["status"] == "pending"


async def test_a_manager_level_gate_needs_the_manager_or_executive_group(api: httpx.AsyncClient,
                                                                       as_: Caller) -> None:
    approval = await _pending(api, "manager_gate", approval_level="manager")
    error = assert_error(await _decide(as_("approver", "ann"), approval), 403, "forbidden")
    assert "manager level" in error["message"]
    assert_error(await _decide(as_("operator", "ops", groups=["finance"]), approval), 403)
    decided = await _decide(as_("approver", "eve", groups=["executive"]), approval)
    assert decided.status_code == 200 and decided.json()["decided_by"] == "eve"


async def test_a_custom_level_needs_the_group_of_that_name(api: httpx.AsyncClient, as_: Caller) -> None:
    approval = await _pending(api, "legal_gate", approval_level="legal_counsel")
    assert_error(await _decide(as_("approver", "eve", groups=["executive"]), approval), 403)
    assert (await _decide(as_("approver", "lou", groups=["legal_counsel"]), approval)).status_code == 200


async def test_named_approvers_and_groups_narrow_who_may_decide(api: httpx.AsyncClient, as_: Caller) -> None:
    approval = await _pending(api, "named_gate", approvers=["grace@example.com"], approver_groups=["treasury"])
    error = assert_error(await _decide(as_("approver", "ann"), approval), 403)
    assert "grace@example.com" in error["message"] and "group treasury" in error["message"]
    by_email = as_("approver", "g.hopper", email="grace@example.com")
    assert (await _decide(by_email, approval, decision="reject")).json()["decided_by"] == "g.hopper"

    second = await _pending(api, "grouped_gate", approver_groups=["treasury"])
    assert (await _decide(as_("approver", "tom", groups=["Treasury"]), second)).status_code == 200


async def test_an_admin_may_decide_any_gate(api: httpx.AsyncClient) -> None:
    approval = await _pending(api, "break_glass", approval_level="executive", approvers=["nobody"])
    decided = await _decide(api, approval)
    assert decided.status_code == 200 and decided.json()["decided_by"] == "tester"
