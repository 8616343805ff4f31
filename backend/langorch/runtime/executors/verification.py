"""verification: checks with on_fail fail_workflow / warn / continue; pass/fail routing."""

from __future__ import annotations

from langorch.ckp.ir import NodeIR, VerificationPayload
from langorch.runtime.conditions import evaluate_condition
from langorch.runtime.context import RunContext
from langorch.runtime.errors import StepError
from langorch.runtime.executors.base import FOLLOW_NEXT, Invocation, NodeResult


async def execute(node: NodeIR, inv: Invocation, ctx: RunContext) -> NodeResult:
    payload = node.payload
    assert isinstance(payload, VerificationPayload)
    scope = ctx.scope(inv.variables, node)
    failed: list[str] = []
    results: dict[str, bool] = {}
    for check in payload.checks:
        ok = evaluate_condition(check.condition, scope, node_id=node.node_id)
        results[check.check_id] = ok
        await ctx.emit("check_evaluated", {"check": check.check_id, "passed": ok, "condition": check.condition,
                                           "message": "" if ok else check.message}, node_id=node.node_id)
        if ok:
            continue
        if check.on_fail == "fail_workflow" and not payload.on_fail:
            raise StepError(check.message or f"check {check.check_id!r} failed: {check.condition}",
                            error_type="VerificationFailed", retryable=False,
                            details={"check": check.check_id, "condition": check.condition})
        if check.on_fail == "fail_workflow":
            failed.append(check.check_id)
        elif check.on_fail == "warn":
            await ctx.emit("verification_warning", {"check": check.check_id, "message": check.message},
                           node_id=node.node_id)
    updates = {"verification": {"passed": not failed, "failed": failed, "results": results}}
    if failed and payload.on_fail:
        return NodeResult(updates=updates, goto=payload.on_fail)
    if not failed and payload.on_pass:
        return NodeResult(updates=updates, goto=payload.on_pass)
    return NodeResult(updates=updates, goto=FOLLOW_NEXT)
