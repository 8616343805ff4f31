"""terminate: end the run as success or failed, with templated outputs and cleanup or
error actions (operations, or step actions such as send_email)."""

from __future__ import annotations

from typing import Any

from langorch.ckp import catalog
from langorch.ckp.binder import bind_action
from langorch.ckp.ir import NodeIR, StepIR, TerminatePayload
from langorch.runtime.context import RunContext
from langorch.runtime.errors import StepError
from langorch.runtime.executors.base import Invocation, NodeResult
from langorch.runtime.executors.processing import op_context
from langorch.runtime.operations import run_operations
from langorch.runtime.steps import run_step
from langorch.runtime.templating import render


async def _actions(actions: tuple[Any, ...], node: NodeIR, inv: Invocation, ctx: RunContext) -> dict[str, Any]:
    updates: dict[str, Any] = {}
    for index, action in enumerate(actions):
        name = str(action.get("action", ""))
        try:
            if name in catalog.OPERATIONS:
                updates.update(await run_operations([action], op_context(node, inv, ctx)))
            else:
                binding = bind_action(name, action.get("agent") or node.agent, "", [])
                params = {k: v for k, v in action.items() if k not in ("action", "agent")}
                step = StepIR(step_id=f"action_{index}", action=name, binding=binding, params=params)
                await run_step(step, node, {**inv.variables, **updates}, ctx, visit=inv.visit)
        except StepError as exc:
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
