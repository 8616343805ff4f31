"""processing: data operations in order (set_variable, parse_json, calculate, ...)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from langorch.ckp.ir import NodeIR, ProcessingPayload
from langorch.runtime.context import RunContext
from langorch.runtime.executors.base import Invocation, NodeResult
from langorch.runtime.notify import send_notification
from langorch.runtime.operations import OpContext, run_operations


def op_context(node: NodeIR, inv: Invocation, ctx: RunContext, *, variables: Mapping[str, Any] | None = None,
               first_index: int = 0, step_prefix: str = "operation") -> OpContext:
    """The OpContext for ``node``'s operations over ``variables`` (default: the node's).

    ``first_index`` is the index of the first operation run with it (a terminate node runs
    its actions one at a time); a notify operation is sent as step ``<step_prefix>_<index>``
    (runtime/notify.py).
    """
    base = inv.variables if variables is None else variables

    async def log(level: str, message: str) -> None:
        await ctx.emit("log", {"level": level, "message": message}, node_id=node.node_id)

    async def notify(op: Mapping[str, Any], index: int, updates: Mapping[str, Any]) -> None:
        await send_notification(op, f"{step_prefix}_{index}", node, {**base, **updates}, ctx, visit=inv.visit)

    return OpContext(scope=ctx.scope(base, node), node_id=node.node_id, log=log, notify=notify,
                     resolve_path=ctx.file_path,
                     first_index=first_index)


async def execute(node: NodeIR, inv: Invocation, ctx: RunContext) -> NodeResult:
    payload = node.payload
    assert isinstance(payload, ProcessingPayload)
    updates = await run_operations(payload.operations, op_context(node, inv, ctx))
    return NodeResult(updates=updates)
