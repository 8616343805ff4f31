"""transform: filter / map / aggregate / sort / deduplicate / join / reduce / pivot."""

from __future__ import annotations

from langorch.ckp.ir import NodeIR, TransformPayload
from langorch.runtime.context import RunContext
from langorch.runtime.executors.base import Invocation, NodeResult
from langorch.runtime.transforms import apply_transformation


async def execute(node: NodeIR, inv: Invocation, ctx: RunContext) -> NodeResult:
    payload = node.payload
    assert isinstance(payload, TransformPayload)
    scope = ctx.scope(inv.variables, node)
    updates: dict[str, object] = {}
    for transformation in payload.transformations:
        produced = apply_transformation(transformation, scope)
        scope.update(produced)
        updates.update(produced)
    return NodeResult(updates=updates)
