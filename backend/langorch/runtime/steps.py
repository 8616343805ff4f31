"""Running one step: render, override/mock/dry-run, idempotency, timeout, retries and
error handlers. Used by sequence nodes, recovery steps and terminate actions.

A step's parameters are rendered with references to secrets (runtime/redaction.py): that
is what its events show and its idempotency key is made of. Only an outgoing call (agent,
MCP tool, ``http_request``, notification webhook) is sent the values, rendered again just
before it is made; what comes back, and any failure, is sealed before it is recorded or
returned, so the value never reaches the run's state, its stored results or its events.
An LLM is never sent a secret's value: a prompt carries the reference's shown form."""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from langorch import logs
from langorch.ckp.ir import Binding, ErrorHandlerIR, NodeIR, RetryPolicy, StepIR
from langorch.runtime import tracing
from langorch.runtime.context import RunContext
from langorch.runtime.errors import AgentError, StepError, StepTimeout
from langorch.runtime.internal_actions import run_internal
from langorch.runtime.redaction import display
from langorch.runtime.retry import delay_ms, handler_matches
from langorch.runtime.secret_refs import script_uses_secrets, template_secret_names
from langorch.runtime.templating import render

EVENT_VALUE_LIMIT = 4000


class FallbackRequested(Exception):
    """An error handler routes the run to another node."""

    def __init__(self, target: str, error: StepError) -> None:
        super().__init__(target)
        self.target = target
        self.error = error


def preview(value: Any) -> Any:
    """A value small enough for an event payload (references shown whole, before any cut)."""
    value = display(value)
    try:
        text = json.dumps(value, default=str)
    except (TypeError, ValueError):
        text = str(value)
    if len(text) <= EVENT_VALUE_LIMIT:
        return value
    return {"truncated": True, "preview": text[:EVENT_VALUE_LIMIT]}


EXTERNAL_INTERNAL_ACTIONS = frozenset({"http_request", "notify_webhook", "notify_email"})
"""Internal actions that reach outside the process (the run modes treat them as external)."""


def sends_secrets(binding: Binding) -> bool:
    """Whether a step of ``binding`` is sent secret values: agents, MCP tools and the internal
    actions that reach outside (not an LLM, which only sees references)."""
    if binding.kind in ("agent", "mcp"):
        return True
    return binding.kind == "internal" and binding.action in EXTERNAL_INTERNAL_ACTIONS


def is_external(binding: Binding, params: Mapping[str, Any]) -> bool:
    if binding.kind in ("agent", "mcp", "llm"):
        return True
    return binding.kind == "internal" and binding.action in EXTERNAL_INTERNAL_ACTIONS


def has_side_effect(binding: Binding, params: Mapping[str, Any]) -> bool:
    if binding.kind == "internal" and binding.action == "http_request":
        return str(params.get("method") or "GET").upper() not in ("GET", "HEAD", "OPTIONS")
    return binding.side_effect


def _policy(step: StepIR, node: NodeIR, ctx: RunContext) -> RetryPolicy:
    if step.retry is not None:
        return step.retry
    if node.retry is not None:
        return node.retry
    gc = ctx.ir.global_config
    return RetryPolicy(max_retries=gc.max_retries, delay_ms=gc.retry_delay_ms, strategy="exponential_backoff")


async def run_step(step: StepIR, node: NodeIR, variables: Mapping[str, Any], ctx: RunContext, *,
                   visit: int, round_: str = "") -> Any:
    """Execute ``step`` and return its result (raises StepError or FallbackRequested).

    ``round_`` tells apart repeated runs of the same step within one node visit (the
    recovery steps of each handler retry), so each gets its own implicit idempotency key.
    The step is a trace span, and its log lines carry its id.
    """
    with logs.bound(logs.STEP_ID, step.step_id), \
            tracing.span(f"step {step.step_id}", run_id=ctx.run_id, node_id=node.node_id, step_id=step.step_id,
                         action=step.action, binding=step.binding.kind):
        return await _run_step(step, node, variables, ctx, visit=visit, round_=round_)


async def _run_step(step: StepIR, node: NodeIR, variables: Mapping[str, Any], ctx: RunContext, *,
                    visit: int, round_: str) -> Any:
    where = f"node {node.node_id!r} step {step.step_id!r}"
    await ctx.load_secrets(step.params)
    scope = ctx.scope(variables, node)
    params = render(dict(step.params), scope, where=where)
    binding = step.binding
    gc = ctx.ir.global_config
    emit_kw = {"node_id": node.node_id, "step_id": step.step_id}

    if ctx.mode == "test" and is_external(binding, params):
        overrides = gc.test_data_overrides
        for override in (f"{node.node_id}.{step.step_id}", step.step_id):
            if override in overrides:
                await ctx.emit("step_test_override_applied", {"action": step.action, "binding": binding.kind,
                                                              "result": preview(overrides[override])}, **emit_kw)
                return overrides[override]
        mocked = {"mocked": True, "action": step.action, "binding": binding.kind}
        await ctx.emit("step_mock_applied", mocked, **emit_kw)
        return mocked
    if ctx.mode == "dry_run" and is_external(binding, params) and has_side_effect(binding, params):
        skipped = {"dry_run": True, "skipped_action": step.action, "binding": binding.kind}
        await ctx.emit("step_skipped_dry_run", skipped, **emit_kw)
        return skipped

    target = step.output_variable or (params.get("variable") if step.action == "set_variable" else None)
    secret_result = isinstance(target, str) and ctx.redactor.is_sensitive(target)
    if secret_result and step.action == "set_variable":
        ctx.redactor.add_secret(params.get("value"))  # before step_started shows it
    key = await _idempotency_key(step, node, scope, ctx, visit, binding, params, round_)
    store = ctx.services.step_store
    if key and store is not None:
        found, cached = await store.get(key)
        if found:
            cached = ctx.seal(cached)
            if secret_result:
                ctx.redactor.add_secret(cached)
            await ctx.emit("step_completed", {"action": step.action, "cached": True, "idempotency_key": key,
                                              "result": preview(cached)}, **emit_kw)
            return cached

    if step.wait_ms:
        await ctx.services.sleep(step.wait_ms / 1000)

    async def record(value: Any) -> None:
        if key and store is not None:
            await store.put(key, value)

    try:
        sent = await _outgoing_params(step, node, params, variables, ctx, where)
    except StepError as exc:
        ctx.conceal(exc)
        raise
    delivery = delivery_key(key or _implicit_key(step, node, ctx, visit, round_))
    result = await _with_retries(step, node, params, sent, variables, ctx, visit, secret_result, record, delivery)
    if step.wait_after_ms:
        await ctx.services.sleep(step.wait_after_ms / 1000)
    return result


async def _outgoing_params(step: StepIR, node: NodeIR, params: dict[str, Any], variables: Mapping[str, Any],
                           ctx: RunContext, where: str) -> dict[str, Any]:
    """What the call is sent: for an outgoing call, ``params`` with the secrets' values (its
    templates rendered again with them, so a filter on ``secrets.x`` applies to the value;
    references held by variables resolved); for any other step, ``params`` as they are."""
    if not sends_secrets(step.binding):
        return params
    sent = params
    if template_secret_names(step.params):
        sent = render(dict(step.params), ctx.scope(variables, node, live=True), where=where)
    sent = await ctx.reveal(sent)
    if script_uses_secrets(step.params) and "secrets" not in sent:
        sent = {**sent, "secrets": await ctx.declared_secrets()}  # the script's own `secrets` mapping
    return dict(sent)


async def _idempotency_key(step: StepIR, node: NodeIR, scope: Mapping[str, Any], ctx: RunContext, visit: int,
                           binding: Binding, params: Mapping[str, Any], round_: str) -> str | None:
    template = step.idempotency_key or node.idempotency_key
    if template:
        # a key naming a secret holds its shown reference: the same in every run, never the value
        rendered = display(render(template, scope, where=f"node {node.node_id!r} idempotency_key"))
        suffix = "" if step.idempotency_key else f"/{step.step_id}"
        return f"proc:{ctx.ir.procedure_id}:{rendered}{suffix}"
    if has_side_effect(binding, params) and binding.kind != "llm":
        return _implicit_key(step, node, ctx, visit, round_)
    return None


def _implicit_key(step: StepIR, node: NodeIR, ctx: RunContext, visit: int, round_: str) -> str:
    """The key of one execution of ``step``: its run (the original one for a retry run), its
    place (loop iteration and subflow call prefixes), the node visit and the recovery round."""
    return f"{ctx.node_key(node.node_id)}:{visit}:{step.step_id}{round_}"


def delivery_key(key: str) -> str:
    """What a receiver sees as ``Idempotency-Key``: a digest of the step's idempotency key
    (printable, 43 characters, no variable values), identical on every delivery."""
    return "lo1_" + hashlib.sha256(key.encode()).hexdigest()[:39]


async def _with_retries(step: StepIR, node: NodeIR, params: dict[str, Any], sent: dict[str, Any],
                        variables: Mapping[str, Any], ctx: RunContext, visit: int, secret_result: bool,
                        record: Callable[[Any], Awaitable[None]], delivery: str) -> Any:
    """Dispatch ``sent`` with retries and error handlers (``params``, with references, is what
    events show); a success is sealed and ``record``-ed before it is announced, so a crash
    after the side effect's step_completed event never repeats it."""
    policy = _policy(step, node, ctx)
    emit_kw = {"node_id": node.node_id, "step_id": step.step_id}
    attempt = 0
    handler_attempts = 0
    while True:
        attempt += 1
        started = time.monotonic()
        await ctx.emit("step_started", {"action": step.action, "binding": step.binding.kind,
                                        "channel": step.binding.channel, "attempt": attempt,
                                        "params": preview(params)}, **emit_kw)
        try:
            result = await _dispatch(step, node, sent, ctx, delivery, attempt)
        except StepError as exc:
            ctx.conceal(exc)
            duration = (time.monotonic() - started) * 1000
            if isinstance(exc, StepTimeout):
                await ctx.emit("step_timeout", {"timeout_ms": step.timeout_ms, "attempt": attempt}, **emit_kw)
            handler = next((h for h in node.error_handlers if handler_matches(h, exc)), None)
            if handler is not None and handler.action != "retry":
                return await _apply_handler(handler, exc, step, node, variables, ctx, visit, duration)
            if handler is not None:
                if handler_attempts == 0:
                    await _error_notification(handler, exc, ctx, emit_kw)
                limit = handler.retry.max_retries if handler.retry else 0
                if handler_attempts < limit:
                    handler_attempts += 1
                    await _recover(handler, node, variables, ctx, visit, f"#{step.step_id}.{handler_attempts}")
                    wait = delay_ms(handler.retry or policy, handler_attempts)
                    await ctx.emit("step_retry", {"attempt": attempt, "delay_ms": round(wait),
                                                  "error": exc.to_dict(), "handler": handler.error_type},
                                   **emit_kw)
                    await ctx.services.sleep(wait / 1000)
                    continue
            elif exc.retryable and attempt <= policy.max_retries:
                wait = delay_ms(policy, attempt)
                await ctx.emit("step_retry", {"attempt": attempt, "delay_ms": round(wait),
                                              "error": exc.to_dict()}, **emit_kw)
                await ctx.services.sleep(wait / 1000)
                continue
            await ctx.emit("step_failed", {"error": exc.to_dict(), "attempt": attempt,
                                           "duration_ms": round(duration, 1)}, **emit_kw)
            raise
        duration = (time.monotonic() - started) * 1000
        result = ctx.seal(result)
        await record(result)
        if secret_result:
            ctx.redactor.add_secret(result)
        await ctx.emit("step_completed", {"action": step.action, "duration_ms": round(duration, 1),
                                          "result": preview(result)}, **emit_kw)
        return result


async def _apply_handler(handler: ErrorHandlerIR, exc: StepError, step: StepIR, node: NodeIR,
                         variables: Mapping[str, Any], ctx: RunContext, visit: int, duration: float) -> Any:
    emit_kw = {"node_id": node.node_id, "step_id": step.step_id}
    await _error_notification(handler, exc, ctx, emit_kw)
    await ctx.emit("step_failed", {"error": exc.to_dict(), "handled_by": handler.action,
                                   "duration_ms": round(duration, 1)}, **emit_kw)
    await _recover(handler, node, variables, ctx, visit, f"#{step.step_id}")
    if handler.action == "ignore" or handler.recovery_strategy == "continue":
        return None
    if handler.action == "fallback_node" and handler.fallback_node:
        raise FallbackRequested(handler.fallback_node, exc)
    if handler.action == "escalate":
        await ctx.emit("error_escalated", {"error": exc.to_dict(), "metadata": {}}, **emit_kw)
    if handler.fallback_node:
        raise FallbackRequested(handler.fallback_node, exc)
    raise exc


async def _error_notification(handler: ErrorHandlerIR, exc: StepError, ctx: RunContext,
                              emit_kw: Mapping[str, Any]) -> None:
    """``notify_on_error``: a ``step_error_notification`` event, which alert rules on
    ``step_error`` deliver (services/alerts.py); once per failed step, before its handler acts."""
    if handler.notify:
        await ctx.emit("step_error_notification", {"error_type": exc.error_type, "error": exc.to_dict(),
                                                   "handler_action": handler.action}, **emit_kw)


async def _recover(handler: ErrorHandlerIR, node: NodeIR, variables: Mapping[str, Any], ctx: RunContext,
                   visit: int, round_: str) -> None:
    for recovery in handler.recovery_steps:
        try:
            await run_step(recovery, node, variables, ctx, visit=visit, round_=round_)
        except StepError as exc:
            await ctx.emit("recovery_step_failed", {"error": exc.to_dict()}, node_id=node.node_id,
                           step_id=recovery.step_id)


async def _dispatch(step: StepIR, node: NodeIR, params: dict[str, Any], ctx: RunContext, delivery: str,
                    attempt: int) -> Any:
    timeout_s = step.timeout_ms / 1000 if step.timeout_ms else None
    call = _call(step, node, params, ctx, timeout_s, delivery, attempt)
    if timeout_s is None:
        return await call
    try:
        return await asyncio.wait_for(call, timeout_s)
    except TimeoutError as exc:
        raise StepTimeout(f"step {step.step_id!r} ({step.action}) exceeded timeout_ms={step.timeout_ms:g}") \
            from exc


async def _call(step: StepIR, node: NodeIR, params: dict[str, Any], ctx: RunContext,
                timeout_s: float | None, delivery: str, attempt: int) -> Any:
    binding = step.binding
    services = ctx.services
    if binding.kind == "internal":
        return await run_internal(binding.action, params, ctx, node_id=node.node_id, step_id=step.step_id,
                                  timeout_s=timeout_s, idempotency_key=delivery)
    if binding.kind == "agent":
        if services.agents is None:
            raise AgentError(f"no agent client: action {step.action!r} needs an agent for channel "
                             f"{binding.channel!r} (register one, e.g. --agent {binding.channel}=http://...)",
                             error_type="NoAgentForChannel", retryable=False)
        async with ctx.limiter.slot():
            return await services.agents.execute(binding.channel or "MasterAgent", binding.action, params,
                                                 run_id=ctx.run_id, node_id=node.node_id,
                                                 step_id=step.step_id, timeout_s=timeout_s,
                                                 idempotency_key=delivery, attempt=attempt)
    if binding.kind == "mcp":
        if services.mcp is None:
            raise StepError(f"no MCP client configured for server {binding.server!r}",
                            error_type="NoMcpServer", retryable=False)
        arguments = params.get("params") or params.get("arguments") or {
            k: v for k, v in params.items() if k not in ("target",)}
        async with ctx.limiter.slot():
            return await services.mcp.call_tool(binding.server or "", binding.action, arguments,
                                                timeout_s=timeout_s)
    from langorch.runtime.executors.llm_action import complete_prompt

    prompt = params.get("prompt") or params.get("value") or params.get("text") or ""
    return await complete_prompt(display(str(prompt)), node, ctx, model=params.get("model"))
