"""human_approval: pause with interrupt(), resume with a decision routed to on_approve /
on_reject / on_timeout; options and input; several gates at once, decided in any order."""

from __future__ import annotations

import itertools
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import pytest

from langorch.ckp.ir import ProcedureIR
from langorch.runtime.checkpointer import open_checkpointer
from langorch.runtime.runner import ResumeError
from tests.runtime.harness import Harness, ckp, compile_ok, end


def _gate(**gate: Any) -> ProcedureIR:
    return compile_ok(ckp({
        "gate": {"type": "human_approval", "prompt": "Pay {{amount}} to {{vendor}}?",
                 "context_data": {"vendor": "{{vendor}}", "amount": "{{amount}}"},
                 "on_approve": "paid", "on_reject": "refused", **gate},
        "paid": end(outputs={"route": "approved"}),
        "refused": end(outputs={"route": "rejected"}),
        "late": end(outputs={"route": "timeout"}),
    }, variables={"amount": {"type": "number", "default": 120}, "vendor": {"type": "string", "default": "ACME"}}))


@pytest.mark.asyncio
async def test_run_pauses_with_a_rendered_approval_request() -> None:
    h = Harness()

    out = await h.run(_gate(), {"amount": 120, "vendor": "ACME"})

    assert out.status == "waiting_approval"
    [pending] = out.pending
    assert pending.node_id == "gate"
    assert pending.request["prompt"] == "Pay 120 to ACME?"
    assert pending.request["context_data"] == {"vendor": "ACME", "amount": 120}
    requested = h.events.of("approval_requested")
    assert len(requested) == 1 and requested[0].payload["interrupt_id"] == pending.interrupt_id


@pytest.mark.asyncio
@pytest.mark.parametrize(("decision", "route"), [
    ("approve", "approved"), ("reject", "rejected"),
    ({"decision": "approved", "decided_by": "ann", "comment": "ok"}, "approved"),
])
async def test_decision_routes_to_on_approve_or_on_reject(decision: Any, route: str) -> None:
    h = Harness()
    ir = _gate()
    await h.run(ir)

    out = await h.resume(ir, decision=decision)

    assert out.status == "completed", out.error
    assert out.outputs == {"route": route}
    assert h.events.payloads("approval_decided")[0]["outcome"] == route


@pytest.mark.asyncio
@pytest.mark.parametrize(("gate", "route"), [
    ({"on_timeout": "late"}, "timeout"),
    ({"timeout_action": "auto_approve"}, "approved"),
    ({"timeout_action": "auto_reject"}, "rejected"),
])
async def test_timeout_decision_follows_on_timeout_or_timeout_action(gate: dict[str, Any], route: str) -> None:
    h = Harness()
    ir = _gate(timeout_ms=1000, **gate)
    first = await h.run(ir)
    assert first.pending[0].request["expires_at"] is not None

    out = await h.resume(ir, decision="timeout")

    assert out.outputs == {"route": route}


@pytest.mark.asyncio
async def test_select_option_stores_the_chosen_option() -> None:
    h = Harness()
    ir = _gate(decision_type="select_option", options=["Express", "Standard"], decision_variable="shipping")
    await h.run(ir)

    out = await h.resume(ir, decision="express")

    assert out.status == "completed"
    assert out.vars["shipping"] == "Express"


@pytest.mark.asyncio
async def test_select_option_refuses_an_unknown_option() -> None:
    h = Harness()
    ir = _gate(decision_type="select_option", options=["Express", "Standard"])
    await h.run(ir)

    out = await h.resume(ir, decision="teleport")

    assert out.status == "failed"
    assert out.error is not None and out.error["type"] == "InvalidDecision"


@pytest.mark.asyncio
async def test_provide_input_stores_the_input_in_decision_variable() -> None:
    h = Harness()
    ir = _gate(decision_type="provide_input", decision_variable="po_number")
    await h.run(ir)

    out = await h.resume(ir, decision={"decision": "submit", "input": "PO-991", "decided_by": "bob"})

    assert out.status == "completed"
    assert out.vars["po_number"] == "PO-991"
    assert out.vars["approval"]["decided_by"] == "bob"


@pytest.mark.asyncio
async def test_resume_without_a_decision_while_waiting_is_refused() -> None:
    h = Harness()
    ir = _gate()
    await h.run(ir)

    with pytest.raises(ResumeError, match="waiting for an approval"):
        await h.resume(ir)


def _three_gates() -> ProcedureIR:
    nodes: dict[str, Any] = {
        "fork": {"type": "parallel", "next_node": "after",
                 "branches": [{"branch_id": g, "start_node": g} for g in ("legal", "finance", "ops")]},
    }
    for g in ("legal", "finance", "ops"):
        nodes[g] = {"type": "human_approval", "prompt": f"{g} sign-off", "decision_variable": f"{g}_decision",
                    "on_approve": "after", "on_reject": "after"}
    nodes["after"] = end(outputs={"legal": "{{legal_decision}}", "finance": "{{finance_decision}}",
                                  "ops": "{{ops_decision}}"})
    return compile_ok(ckp(nodes))


DECISIONS = {"legal": "approve", "finance": "reject", "ops": "approve"}
EXPECTED = {"legal": "approved", "finance": "rejected", "ops": "approved"}


@pytest.mark.asyncio
@pytest.mark.parametrize("backend", ["memory", "sqlite"])
@pytest.mark.parametrize("order", list(itertools.permutations(["legal", "finance", "ops"])))
async def test_three_parallel_gates_are_decided_one_at_a_time_in_any_order(order: tuple[str, ...], backend: str,
                                                                           tmp_path: Path) -> None:
    async with AsyncExitStack() as stack:
        h = Harness()
        if backend == "sqlite":
            h.checkpointer = await stack.enter_async_context(open_checkpointer(str(tmp_path / "state.db")))
        await _decide_in_order(h, order)


async def _decide_in_order(h: Harness, order: tuple[str, ...]) -> None:
    ir = _three_gates()
    out = await h.run(ir)
    assert out.status == "waiting_approval"
    assert sorted(p.node_id for p in out.pending) == ["finance", "legal", "ops"]

    for step, gate in enumerate(order):
        target = next(p for p in out.pending if p.node_id == gate)
        out = await h.resume(ir, decision=DECISIONS[gate], interrupt_id=target.interrupt_id)
        decided = h.events.of("approval_decided")
        assert decided[-1].node_id == gate, "the decision went to another gate"
        if step < 2:
            assert out.status == "waiting_approval"
            assert sorted(p.node_id for p in out.pending) == sorted(order[step + 1:])

    assert out.status == "completed", out.error
    assert out.outputs == EXPECTED
    assert len(h.events.of("approval_decided")) == 3
    assert [e.node_id for e in h.events.of("node_started")].count("after") == 1
    # each gate is announced once, not again at every resume
    assert sorted(e.node_id or "" for e in h.events.of("approval_requested")) == ["finance", "legal", "ops"]


@pytest.mark.asyncio
async def test_a_decision_without_interrupt_id_is_refused_when_several_gates_wait() -> None:
    h = Harness()
    ir = _three_gates()
    await h.run(ir)

    with pytest.raises(ResumeError, match="3 pending approvals"):
        await h.resume(ir, decision="approve")


@pytest.mark.asyncio
async def test_select_option_does_not_accept_approve_instead_of_an_option() -> None:
    h = Harness()
    ir = _gate(decision_type="select_option", options=["Express", "Standard"], decision_variable="shipping")
    await h.run(ir)

    out = await h.resume(ir, decision="approve")

    assert out.status == "failed"
    assert out.error is not None and out.error["type"] == "InvalidDecision"


@pytest.mark.asyncio
async def test_select_option_reject_routes_to_on_reject() -> None:
    h = Harness()
    ir = _gate(decision_type="select_option", options=["Express", "Standard"])
    await h.run(ir)

    out = await h.resume(ir, decision="reject")

    assert out.outputs == {"route": "rejected"}
