"""llm_action: one chat completion against any OpenAI-compatible endpoint.

Budgets are checked *before* each call with an estimate of what it could cost; JSON
answers are parsed and validated against ``output_schema`` with one repair retry;
usage is recorded per call and added to the run's totals exactly once.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Mapping
from typing import Any

import jsonschema

from langorch.ckp.ir import GlobalConfigIR, LlmPayload, NodeIR, RetryPolicy
from langorch.runtime.attachments import attachment_parts
from langorch.runtime.context import RunContext
from langorch.runtime.errors import BudgetExceeded, LlmError, StepError
from langorch.runtime.executors.base import Invocation, NodeResult
from langorch.runtime.ports import LlmRequest, LlmResponse
from langorch.runtime.redaction import display
from langorch.runtime.retry import delay_ms
from langorch.runtime.templating import render, render_text


def _estimate_tokens(messages: list[dict[str, Any]]) -> int:
    chars = 0
    for message in messages:
        content = message.get("content")
        if isinstance(content, str):
            chars += len(content)
        elif isinstance(content, list):
            chars += sum(len(str(part.get("text", ""))) + (800 if part.get("type") == "image_url" else 0)
                         for part in content if isinstance(part, Mapping))
    return chars // 4 + 8 * len(messages)


async def check_budget(ctx: RunContext, node: NodeIR, model: str, messages: list[dict[str, Any]],
                       max_tokens: int | None) -> dict[str, float]:
    """Stop before a call that could take the run past max_cost_usd or max_tokens_per_run.

    A subflow's call counts against its own procedure's budget and against every
    caller's, up to the run's. The spent figures include the estimates of calls still
    under way (parallel branches); a call that passes reserves its own estimate, returned
    here for the caller to :meth:`~RunContext.release` once the call has answered.

    A model without a price cannot be held to ``max_cost_usd``: the call goes ahead (token
    limits still apply) and the first such call under a USD budget emits
    ``budget_warning {reason: cost_unknown}``.
    """
    prompt = _estimate_tokens(messages)
    completion = max_tokens or 512
    estimate_cost = ctx.services.pricing.cost(model, prompt, completion)
    scope: RunContext | None = ctx
    limited = False
    unpriced_under: list[GlobalConfigIR] = []
    while scope is not None:
        gc = scope.ir.global_config
        if gc.max_cost_usd is not None or gc.max_tokens_per_run is not None:
            limited = True
            await _within(gc, scope.own_usage(), ctx, node, model, prompt + completion, estimate_cost)
            if estimate_cost is None and gc.max_cost_usd is not None and not scope.own_usage().get("unpriced_calls"):
                unpriced_under.append(gc)
        scope = scope.parent
    if not limited:
        return {}
    # No await between the checks passing and this reservation: concurrent calls see it.
    reservation = {"prompt_tokens": float(prompt), "completion_tokens": float(completion),
                   "cost_usd": estimate_cost or 0.0}
    if estimate_cost is None:
        reservation["unpriced_calls"] = 1.0
    ctx.reserve(reservation)
    for gc in unpriced_under[:1]:  # one warning, for the innermost budget that cannot be enforced
        await ctx.emit("budget_warning", {"limit": "max_cost_usd", "max_cost_usd": gc.max_cost_usd,
                                          "reason": "cost_unknown", "model": model,
                                          "message": f"model {model!r} has no price; max_cost_usd cannot be "
                                                     "enforced for its calls (token limits still are)"},
                       node_id=node.node_id)
    return reservation


async def _within(gc: GlobalConfigIR, used: Mapping[str, float], ctx: RunContext, node: NodeIR, model: str,
                  estimate_tokens: int, estimate_cost: float | None) -> None:
    """Raise BudgetExceeded (after the budget_exceeded event) when the call may not fit."""
    spent_cost = used.get("cost_usd", 0.0)
    spent_tokens = used.get("prompt_tokens", 0) + used.get("completion_tokens", 0)
    if gc.max_cost_usd is not None and estimate_cost is not None and spent_cost + estimate_cost > gc.max_cost_usd:
        detail = {"limit": "max_cost_usd", "max_cost_usd": gc.max_cost_usd, "spent_usd": round(spent_cost, 6),
                  "next_call_estimate_usd": round(estimate_cost, 6), "model": model}
        await ctx.emit("budget_exceeded", detail, node_id=node.node_id)
        raise BudgetExceeded(f"LLM budget exceeded: ${spent_cost:.4f} spent, the next call may cost "
                             f"${estimate_cost:.4f}, the limit is ${gc.max_cost_usd:.4f}", details=detail)
    if gc.max_tokens_per_run is not None and spent_tokens + estimate_tokens > gc.max_tokens_per_run:
        detail = {"limit": "max_tokens_per_run", "max_tokens_per_run": gc.max_tokens_per_run,
                  "spent_tokens": spent_tokens, "next_call_estimate_tokens": estimate_tokens, "model": model}
        await ctx.emit("budget_exceeded", detail, node_id=node.node_id)
        raise BudgetExceeded(f"LLM token budget exceeded: {spent_tokens} used, the next call may use "
                             f"{estimate_tokens}, the limit is {gc.max_tokens_per_run}", details=detail)


async def call_llm(ctx: RunContext, node: NodeIR, request: LlmRequest) -> LlmResponse:
    """One completion with budget check, usage accounting and the llm_usage event."""
    if ctx.services.llm is None:
        raise LlmError("no LLM endpoint configured (set OPENAI_BASE_URL / OPENAI_API_KEY)",
                       error_type="NoLlmConfigured", retryable=False)
    reservation = await check_budget(ctx, node, request.model, request.messages, request.max_tokens)
    started = time.monotonic()
    try:
        async with ctx.limiter.slot():
            response = await ctx.services.llm.complete(request)
    finally:
        ctx.release(reservation)
    duration = response.duration_ms or (time.monotonic() - started) * 1000
    model = response.model or request.model
    cost = ctx.services.pricing.cost(model, response.prompt_tokens, response.completion_tokens)
    usage = {"prompt_tokens": response.prompt_tokens, "completion_tokens": response.completion_tokens,
             "cost_usd": cost or 0.0, "llm_calls": 1}
    if cost is None:
        usage["unpriced_calls"] = 1  # the state sums numbers: an unknown cost is counted, not added
    ctx.add_usage(node.node_id, usage)
    await ctx.emit("llm_usage", {"model": model, "prompt_tokens": response.prompt_tokens,
                                 "completion_tokens": response.completion_tokens,
                                 "cost_usd": round(cost, 8) if cost is not None else None,
                                 "cost_known": cost is not None, "duration_ms": round(duration, 1)},
                   node_id=node.node_id)
    await _warn_when_crossed(ctx, node, response.prompt_tokens + response.completion_tokens, cost or 0.0)
    return response


async def _warn_when_crossed(ctx: RunContext, node: NodeIR, tokens: int, cost: float) -> None:
    """``budget_warning`` once, from the call that takes usage past warn_at_percent of a limit."""
    scope: RunContext | None = ctx
    while scope is not None:
        gc = scope.ir.global_config
        used = scope.own_usage()
        now = {"max_cost_usd": used.get("cost_usd", 0.0),
               "max_tokens_per_run": used.get("prompt_tokens", 0) + used.get("completion_tokens", 0)}
        before = {"max_cost_usd": now["max_cost_usd"] - cost, "max_tokens_per_run": now["max_tokens_per_run"] - tokens}
        for limit, value in (("max_cost_usd", gc.max_cost_usd), ("max_tokens_per_run", gc.max_tokens_per_run)):
            if not value:
                continue
            threshold = value * gc.budget_warn_percent / 100
            if before[limit] < threshold <= now[limit]:
                await ctx.emit("budget_warning", {"limit": limit, limit: value, "used": round(now[limit], 6),
                                                  "warn_at_percent": gc.budget_warn_percent}, node_id=node.node_id)
        scope = scope.parent


async def complete_prompt(prompt: str, node: NodeIR, ctx: RunContext, *, model: Any = None) -> dict[str, Any]:
    """A plain prompt from a sequence step bound to the LLM channel."""
    name = str(model or ctx.ir.global_config.default_model or ctx.services.default_model)
    response = await call_llm(ctx, node, LlmRequest(model=name, messages=[{"role": "user", "content": prompt}]))
    return {"text": response.text, "model": response.model}


def _parse_json(text: str) -> Any:
    stripped = text.strip()
    fence = re.match(r"^```(?:json)?\s*(.*?)\s*```$", stripped, re.DOTALL)
    if fence:
        stripped = fence.group(1)
    return json.loads(stripped)


def _json_path(data: Any, path: str) -> Any:
    current = data
    for part in [p for p in re.split(r"\.|\[(\d+)\]", path.strip()) if p]:
        if isinstance(current, Mapping):
            current = current.get(part)
        elif isinstance(current, list) and part.isdigit() and int(part) < len(current):
            current = current[int(part)]
        else:
            return None
    return current


def map_outputs(outputs: Mapping[str, str], text: str, parsed: Any, scope: Mapping[str, Any],
                where: str) -> dict[str, Any]:
    """Apply the llm_action ``outputs`` mapping (json_extract:, regex:, llm_response, templates)."""
    result: dict[str, Any] = {}
    for name, spec in outputs.items():
        spec_text = spec.strip()
        lowered = spec_text.lower()
        if lowered.startswith("json_extract:"):
            data = parsed
            if data is None:
                try:
                    data = _parse_json(text)
                except ValueError:
                    data = None
            result[name] = _json_path(data, spec_text.split(":", 1)[1]) if data is not None else None
        elif lowered.startswith("regex:"):
            match = re.search(spec_text.split(":", 1)[1].strip(), text)
            result[name] = (match.group(1) if match and match.groups() else match.group(0)) if match else None
        elif lowered in ("llm_response", "response", "text", "raw"):
            result[name] = text
        elif "{{" in spec_text:
            result[name] = render(spec_text, {**scope, "llm_response": text, "response": parsed}, where=where)
        else:
            result[name] = _json_path(parsed, spec_text) if parsed is not None else text
    return result


async def execute(node: NodeIR, inv: Invocation, ctx: RunContext) -> NodeResult:
    payload = node.payload
    assert isinstance(payload, LlmPayload)
    where = f"node {node.node_id!r}"
    scope = ctx.scope(inv.variables, node)
    await ctx.load_secrets([payload.prompt, payload.system_prompt])
    # A model is never sent a secret's value: a prompt names the secret by its shown reference.
    prompt = display(render_text(payload.prompt, scope, where=f"{where} prompt"))
    messages: list[dict[str, Any]] = []
    if payload.system_prompt:
        messages.append({"role": "system", "content": display(render_text(payload.system_prompt, scope,
                                                                          where=f"{where} system_prompt"))})
    attachments = render(list(payload.attachments), scope, where=f"{where} attachments")
    wants_json = payload.json_mode or payload.output_schema is not None
    gc = ctx.ir.global_config
    policy = payload.retry or node.retry or RetryPolicy(max_retries=gc.max_retries, delay_ms=gc.retry_delay_ms)
    primary = payload.model or gc.default_model or ctx.services.default_model
    parsed: Any = None
    override = await _substitute(node, ctx, wants_json)
    if override is not None:
        text = override
        if wants_json:
            parsed, problem = _check_json(text, payload.output_schema)
            if problem is not None:
                raise StepError(f"test data for llm node {node.node_id!r} does not fit its schema: {problem}",
                                error_type="LlmOutputInvalid", retryable=False)
    else:
        # Files are read only for a call that is made (a test-mode answer needs none of them).
        parts = attachment_parts(attachments, ctx.file_path, node.node_id)
        if parts:
            messages.append({"role": "user", "content": [{"type": "text", "text": prompt}, *parts]})
        else:
            messages.append({"role": "user", "content": prompt})
        attempt = 0
        while True:
            model = payload.fallback_model if attempt > 0 and payload.fallback_model else primary
            request = LlmRequest(model=model, messages=messages, temperature=payload.temperature,
                                 max_tokens=payload.max_tokens, json_mode=payload.json_mode,
                                 json_schema=payload.output_schema)
            try:
                response = await call_llm(ctx, node, request)
                break
            except LlmError as exc:
                attempt += 1
                if not exc.retryable or attempt > policy.max_retries:
                    raise
                wait = delay_ms(policy, attempt)
                await ctx.emit("step_retry", {"attempt": attempt, "delay_ms": round(wait), "error": exc.to_dict(),
                                              "next_model": payload.fallback_model or primary}, node_id=node.node_id)
                await ctx.services.sleep(wait / 1000)
        text = response.text
        if wants_json:
            parsed, problem = _check_json(text, payload.output_schema)
            if problem is not None:
                await ctx.emit("llm_repair", {"problem": problem}, node_id=node.node_id)
                repair = [*messages, {"role": "assistant", "content": text},
                          {"role": "user", "content": f"Your answer was not valid: {problem}. Reply with only the "
                                                      "corrected JSON, nothing else."}]
                response = await call_llm(ctx, node, LlmRequest(
                    model=request.model, messages=repair, temperature=payload.temperature,
                    max_tokens=payload.max_tokens, json_mode=payload.json_mode, json_schema=payload.output_schema))
                text = response.text
                parsed, problem = _check_json(text, payload.output_schema)
                if problem is not None:
                    raise StepError(f"LLM answer is not valid JSON for the schema after one repair: {problem}",
                                    error_type="LlmOutputInvalid", retryable=False, details={"answer": text[:2000]})
    if not wants_json and payload.outputs:
        try:
            parsed = _parse_json(text)
        except ValueError:
            parsed = None
    updates = map_outputs(payload.outputs, text, parsed, scope, where)
    if payload.output_variable:
        updates[payload.output_variable] = parsed if wants_json else text
    if not payload.outputs and not payload.output_variable:
        updates["llm_response"] = parsed if wants_json else text
    return NodeResult(updates=updates)


async def _substitute(node: NodeIR, ctx: RunContext, wants_json: bool) -> str | None:
    """In test mode, the answer from test_data_overrides (by node id) or a mock answer; None to call."""
    if ctx.mode != "test":
        return None
    overrides = ctx.ir.global_config.test_data_overrides
    if node.node_id in overrides:
        value = overrides[node.node_id]
        await ctx.emit("step_test_override_applied", {"action": "llm_action", "binding": "llm"},
                       node_id=node.node_id)
        return value if isinstance(value, str) else json.dumps(value)
    await ctx.emit("step_mock_applied", {"action": "llm_action", "binding": "llm", "mocked": True},
                   node_id=node.node_id)
    return json.dumps({"mocked": True}) if wants_json else "[mocked LLM response]"


def _check_json(text: str, schema: Mapping[str, Any] | None) -> tuple[Any, str | None]:
    try:
        parsed = _parse_json(text)
    except ValueError as exc:
        return None, f"not JSON ({exc})"
    if schema is not None:
        try:
            jsonschema.validate(parsed, dict(schema))
        except jsonschema.ValidationError as exc:
            where = "/".join(str(p) for p in exc.absolute_path) or "(root)"
            return parsed, f"schema violation at {where}: {exc.message}"
    return parsed, None
