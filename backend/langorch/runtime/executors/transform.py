"""transform: filter / map / aggregate / sort / deduplicate / join / reduce / pivot."""

from __future__ import annotations

from langorch.ckp.ir import NodeIR, TransformPayload
from langorch.runtime.context import RunContext
from langorch.runtime.executors.base import Invocation, NodeResult
from langorch.runtime.transforms import apply_transformations


async def execute(node: NodeIR, inv: Invocation, ctx: RunContext) -> NodeResult:
    payload = node.payload
    assert isinstance(payload, TransformPayload)
    updates = apply_transformations(payload.transformations, ctx.scope(inv.variables, node), node_id=node.node_id)
    return NodeResult(updates=updates)
