"""sequence: steps in order, each output captured into its output_variable."""

from __future__ import annotations

from typing import Any

from langorch.ckp.ir import NodeIR, SequencePayload
from langorch.runtime.conditions import evaluate_condition
from langorch.runtime.context import RunContext
from langorch.runtime.errors import StepError
from langorch.runtime.executors.base import Invocation, NodeResult
from langorch.runtime.savepoints import apply_checkpoint_step
from langorch.runtime.steps import run_step


async def execute(node: NodeIR, inv: Invocation, ctx: RunContext) -> NodeResult:
    payload = node.payload
    assert isinstance(payload, SequencePayload)
    variables = dict(inv.variables)
    updates: dict[str, object] = {}
    saved: dict[str, Any] = {}
    for step in payload.steps:
        if ctx.is_cancelled():
            from langorch.runtime.node_runner import RunCancelled

            raise RunCancelled()
        result = await run_step(step, node, variables, ctx, visit=inv.visit)
        await apply_checkpoint_step(step, result, node, variables, updates, saved, inv.state, ctx)
        name = step.output_variable
        if name is None and step.action == "set_variable" and isinstance(step.params.get("variable"), str):
            name = step.params["variable"]
        if name:
            variables[name] = result
            updates[name] = result
            ctx.redactor.add_sensitive_values({name: result})  # later steps may log it
    for check in payload.validations:
        condition = check.get("condition")
        if not condition:
            continue
        ok = evaluate_condition(str(condition), ctx.scope(variables, node), node_id=node.node_id)
        if ok:
            continue
        message = str(check.get("message") or f"validation {check.get('id')!r} failed: {condition}")
        if check.get("on_failure") == "warn":
            await ctx.emit("validation_warning", {"check": check.get("id"), "message": message},
                           node_id=node.node_id)
            continue
        raise StepError(message, error_type="ValidationFailed", retryable=False,
                        details={"check": check.get("id"), "condition": condition})
    return NodeResult(updates=updates, state={"checkpoints": saved} if saved else {})
