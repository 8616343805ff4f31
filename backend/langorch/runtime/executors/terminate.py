"""terminate: end the run as success or failed, with templated outputs and cleanup or
error actions.

An action is a processing operation (``log``, ``notify``, ``set_variable``...) or a step
the compiler bound exactly like a sequence step (``send_email`` on EMAIL, a custom
action on the node's or the action's ``agent``): it runs through :func:`run_step`, so
idempotency, run modes, retries, timeouts, error handlers and redaction apply, and its
``output_variable`` is set. Each action sees what the earlier ones wrote; a failing one
emits ``terminate_action_failed`` and does not stop the others.
"""

from __future__ import annotations

from typing import Any

from langorch.ckp.ir import NodeIR, StepIR, TerminateActionIR, TerminatePayload
from langorch.runtime.context import RunContext
from langorch.runtime.errors import StepError
from langorch.runtime.executors.base import Invocation, NodeResult
from langorch.runtime.executors.processing import op_context
from langorch.runtime.operations import run_operations
from langorch.runtime.savepoints import apply_checkpoint_step
from langorch.runtime.steps import run_step
from langorch.runtime.templating import render


async def _actions(actions: tuple[TerminateActionIR, ...], node: NodeIR, inv: Invocation,
                   ctx: RunContext) -> dict[str, Any]:
    updates: dict[str, Any] = {}
    saved: dict[str, Any] = {}
    for index, action in enumerate(actions):
        variables = {**inv.variables, **updates}
        try:
            if isinstance(action, StepIR):
                result = await run_step(action, node, variables, ctx, visit=inv.visit)
                await apply_checkpoint_step(action, result, node, variables, updates, saved, inv.state, ctx)
                if action.output_variable:
                    updates[action.output_variable] = result
                    ctx.redactor.add_sensitive_values({action.output_variable: result})
            else:
                updates.update(await run_operations([action], op_context(node, inv, ctx, variables=variables,
                                                                         first_index=index, step_prefix="action")))
        except StepError as exc:
            name = action.action if isinstance(action, StepIR) else str(action.get("action", ""))
            await ctx.emit("terminate_action_failed", {"action": name, "error": exc.to_dict()},
                           node_id=node.node_id)
    return updates


async def execute(node: NodeIR, inv: Invocation, ctx: RunContext) -> NodeResult:
    payload = node.payload
    assert isinstance(payload, TerminatePayload)
    failed = payload.status == "failed"
    updates = await _actions(payload.error_actions if failed else payload.cleanup_actions, node, inv, ctx)
    scope = ctx.scope({**inv.variables, **updates}, node)
    scope["error"] = inv.state.get("error")
    outputs = render(dict(payload.outputs), scope, where=f"node {node.node_id!r} outputs")
    if payload.final_audit_log:
        audit = render(dict(payload.final_audit_log), scope, where=f"node {node.node_id!r} final_audit_log")
        await ctx.emit("audit_log", {"entry": audit}, node_id=node.node_id)
    state: dict[str, Any] = {"status": "failed" if failed else "completed", "outputs": outputs}
    if failed and not inv.state.get("error"):
        routed = inv.variables.get("error")  # a step's error handler sent the run here (fallback_node)
        if isinstance(routed, dict) and routed.get("node_id"):
            state["error"] = routed
        else:
            state["error"] = {"type": "TerminatedAsFailed", "message": f"terminate node {node.node_id!r} "
                              "ended the run as failed", "node_id": node.node_id}
    return NodeResult(updates=updates, goto=None, state=state, ends_run=True)
