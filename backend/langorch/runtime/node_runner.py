"""Turns one IR node and its executor into a LangGraph node function.

Done here once for every node type: timeline events, SLA, usage hand-off, where the
run goes next (including the end of a loop body or a parallel branch), and failure
routing (error-handler fallback → loop continue_on_error → parallel branch →
global on_failure → run failed).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable
from typing import Any, Protocol

from langchain_core.runnables import RunnableConfig
from langgraph.errors import GraphBubbleUp
from langgraph.graph import END
from langgraph.types import Command

from langorch import logs
from langorch.ckp.ir import LoopPayload, NodeIR, ParallelPayload, ProcedureIR
from langorch.runtime import tracing
from langorch.runtime.context import RunContext
from langorch.runtime.errors import StepError
from langorch.runtime.executors.base import FOLLOW_NEXT, Executor, Invocation, NodeResult
from langorch.runtime.executors.loop import outer_loop
from langorch.runtime.executors.parallel import join_name
from langorch.runtime.state import RunState
from langorch.runtime.steps import FallbackRequested
from langorch.runtime.templating import render

CTX_KEY = "langorch_ctx"


class NodeFn(Protocol):
    """A LangGraph node taking the state and its config (LangGraph passes them by name)."""

    def __call__(self, state: RunState, config: RunnableConfig) -> Awaitable[Command[Any]]: ...


class RunCancelled(Exception):
    """The run was canceled: a control-flow signal (like GraphInterrupt), not a failure;
    raised between steps and at node starts."""


def context_of(config: RunnableConfig) -> RunContext:
    ctx = (config.get("configurable") or {}).get(CTX_KEY)
    if not isinstance(ctx, RunContext):
        raise RuntimeError("graph invoked without a LangOrch run context")
    return ctx


def make_node(ir: ProcedureIR, node: NodeIR, executor: Executor, *, join: bool = False) -> NodeFn:
    """The LangGraph node function for ``node`` (or for its join, when ``join``)."""
    label = join_name(node.node_id) if join else node.node_id

    async def run(state: RunState, config: RunnableConfig) -> Command[Any]:
        ctx = context_of(config)
        with logs.bound(logs.NODE_ID, node.node_id), \
                tracing.span(f"node {label}", run_id=ctx.run_id, node_id=node.node_id, node_type=node.type):
            return await body(state, config, ctx)

    async def body(state: RunState, config: RunnableConfig, ctx: Any) -> Command[Any]:
        if ctx.is_cancelled():
            raise RunCancelled()
        if _branch_resolved(node, state):
            return Command(goto=[])
        visit = int((state.get("visits") or {}).get(label, 0)) + 1
        step = int((config.get("metadata") or {}).get("langgraph_step", 0))
        ctx.observe_state(node.node_id, step, state.get("usage") or {})
        inv = Invocation(state=state, visit=visit)
        base: dict[str, Any] = {"visits": {label: visit}, "last_node": node.node_id}
        ctx.retry_counts.pop(node.node_id, None)
        started = time.monotonic()
        telemetry = _Telemetry(node, ctx, started)
        if not join:
            try:
                telemetry.render(inv)
            except StepError as exc:
                await ctx.emit("node_started", {"type": node.type, "visit": visit, "agent": node.agent},
                               node_id=node.node_id)
                return await _failure(ir, node, exc, state, ctx, base, telemetry)
            await ctx.emit("node_started", {"type": node.type, "visit": visit, "agent": node.agent,
                                            **telemetry.started()}, node_id=node.node_id)
        try:
            result = await _timed(executor, node, inv, ctx)
        except GraphBubbleUp:
            raise
        except RunCancelled:
            raise
        except FallbackRequested as fallback:
            base["usage"] = ctx.take_usage(node.node_id)
            error = _error(fallback.error, node)
            await ctx.emit("node_failed", {"error": error, "fallback_node": fallback.target, **telemetry.ended()},
                           node_id=node.node_id)
            return Command(update={**base, "vars": {"error": error}}, goto=fallback.target)
        except StepError as exc:
            return await _failure(ir, node, exc, state, ctx, base, telemetry)
        except Exception as exc:  # a bug or an unexpected library error: fail the run, keep the process
            wrapped = StepError(f"internal error in node {node.node_id!r}: {type(exc).__name__}: {exc}",
                                error_type=type(exc).__name__, retryable=False)
            return await _failure(ir, node, wrapped, state, ctx, base, telemetry)
        duration = (time.monotonic() - started) * 1000
        ctx.redactor.add_sensitive_values(result.updates)
        update: dict[str, Any] = {**base, **result.state, "usage": ctx.take_usage(node.node_id)}
        if result.updates:
            update["vars"] = result.updates
        goto = result.goto
        if node.sla is not None and duration > node.sla.max_duration_ms and not join:
            await ctx.emit("sla_breached", {"max_duration_ms": node.sla.max_duration_ms,
                                            "duration_ms": round(duration, 1), "on_breach": node.sla.on_breach},
                           node_id=node.node_id)
            if node.sla.on_breach == "escalate" and node.sla.escalation_handler:
                goto = node.sla.escalation_handler
        if not join:
            await ctx.emit("node_completed", {"type": node.type, "duration_ms": round(duration, 1),
                                              **telemetry.ended(with_duration=False)}, node_id=node.node_id)
            if node.is_checkpoint:
                await ctx.emit("checkpoint_saved", {"node_id": node.node_id}, node_id=node.node_id)
        if result.ends_run:
            return Command(update=update, goto=END)
        targets, extra = await route(ir, node, goto, state, ctx)
        _merge(update, extra)
        return Command(update=update, goto=targets)

    run.__name__ = f"node_{label}"
    return run


async def _timed(executor: Executor, node: NodeIR, inv: Invocation, ctx: RunContext) -> NodeResult:
    # human_approval's timeout_ms is how long a person may take (a decision, not a clock here).
    if node.timeout_ms and node.type != "human_approval":
        try:
            return await asyncio.wait_for(_sla_bound(executor, node, inv, ctx), node.timeout_ms / 1000)
        except TimeoutError as exc:
            raise StepError(f"node {node.node_id!r} exceeded its timeout_ms={node.timeout_ms:g}",
                            error_type="NodeTimeout", retryable=False) from exc
    return await _sla_bound(executor, node, inv, ctx)


async def _sla_bound(executor: Executor, node: NodeIR, inv: Invocation, ctx: RunContext) -> NodeResult:
    if node.sla is not None and node.sla.on_breach == "fail" and node.type != "human_approval":
        try:
            return await asyncio.wait_for(executor(node, inv, ctx), node.sla.max_duration_ms / 1000)
        except TimeoutError as exc:
            await ctx.emit("sla_breached", {"max_duration_ms": node.sla.max_duration_ms, "on_breach": "fail"},
                           node_id=node.node_id)
            raise StepError(f"node {node.node_id!r} breached its SLA of {node.sla.max_duration_ms:g} ms",
                            error_type="SlaBreached", retryable=False) from exc
    return await executor(node, inv, ctx)


class _Telemetry:
    """A node's ``telemetry`` block in its node_started / node_completed / node_failed events.

    ``trace_id``, ``span_id``, ``custom_metrics`` and any other field are rendered at the
    node's start and carried as ``telemetry``; ``track_duration`` adds ``duration_ms`` to
    node_failed (node_completed always has it) and ``track_retries`` adds ``retries`` (the
    node's step_retry events) to both. Nothing is added when the node has no telemetry or
    ``global_config.telemetry_enabled`` is false.
    """

    _FLAGS = ("track_duration", "track_retries")

    def __init__(self, node: NodeIR, ctx: RunContext, started: float) -> None:
        self.node = node
        self.ctx = ctx
        self.started_at = started
        self.enabled = bool(node.telemetry) and ctx.ir.global_config.telemetry_enabled
        self.values: dict[str, Any] = {}

    def render(self, inv: Invocation) -> None:
        if not self.enabled:
            return
        fields = {k: v for k, v in self.node.telemetry.items() if k not in self._FLAGS}
        if fields:
            self.values = render(fields, self.ctx.scope(inv.variables, self.node),
                                 where=f"node {self.node.node_id!r} telemetry")

    def started(self) -> dict[str, Any]:
        return {"telemetry": self.values} if self.values else {}

    def ended(self, *, with_duration: bool = True) -> dict[str, Any]:
        out = self.started()
        if not self.enabled:
            return out
        if with_duration and self.node.telemetry.get("track_duration"):
            out["duration_ms"] = round((time.monotonic() - self.started_at) * 1000, 1)
        if self.node.telemetry.get("track_retries"):
            out["retries"] = self.ctx.retry_counts.get(self.node.node_id, 0)
        return out


def _branch_resolved(node: NodeIR, state: RunState) -> bool:
    """A branch whose parallel node already moved on (wait_strategy any, or a failure) stops."""
    region = node.region
    if region is None or region.kind != "branch":
        return False
    record = (state.get("joins") or {}).get(region.owner)
    return bool(record and record.get("resolved"))


def _error(exc: StepError, node: NodeIR) -> dict[str, Any]:
    return {**exc.to_dict(), "node_id": node.node_id}


def _merge(update: dict[str, Any], extra: dict[str, Any]) -> None:
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(update.get(key), dict):
            update[key] = {**update[key], **value}
        else:
            update[key] = value


async def route(ir: ProcedureIR, node: NodeIR, goto: str | list[str] | None, state: RunState,
                ctx: RunContext) -> tuple[Any, dict[str, Any]]:
    """Where the run goes after ``node``; ends of loop bodies and branches are resolved here."""
    if isinstance(goto, list):
        return goto, {}
    if goto is None:
        return [], {}
    target = node.next_node if goto == FOLLOW_NEXT else goto
    region = node.region
    if region is not None and region.kind == "loop":
        owner = ir.nodes[region.owner]
        assert isinstance(owner.payload, LoopPayload)
        if target is None or target == owner.node_id:
            return owner.node_id, {}
        if target == owner.next_node:  # leaving the body early ends the loop
            targets, extra = await route(ir, owner, FOLLOW_NEXT, state, ctx)
            _merge(extra, {"loops": {owner.node_id: {"active": False}},
                           "vars": {"loop": outer_loop(owner, state)}})
            collect = owner.payload.collect_variable
            if collect:  # iterations finished before the break
                done = (state.get("loops") or {}).get(owner.node_id, {}).get("collected", [])
                _merge(extra, {"vars": {collect: list(done)}})
            await ctx.emit("loop_completed", {"iterations": len(done) if collect else None, "break": True},
                           node_id=owner.node_id)
            return targets, extra
    if region is not None and region.kind == "branch":
        fork = ir.nodes[region.owner]
        if target is None or target == fork.next_node:
            return await _branch_done(fork, region.branch_id, "completed", state, ctx)
    if target is None:
        return END, {}
    return target, {}


async def _branch_done(fork: NodeIR, branch_id: str, status: str, state: RunState,
                       ctx: RunContext) -> tuple[Any, dict[str, Any]]:
    record = (state.get("joins") or {}).get(fork.node_id, {})
    await ctx.emit("branch_completed", {"branch_id": branch_id, "status": status}, node_id=fork.node_id)
    joins = {fork.node_id: {"epoch": record.get("epoch", 0), "done": {branch_id: status}}}
    return join_name(fork.node_id), {"joins": joins}


async def _failure(ir: ProcedureIR, node: NodeIR, exc: StepError, state: RunState, ctx: RunContext,
                   base: dict[str, Any], telemetry: _Telemetry) -> Command[Any]:
    error = _error(exc, node)
    update: dict[str, Any] = {**base, "usage": ctx.take_usage(node.node_id)}
    await ctx.emit("node_failed", {"error": error, **telemetry.ended()}, node_id=node.node_id)
    targets, extra = await fail_route(ir, node, error, state, ctx)
    _merge(update, extra)
    return Command(update=update, goto=targets)


async def fail_route(ir: ProcedureIR, node: NodeIR, error: dict[str, Any], state: RunState,
                     ctx: RunContext) -> tuple[Any, dict[str, Any]]:
    """Where a failure of ``node`` goes: loop continue, branch join, on_failure, or the end."""
    region = node.region
    if region is not None and region.kind == "loop":
        owner = ir.nodes[region.owner]
        assert isinstance(owner.payload, LoopPayload)
        if owner.payload.continue_on_error:
            current = (state.get("loops") or {}).get(owner.node_id, {})
            return owner.node_id, {"loops": {owner.node_id: {**current, "failed": error}}}
        return await fail_route(ir, owner, error, state, ctx)
    if region is not None and region.kind == "branch":
        fork = ir.nodes[region.owner]
        assert isinstance(fork.payload, ParallelPayload)
        record = (state.get("joins") or {}).get(fork.node_id, {})
        if fork.payload.branch_failure == "retry" and not record.get("retried", {}).get(region.branch_id):
            branch = next(b for b in fork.payload.branches if b.branch_id == region.branch_id)
            await ctx.emit("branch_retry", {"branch_id": branch.branch_id, "error": error}, node_id=fork.node_id)
            joins = {fork.node_id: {"epoch": record.get("epoch", 0), "retried": {branch.branch_id: True}}}
            return branch.start_node, {"joins": joins}
        targets, extra = await _branch_done(fork, region.branch_id, "failed", state, ctx)
        extra["vars"] = {f"{fork.node_id}_errors": {region.branch_id: error}}
        return targets, extra
    on_failure = ir.global_config.on_failure
    if on_failure and not state.get("recovering") and on_failure in ir.nodes and node.node_id != on_failure:
        return on_failure, {"vars": {"error": error}, "error": error, "recovering": True}
    original = state.get("error")
    if state.get("recovering") and isinstance(original, dict) and original.get("node_id"):
        # The on_failure handler failed too: the run still failed where it first failed;
        # the handler's own error rides along instead of hiding the cause.
        error = {**original, "handler_error": error}
    return END, {"status": "failed", "error": error, "vars": {"error": error}}
