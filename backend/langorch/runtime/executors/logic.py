"""logic: ordered rules, the first whose condition holds wins; else the default."""

from __future__ import annotations

from langorch.ckp.ir import LogicPayload, NodeIR
from langorch.runtime.conditions import evaluate_condition
from langorch.runtime.context import RunContext
from langorch.runtime.executors.base import FOLLOW_NEXT, Invocation, NodeResult


async def execute(node: NodeIR, inv: Invocation, ctx: RunContext) -> NodeResult:
    payload = node.payload
    assert isinstance(payload, LogicPayload)
    scope = ctx.scope(inv.variables, node)
    for index, rule in enumerate(payload.rules):
        if evaluate_condition(rule.condition, scope, node_id=node.node_id):
            await ctx.emit("route_selected", {"rule": index, "condition": rule.condition,
                                              "next_node": rule.next_node}, node_id=node.node_id)
            return NodeResult(goto=rule.next_node)
    target = payload.default_next_node
    await ctx.emit("route_selected", {"rule": "default", "next_node": target or node.next_node},
                   node_id=node.node_id)
    return NodeResult(goto=target if target else FOLLOW_NEXT)
