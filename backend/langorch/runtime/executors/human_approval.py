"""human_approval: pause the run with LangGraph ``interrupt()`` until a person decides.

The run holds nothing while it waits. The decision arrives as the resume value
``{decision, decided_by, comment, input}`` and routes to on_approve / on_reject /
on_timeout. Each pending gate has its own interrupt id, so gates in parallel branches
are decided one at a time, in any order.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from langgraph.types import interrupt

from langorch.ckp.ir import ApprovalPayload, NodeIR
from langorch.runtime.context import RunContext
from langorch.runtime.errors import StepError
from langorch.runtime.executors.base import Invocation, NodeResult
from langorch.runtime.templating import render, render_text

APPROVE = {"approve", "approved", "yes", "accept", "accepted", "true"}
REJECT = {"reject", "rejected", "no", "deny", "denied", "decline", "declined", "false"}


def request_payload(node: NodeIR, inv: Invocation, ctx: RunContext) -> dict[str, Any]:
    payload = node.payload
    assert isinstance(payload, ApprovalPayload)
    scope = ctx.scope(inv.variables, node)
    where = f"node {node.node_id!r}"
    expires_at = None
    if payload.timeout_ms:
        expires_at = ctx.services.clock() + payload.timeout_ms / 1000
    # What a person is shown (and the checkpoint keeps): secrets as shown references, never values.
    return {
        "kind": "approval",
        "node_id": f"{ctx.node_prefix}/{node.node_id}" if ctx.node_prefix else node.node_id,
        "prompt": ctx.redactor.mask_text(render_text(payload.prompt, scope, where=f"{where} prompt")),
        "decision_type": payload.decision_type,
        "options": list(payload.options),
        "context_data": ctx.redactor.redact(render(dict(payload.context_data), scope,
                                                   where=f"{where} context_data")),
        "timeout_ms": payload.timeout_ms,
        "timeout_action": payload.timeout_action,
        "approval_level": payload.approval_level,
        "escalation_contact": payload.escalation_contact,
        "expires_at": expires_at,
    }


def normalize_decision(value: Any) -> dict[str, Any]:
    if isinstance(value, Mapping):
        decision = value.get("decision", value.get("status"))
        return {"decision": str(decision).strip().lower() if decision is not None else "",
                "raw_decision": decision, "decided_by": value.get("decided_by"),
                "comment": value.get("comment"), "input": value.get("input", value.get("payload"))}
    return {"decision": str(value).strip().lower(), "raw_decision": value, "decided_by": None,
            "comment": None, "input": None}


async def execute(node: NodeIR, inv: Invocation, ctx: RunContext) -> NodeResult:
    payload = node.payload
    assert isinstance(payload, ApprovalPayload)
    decided = normalize_decision(interrupt(request_payload(node, inv, ctx)))
    decision = decided["decision"]
    target: str | None
    outcome: str
    if decision in ("timeout", "timed_out", "expired"):
        action = payload.timeout_action
        if action == "auto_approve":
            target, outcome = payload.on_approve, "approved"
        elif action == "auto_reject" or not payload.on_timeout:
            target, outcome = payload.on_reject, "rejected"
        else:
            target, outcome = payload.on_timeout, "timed_out"
    elif decision in REJECT:
        target, outcome = payload.on_reject, "rejected"
    elif payload.decision_type == "select_option":
        options = {o.lower(): o for o in payload.options}
        if decision not in options:
            raise StepError(f"decision {decided['raw_decision']!r} is not one of the options "
                            f"{list(payload.options)}", error_type="InvalidDecision", retryable=False)
        decided["option"] = options[decision]
        target, outcome = payload.on_approve, "approved"
    elif decision in APPROVE or payload.decision_type == "provide_input":
        target, outcome = payload.on_approve, "approved"
    else:
        raise StepError(f"decision {decided['raw_decision']!r} is neither approve nor reject",
                        error_type="InvalidDecision", retryable=False)
    record = {"node_id": node.node_id, "outcome": outcome, **{k: v for k, v in decided.items()
                                                              if k != "raw_decision"}}
    await ctx.emit("approval_decided", record, node_id=node.node_id)
    updates: dict[str, Any] = {"approval": record}
    if payload.decision_variable:
        if payload.decision_type == "provide_input":
            updates[payload.decision_variable] = decided["input"]
        elif payload.decision_type == "select_option":
            updates[payload.decision_variable] = decided.get("option")
        else:
            updates[payload.decision_variable] = outcome
    return NodeResult(updates=updates, goto=target)
