"""Binder: a validated CKP model → the IR.

Each step's action is bound to where it runs (internal, agent channel, MCP tool or
LLM); secret references become provider lookups; policies become frozen dataclasses.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import fields, is_dataclass
from functools import lru_cache
from types import MappingProxyType
from typing import Any

import orjson
from pydantic import BaseModel

from langorch.ckp import catalog
from langorch.ckp import ir as I
from langorch.ckp.diagnostics import Code, Diagnostic, warning
from langorch.ckp.graph import GraphFacts, analyze
from langorch.ckp.models import ErrorHandler, Operation, RetryPolicy, Step, declared_variables, fields_where
from langorch.ckp.nodes import (
    HumanApprovalNode,
    LlmActionNode,
    LogicNode,
    LoopNode,
    Node,
    ParallelNode,
    Procedure,
    ProcessingNode,
    SequenceNode,
    SubflowNode,
    TerminateNode,
    TransformNode,
    VerificationNode,
)

_STEP_CONTROL = {"step_id", "action", "agent", "output_variable", "wait_ms", "wait_after_ms", "timeout_ms",
                 "max_retries", "retry_delay_ms", "retry_on_failure", "idempotency_key"}


def bind(procedure: Procedure, source: Mapping[str, Any] | None = None,
         facts: GraphFacts | None = None) -> I.ProcedureIR:
    """Build the IR of a procedure the validator accepted (no errors).

    ``source`` is the (normalized) JSON document ``procedure`` was parsed from; the IR
    hash is computed from it. Without it, the hash is computed from a dump of the model.
    ``facts`` is :func:`langorch.ckp.graph.analyze` of the nodes, when already known.
    """
    nodes = procedure.workflow_graph.nodes
    gc = procedure.global_config
    default_retry = I.RetryPolicy(
        max_retries=(gc.max_retries if gc and gc.max_retries is not None else 0),
        delay_ms=float(gc.retry_delay_ms) if gc and gc.retry_delay_ms is not None else 1000.0,
    )
    facts = facts or analyze(nodes)
    where = facts.inner
    region_nodes = {(r.owner, r.branch_id): r.nodes for r in facts.regions}
    graph = source.get("workflow_graph") if source is not None else None
    raw_nodes = graph.get("nodes") if isinstance(graph, Mapping) else None
    if not isinstance(raw_nodes, Mapping):
        raw_nodes = {}
    built: dict[str, I.NodeIR] = {}
    for node_id, node in nodes.items():
        region = where.get(node_id)
        enclosing = I.EnclosingRegion(region.owner, region.kind, region.branch_id) if region else None
        raw = raw_nodes.get(node_id)
        built[node_id] = _node(node_id, node, raw if isinstance(raw, dict) else _NO_RAW, enclosing, region_nodes)
    edges = tuple(I.EdgeIR(e.source, e.target, e.kind, e.label)
                  for declared in facts.edges.values() for e in declared)
    variables = tuple(_variable(name, spec, required)
                      for name, (spec, required) in declared_variables(procedure.variables_schema).items())
    ir = I.ProcedureIR(
        procedure_id=procedure.procedure_id,
        version=procedure.version,
        start_node=procedure.workflow_graph.start_node or "",
        nodes=built,
        edges=edges,
        variables=variables,
        global_config=_global_config(procedure, default_retry),
        secrets=_secrets(procedure),
        trigger=_trigger(procedure),
        description=procedure.description or "",
    )
    if source is None:
        source = procedure.model_dump(mode="json", by_alias=True, exclude_unset=True)
    object.__setattr__(ir, "ir_hash", source_hash(source))
    return ir


# ----------------------------------------------------------------------------- nodes
def _node(
    node_id: str,
    node: Node,
    raw: Mapping[str, Any],
    region: I.EnclosingRegion | None,
    region_nodes: Mapping[tuple[str, str], frozenset[str]],
) -> I.NodeIR:
    payload: I.Payload
    if isinstance(node, SequenceNode):
        payload = I.SequencePayload(
            steps=_steps(node, node.steps, raw.get("steps")),
            validations=tuple(v.model_dump(exclude_none=True) for v in node.validations or []),
        )
    elif isinstance(node, LogicNode):
        payload = I.LogicPayload(tuple(I.LogicRuleIR(r.condition, r.next_node) for r in node.rules),
                                 node.default_next_node)
    elif isinstance(node, LoopNode):
        payload = I.LoopPayload(
            body_node=node.body_node, iterator=node.iterator, condition=node.condition,
            iterator_variable=node.iterator_variable or "item", index_variable=node.index_variable,
            collect_variable=node.collect_variable,
            max_iterations=node.max_iterations if node.max_iterations is not None else 1000,
            continue_on_error=bool(node.continue_on_error),
            body_nodes=region_nodes.get((node_id, ""), frozenset()),
        )
    elif isinstance(node, ParallelNode):
        payload = I.ParallelPayload(
            branches=tuple(I.BranchIR(b.branch_id, b.start_node, region_nodes.get((node_id, b.branch_id),
                                                                                    frozenset()))
                           for b in node.branches),
            wait_strategy="any" if node.wait_strategy in ("any", "first") else "all",
            branch_failure=node.branch_failure or "stop",
        )
    elif isinstance(node, ProcessingNode):
        payload = I.ProcessingPayload(_dumps(node.operations, raw.get("operations")))
    elif isinstance(node, VerificationNode):
        payload = I.VerificationPayload(
            tuple(I.VerificationCheckIR(c.id or f"check_{i}", c.condition, c.on_fail, c.message or "")
                  for i, c in enumerate(node.checks)),
            node.on_pass, node.on_fail,
        )
    elif isinstance(node, LlmActionNode):
        payload = I.LlmPayload(
            prompt=node.prompt or "", system_prompt=node.system_prompt, model=node.model,
            fallback_model=node.fallback_model,
            temperature=float(node.temperature) if node.temperature is not None else None,
            max_tokens=node.max_tokens, json_mode=bool(node.json_mode), output_schema=node.output_schema,
            attachments=tuple(a.model_dump(exclude_none=True) for a in node.attachments or []),
            retry=I.RetryPolicy(max_retries=node.retry.max_retries or 0,
                                delay_ms=float(node.retry.delay_ms or 1000)) if node.retry else None,
            outputs={k: str(v) for k, v in (node.outputs or {}).items()},
            output_variable=node.output_variable,
        )
    elif isinstance(node, HumanApprovalNode):
        payload = I.ApprovalPayload(
            prompt=node.prompt or "", decision_type=node.decision_type, options=tuple(node.options or ()),
            timeout_ms=float(node.timeout_ms) if node.timeout_ms is not None else None,
            timeout_action=node.timeout_action, escalation_contact=node.escalation_contact,
            context_data=node.context_data or {}, approval_level=node.approval_level,
            on_approve=node.on_approve, on_reject=node.on_reject, on_timeout=node.on_timeout,
            decision_variable=node.decision_variable,
        )
    elif isinstance(node, TransformNode):
        payload = I.TransformPayload(tuple(t.model_dump(exclude_none=True) for t in node.transformations))
    elif isinstance(node, SubflowNode):
        payload = I.SubflowPayload(
            procedure_id=node.procedure_id, version=node.version, input_mapping=node.input_mapping or {},
            output_mapping=node.output_mapping or {}, on_failure=node.on_failure or "fail_parent",
            inherit_context=bool(node.inherit_context),
        )
    else:
        assert isinstance(node, TerminateNode)
        payload = I.TerminatePayload(
            status=node.status, outputs=node.outputs or {},
            cleanup_actions=_terminate_actions(node, node.cleanup_actions, raw.get("cleanup_actions")),
            error_actions=_terminate_actions(node, node.error_actions, raw.get("error_actions")),
            final_audit_log=node.final_audit_log,
        )
    node_retry = None
    if node.max_retries is not None or node.retry_delay_ms is not None:
        node_retry = I.RetryPolicy(max_retries=node.max_retries or 0,
                                   delay_ms=float(node.retry_delay_ms if node.retry_delay_ms is not None
                                                  else 1000))
    return I.NodeIR(
        node_id=node_id,
        type=node.type,
        payload=payload,
        agent=node.agent,
        description=node.description or "",
        next_node=node.next_node,
        is_checkpoint=bool(node.is_checkpoint),
        sla=_sla(node),
        telemetry=node.telemetry.model_dump(exclude_none=True) if node.telemetry else {},
        idempotency_key=node.idempotency_key,
        error_handlers=_handlers(node, raw.get("error_handlers")) if node.error_handlers else (),
        retry=node_retry,
        timeout_ms=float(node.timeout_ms) if node.timeout_ms is not None else None,
        region=region,
    )


def _sla(node: Node) -> I.SlaIR | None:
    sla = node.sla
    if sla is None or sla.max_duration_ms is None:
        return None
    return I.SlaIR(float(sla.max_duration_ms), sla.on_breach or "warn", sla.escalation_handler)


def _steps(node: Node, steps: list[Step] | None, raw: Any) -> tuple[I.StepIR, ...]:
    if not steps:
        return ()
    raws = raw if isinstance(raw, list) and len(raw) == len(steps) else [_NO_RAW] * len(steps)
    return tuple(_step(node, step, i, raws[i]) for i, step in enumerate(steps))


def _terminate_actions(node: Node, actions: list[Operation | Step] | None, raw: Any) -> tuple[I.TerminateActionIR, ...]:
    """Operations as their fields; step actions bound exactly like sequence steps (default id
    ``action_<index>``)."""
    if not actions:
        return ()
    raws = raw if isinstance(raw, list) and len(raw) == len(actions) else [_NO_RAW] * len(actions)
    out: list[I.TerminateActionIR] = []
    for i, action in enumerate(actions):
        if isinstance(action, Step):
            out.append(_step(node, action, i, raws[i], default_id=f"action_{i}"))
        else:
            out.append(_fields(action, raws[i], frozenset()))
    return tuple(out)


def _step(node: Node, step: Step, index: int, raw: Any, default_id: str = "") -> I.StepIR:
    params = _fields(step, raw, _STEP_CONTROL)
    retry = None
    if step.max_retries is not None or step.retry_delay_ms is not None or step.retry_on_failure is False:
        retry = I.RetryPolicy(
            max_retries=0 if step.retry_on_failure is False else (step.max_retries or 0),
            delay_ms=float(step.retry_delay_ms if step.retry_delay_ms is not None else 1000),
        )
    return I.StepIR(
        step_id=step.step_id or default_id or f"step_{index}",
        action=step.action,
        binding=resolve_action(step.action, step.agent or node.agent)[0],
        params=params,
        output_variable=step.output_variable,
        wait_ms=float(step.wait_ms) if step.wait_ms is not None else None,
        wait_after_ms=float(step.wait_after_ms) if step.wait_after_ms is not None else None,
        timeout_ms=float(step.timeout_ms) if step.timeout_ms is not None else None,
        retry=retry,
        idempotency_key=step.idempotency_key,
    )


def bind_action(action: str, agent: str | None, path: str, diagnostics: list[Diagnostic]) -> I.Binding:
    """Decide where an action runs; warn (at ``path``) when no channel catalog lists it."""
    binding, problem, hint = resolve_action(action, agent)
    if problem:
        diagnostics.append(warning(Code.UNKNOWN_ACTION, path, problem, hint))
    return binding


@lru_cache(maxsize=2048)
def resolve_action(action: str, agent: str | None) -> tuple[I.Binding, str, str]:
    """``(binding, problem, hint)`` for ``action`` on the channel ``agent``.

    ``problem`` is "" when a catalog lists the action (or it is internal, MCP or LLM).
    Cached: a procedure repeats the same few actions many times.
    """
    channel = (agent or "").strip()
    upper = channel.upper()
    side_effect = action not in catalog.SIDE_EFFECT_FREE
    if action.startswith(("mcp:", "mcp://")):
        rest = action.split(":", 1)[1].lstrip("/")
        server, _, tool = rest.partition("/")
        if not tool:
            server, _, tool = rest.partition(".")
        return I.Binding("mcp", tool or rest, server=server or None, side_effect=True), "", ""
    if action in catalog.ALWAYS_INTERNAL:
        return I.Binding("internal", action, side_effect=side_effect), "", ""
    if action in catalog.LLM_ACTIONS or upper in catalog.LLM_CHANNELS:
        return I.Binding("llm", action, channel=channel or "LLM", side_effect=False), "", ""
    if not channel or upper in catalog.ORCHESTRATOR_CHANNELS:
        if action in catalog.INTERNAL_ACTIONS:
            return I.Binding("internal", action, side_effect=side_effect), "", ""
        owner = catalog.channel_of_action(action)
        binding = I.Binding("agent", action, channel=owner or channel or "MasterAgent", side_effect=side_effect)
        if owner is None and action not in catalog.GENERIC:
            return (binding,
                    f"action {action!r} is not in any channel catalog; it is sent to the agent registered "
                    f"for channel {channel or 'MasterAgent'!r}",
                    "set the node's agent to the channel that offers this action")
        return binding, "", ""
    binding = I.Binding("agent", action, channel=channel, side_effect=side_effect)
    known = catalog.CHANNEL_CATALOG.get(upper)
    if known is not None and action not in known and action not in catalog.GENERIC:
        return (binding, f"action {action!r} is not in the {upper} channel catalog",
                "check the action name, or make sure the registered agent offers it")
    return binding, "", ""


def _handlers(node: Node, raw: Any) -> tuple[I.ErrorHandlerIR, ...]:
    handlers = node.error_handlers or []
    raws = raw if isinstance(raw, list) and len(raw) == len(handlers) else [_NO_RAW] * len(handlers)
    return tuple(_handler(node, h, r if isinstance(r, dict) else _NO_RAW) for h, r in zip(handlers, raws, strict=True))


def _handler(node: Node, h: ErrorHandler, raw: Mapping[str, Any]) -> I.ErrorHandlerIR:
    retry = None
    if h.action == "retry" or h.retry_policy is not None or h.max_retries is not None:
        retry = _retry(h.retry_policy, h.max_retries, h.delay_ms)
    trig = h.trigger
    return I.ErrorHandlerIR(
        action="fallback_node" if h.recovery_strategy == "fallback_node" and h.fallback_node else h.action,
        error_type=h.error_type,
        text_contains=trig.error_text_contains if trig else None,
        error_code=str(trig.error_code) if trig and trig.error_code is not None else None,
        http_status_codes=tuple(trig.http_status_codes or ()) if trig else (),
        retry=retry,
        recovery_strategy=h.recovery_strategy,
        recovery_steps=_steps(node, h.recovery_steps, raw.get("recovery_steps")),
        fallback_node=h.fallback_node,
        notify=bool(h.notify_on_error),
    )


def _retry(policy: RetryPolicy | None, max_retries: int | None, delay_ms: float | None) -> I.RetryPolicy:
    p = policy or RetryPolicy()
    base_delay = p.base_delay_ms if p.base_delay_ms is not None else delay_ms
    return I.RetryPolicy(
        max_retries=max_retries if max_retries is not None else 3,
        delay_ms=float(base_delay if base_delay is not None else 1000),
        strategy=p.strategy or ("fixed" if policy is None else "exponential_backoff"),
        max_delay_ms=float(p.max_delay_ms if p.max_delay_ms is not None else 30000),
        multiplier=float(p.multiplier if p.multiplier is not None else 2),
        jitter=bool(p.jitter) if p.jitter is not None else policy is not None,
    )


_NO_RAW: Mapping[str, Any] = MappingProxyType({})
"""Stands in for a node's JSON when the binder is given only the model."""


def _dumps(models: list[Any] | None, raw: Any) -> tuple[dict[str, Any], ...]:
    """The fields of each model (operations, cleanup actions) as plain JSON data."""
    if not models:
        return ()
    raws = raw if isinstance(raw, list) and len(raw) == len(models) else [_NO_RAW] * len(models)
    return tuple(_fields(model, raws[i], frozenset()) for i, model in enumerate(models))


def _fields(model: BaseModel, raw: Any, skip: frozenset[str] | set[str]) -> dict[str, Any]:
    """``model_dump(exclude_none=True, by_alias=True)`` of a flat model without ``skip``.

    Read from the model's own JSON object when there is one (a dict copy instead of a
    serialiser call per step: procedures have thousands); the fields whose value
    validation may have converted (``"true"`` → True, ``"100"`` → 100) are taken from
    the model.
    """
    if not isinstance(raw, dict):
        return {k: v for k, v in model.model_dump(exclude_none=True, by_alias=True).items() if k not in skip}
    out = {k: v for k, v in raw.items() if v is not None and k not in skip}
    for name, alias in fields_where(type(model), _converting):
        if alias in out:
            out[alias] = getattr(model, name)
    return out


def _converting(annotation: Any) -> bool:
    """Types lax validation converts input into (``"true"`` → True, ``"100"`` → 100)."""
    return annotation in (bool, int, float)


# ----------------------------------------------------------------------------- root parts
def _variable(name: str, spec: Any, required: bool) -> I.VariableIR:
    v = spec.validation
    return I.VariableIR(
        name=name, type=spec.type, required=required, default=spec.default,
        has_default="default" in spec.model_fields_set, description=spec.description or "",
        origin=spec.origin, regex=v.regex if v else None,
        min=float(v.min) if v and v.min is not None else None,
        max=float(v.max) if v and v.max is not None else None,
        min_length=v.min_length if v else None, max_length=v.max_length if v else None,
        allowed_values=tuple(v.allowed_values) if v and v.allowed_values is not None else None,
        sensitive=bool(spec.sensitive or (v and v.sensitive)),
    )


def _global_config(procedure: Procedure, retry: I.RetryPolicy) -> I.GlobalConfigIR:
    gc = procedure.global_config
    if gc is None:
        return I.GlobalConfigIR()
    rl = gc.rate_limiting
    rate_on = rl is not None and rl.enabled is not False
    budget = gc.llm_budget
    max_cost = gc.max_cost_usd if gc.max_cost_usd is not None else (budget.max_cost_usd if budget else None)
    return I.GlobalConfigIR(
        max_retries=retry.max_retries,
        retry_delay_ms=retry.delay_ms,
        timeout_ms=float(gc.timeout_ms) if gc.timeout_ms else None,
        on_failure=gc.on_failure,
        execution_mode=gc.execution_mode or "production",
        mock_external_calls=bool(gc.mock_external_calls),
        test_data_overrides=gc.test_data_overrides or {},
        max_requests_per_minute=float(rl.max_requests_per_minute)
        if rate_on and rl and rl.max_requests_per_minute else None,
        max_concurrent_operations=rl.max_concurrent_operations if rate_on and rl else None,
        max_cost_usd=float(max_cost) if max_cost is not None else None,
        max_tokens_per_run=budget.max_tokens_per_run if budget else None,
        budget_warn_percent=float(budget.warn_at_percent) if budget and budget.warn_at_percent else 80.0,
        checkpoint_strategy=gc.checkpoint_strategy or "every_node",
        checkpoint_retention_days=float(gc.checkpoint_retention_days)
        if gc.checkpoint_retention_days is not None else None,
        screenshot_on_fail=bool(gc.screenshot_on_fail),
        logging_level=gc.logging_level or "INFO",
        telemetry_enabled=gc.telemetry_enabled is not False,
        default_model=gc.default_model,
        audit_include_sensitive=bool(gc.audit_config and gc.audit_config.include_sensitive_data),
    )


def _secrets(procedure: Procedure) -> tuple[I.SecretRef, ...]:
    gc = procedure.global_config
    sc = gc.secrets_config if gc else None
    if sc is None:
        return ()
    provider = sc.provider or "env_vars"
    return tuple(I.SecretRef(name, provider, key, sc.vault_url)
                 for name, key in sorted((sc.secret_references or {}).items()))


def _trigger(procedure: Procedure) -> I.TriggerIR | None:
    t = procedure.trigger
    if t is None:
        return None
    config: dict[str, Any] = {}
    for name in ("webhook_config", "event_config", "file_watch_config"):
        value = getattr(t, name)
        if value is not None:
            config[name] = value.model_dump(exclude_none=True)
    return I.TriggerIR(t.type, t.schedule, t.timezone, config)


# ----------------------------------------------------------------------------- hashing
IR_FORMAT = "langorch-ir/4"
"""Part of every IR hash. Change it whenever the binder maps the same CKP differently."""


def _format_salt() -> str:
    """:data:`IR_FORMAT` plus what else decides the IR besides the document: the action
    catalogs and the IR's own fields. Changing either changes every hash by itself."""
    catalogs = {name: sorted(value) if isinstance(value, frozenset) else value
                for name, value in vars(catalog).items()
                if name.isupper() and isinstance(value, frozenset | dict)}
    shapes = {name: [f.name for f in fields(cls)] for name, cls in vars(I).items()
              if isinstance(cls, type) and is_dataclass(cls)}
    text = json.dumps([IR_FORMAT, catalogs, shapes], sort_keys=True, default=sorted)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


_SALT = _format_salt()
_HASH_PREFIX = f"{IR_FORMAT}:{_SALT}\n".encode()


UI_KEY = "$ui"
"""The visual builder's annotations (a node's canvas position, ...): UI only, never part
of the definition, so never part of the IR hash."""


def source_hash(source: Mapping[str, Any]) -> str:
    """The IR hash: sha256 of the IR format (see :func:`_format_salt`) and the canonical JSON
    of the source document without its :data:`UI_KEY` annotations.

    The IR is a pure function of the document and the binder, so hashing the document
    (sorted keys, no whitespace, UTF-8: orjson writes 350 KiB in well under a millisecond)
    identifies the IR without serialising the much larger IR itself. Equal documents give
    the same hash whatever their key order or whitespace; any change to a value gives a
    different one, except to ``$ui`` (moving a node on the canvas changes nothing a run does).
    """
    digest = hashlib.sha256(_HASH_PREFIX)
    digest.update(canonical_json(without_ui(source)))
    return digest.hexdigest()


def without_ui(source: Mapping[str, Any]) -> Mapping[str, Any]:
    """``source`` without the ``$ui`` keys of the document, of its ``workflow_graph`` and of
    each node (shallow copies of what changes; ``source`` itself when there are none)."""
    graph = source.get("workflow_graph")
    nodes = graph.get("nodes") if isinstance(graph, Mapping) else None
    marked: list[str] = []
    if isinstance(nodes, Mapping):
        for node_id, node in nodes.items():
            if isinstance(node, Mapping) and UI_KEY in node:
                marked.append(node_id)
    graph_marked = isinstance(graph, Mapping) and UI_KEY in graph
    if not marked and not graph_marked and UI_KEY not in source:
        return source
    out = {key: value for key, value in source.items() if key != UI_KEY}
    if isinstance(graph, Mapping) and (marked or graph_marked):
        new_graph = {key: value for key, value in graph.items() if key != UI_KEY}
        if marked and isinstance(nodes, Mapping):
            new_nodes = dict(nodes)
            for node_id in marked:
                new_nodes[node_id] = {key: value for key, value in nodes[node_id].items() if key != UI_KEY}
            new_graph["nodes"] = new_nodes
        out["workflow_graph"] = new_graph
    return out


def canonical_json(value: Any) -> bytes:
    """``value`` as canonical JSON bytes: sorted keys, no whitespace, UTF-8.

    orjson covers every document JSON can express except integers beyond 64 bits and
    lone surrogates; those (rare) documents always take the standard library's slower
    path instead, so each document still has exactly one canonical form.
    """
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS, default=str)
    except TypeError:
        text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
        return text.encode("utf-8", "surrogatepass")


def _plain(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in fields(value) if f.name != "ir_hash"}
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, frozenset | set):
        return sorted(_plain(v) for v in value)
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def ir_content(ir: I.ProcedureIR) -> dict[str, Any]:
    """The IR as plain JSON data (for golden files and debugging; ``ir_hash`` left out)."""
    data: dict[str, Any] = _plain(ir)
    return data
