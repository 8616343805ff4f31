"""loop: over an array (iterator) or while a condition holds.

Each iteration sets the ``loop`` built-in to ``{node_id, index, item, total, first, last}``
of the innermost running loop (back to the enclosing loop's, or null, when it ends).

The loop node is entered twice per iteration: once from outside (or from the end of
the previous iteration) and once when its body ends. Its bookkeeping lives in the
``loops`` state channel, so every iteration is checkpointed and a crash resumes in the
middle of the loop, not at its start.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from langorch.ckp.ir import LoopPayload, NodeIR
from langorch.runtime.conditions import evaluate_condition
from langorch.runtime.context import RunContext
from langorch.runtime.errors import StepError
from langorch.runtime.executors.base import FOLLOW_NEXT, Invocation, NodeResult
from langorch.runtime.templating import render


def _items(payload: LoopPayload, node: NodeIR, inv: Invocation, ctx: RunContext) -> list[Any] | None:
    if not payload.iterator:
        return None
    source = payload.iterator.strip()
    if "{{" in source:
        value = render(source, ctx.scope(inv.variables, node), where=f"node {node.node_id!r} iterator")
    else:
        value = ctx.scope(inv.variables, node).get(source)
    if value is None:
        value = []
    if isinstance(value, Mapping):
        value = [{"key": k, "value": v} for k, v in value.items()]
    if not isinstance(value, list | tuple):
        raise StepError(f"loop iterator {payload.iterator!r} is not a list (got {type(value).__name__})",
                        error_type="InvalidIterator", retryable=False)
    return list(value)


def _entry(state: Mapping[str, Any], inv: Invocation, payload: LoopPayload) -> dict[str, Any]:
    """What one finished iteration contributes to collect_variable."""
    item = state["items"][state["index"]] if state.get("items") is not None else None
    entry: dict[str, Any] = dict(item) if isinstance(item, Mapping) else {"item": item}
    before = state.get("start_vars") or {}
    skip = {payload.iterator_variable, payload.index_variable, payload.collect_variable, "loop"}
    for key, value in inv.variables.items():
        if key not in skip and before.get(key, _MISSING) != value:
            entry[key] = value
    entry["index"] = state["index"]
    failed = state.get("failed")
    entry["status"] = "failed" if failed else "completed"
    if failed:
        entry["error"] = failed
    return entry


_MISSING = object()


def loop_info(owner: str, state: Mapping[str, Any]) -> dict[str, Any]:
    """The ``loop`` built-in inside the body of loop ``owner`` whose bookkeeping is ``state``."""
    index = int(state.get("index", 0))
    items = state.get("items")
    total = len(items) if items is not None else None
    return {"node_id": owner, "index": index, "item": items[index] if items is not None and index < len(items)
            else None, "total": total, "first": index == 0,
            "last": total is not None and index == total - 1}


def outer_loop(node: NodeIR, state: Mapping[str, Any]) -> dict[str, Any] | None:
    """``loop`` for the loop around loop ``node`` in run ``state`` (None outside every loop)."""
    region = node.region
    if region is None or region.kind != "loop":
        return None
    outer = (state.get("loops") or {}).get(region.owner)
    return loop_info(region.owner, outer) if outer and outer.get("active") else None


async def execute(node: NodeIR, inv: Invocation, ctx: RunContext) -> NodeResult:
    payload = node.payload
    assert isinstance(payload, LoopPayload)
    loops = inv.state.get("loops") or {}
    current = loops.get(node.node_id)
    if current and current.get("active"):
        collected = [*current.get("collected", []), _entry(current, inv, payload)]
        state = {**current, "index": current["index"] + 1, "collected": collected, "failed": None}
        if current.get("failed"):
            await ctx.emit("loop_iteration_failed", {"index": current["index"], "error": current["failed"]},
                           node_id=node.node_id)
    else:
        state = {"active": True, "index": 0, "items": _items(payload, node, inv, ctx), "collected": [],
                 "failed": None}
    return await _next(node, payload, state, inv, ctx)


async def _next(node: NodeIR, payload: LoopPayload, state: dict[str, Any], inv: Invocation,
                ctx: RunContext) -> NodeResult:
    index = state["index"]
    items = state.get("items")
    more: bool
    if items is not None:
        more = index < len(items)
    else:
        scope = ctx.scope(inv.variables, node)
        if payload.index_variable:
            scope[payload.index_variable] = index
        more = evaluate_condition(payload.condition or "false", scope, node_id=node.node_id)
    if more and index >= payload.max_iterations:
        await ctx.emit("loop_max_iterations", {"max_iterations": payload.max_iterations}, node_id=node.node_id)
        more = False
    if not more:
        updates: dict[str, Any] = {"loop": outer_loop(node, inv.state)}
        if payload.collect_variable:
            updates[payload.collect_variable] = state["collected"]
        await ctx.emit("loop_completed", {"iterations": index}, node_id=node.node_id)
        return NodeResult(updates=updates, goto=FOLLOW_NEXT,
                          state={"loops": {node.node_id: {"active": False, "index": index}}})
    updates = {"loop": loop_info(node.node_id, state)}
    if items is not None:
        updates[payload.iterator_variable] = items[index]
    if payload.index_variable:
        updates[payload.index_variable] = index
    state["start_vars"] = {**inv.variables, **updates}
    await ctx.emit("loop_iteration", {"index": index, "total": len(items) if items is not None else None},
                   node_id=node.node_id)
    return NodeResult(updates=updates, goto=payload.body_node, state={"loops": {node.node_id: state}})
