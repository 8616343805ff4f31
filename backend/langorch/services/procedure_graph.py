"""Read a compiled procedure without running it: its drawable graph and a static explanation.

Both work on the IR only (no execution, no network): the graph is what the UI draws;
the explanation lists what a run would touch — agents, MCP tools, LLMs, approvals,
inputs, secrets — and an upper bound of LLM calls.
"""

from __future__ import annotations

import dataclasses
from collections import deque
from collections.abc import Iterator, Mapping
from typing import Any

from langorch.ckp import CompileResult, ProcedureIR
from langorch.ckp.graph import SIDE_EDGES, strongly_connected
from langorch.ckp.ir import (
    ApprovalPayload,
    LlmPayload,
    LoopPayload,
    NodeIR,
    RetryPolicy,
    SequencePayload,
    StepIR,
    SubflowPayload,
)

TIERS: Mapping[str, str] = {
    "sequence": "deterministic", "processing": "deterministic", "transform": "deterministic",
    "subflow": "deterministic", "llm_action": "intelligent", "logic": "control", "loop": "control",
    "parallel": "control", "verification": "control", "human_approval": "control", "terminate": "control",
}
_X_GAP, _Y_GAP = 280.0, 140.0
_LABEL_MAX = 80


def tier_of(node_type: str) -> str:
    return TIERS.get(node_type, "deterministic")


def jsonable(value: Any) -> Any:
    """IR values (frozen dataclasses, mappings, tuples, frozensets) as plain JSON data."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, frozenset | set):
        return sorted(jsonable(v) for v in value)
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def _label(node: NodeIR) -> str:
    text = (node.description or "").strip().splitlines()[0] if (node.description or "").strip() else ""
    if not text:
        return node.node_id
    return text if len(text) <= _LABEL_MAX else text[: _LABEL_MAX - 1] + "…"


def _node_data(node: NodeIR) -> dict[str, Any]:
    data: dict[str, Any] = jsonable(node.payload)
    data.update({
        "description": node.description,
        "is_checkpoint": node.is_checkpoint,
        "timeout_ms": node.timeout_ms,
        "retry": jsonable(node.retry),
        "sla": jsonable(node.sla),
        "error_handlers": jsonable(node.error_handlers),
        "region": jsonable(node.region),
    })
    return data


def _depths(ir: ProcedureIR) -> dict[str, int]:
    """Breadth-first depth from the start node; side edges only place what nothing else reaches."""
    main: dict[str, list[str]] = {}
    every: dict[str, list[str]] = {}
    for edge in ir.edges:
        every.setdefault(edge.source, []).append(edge.target)
        if edge.kind not in SIDE_EDGES:
            main.setdefault(edge.source, []).append(edge.target)
    depth: dict[str, int] = {ir.start_node: 0}

    def spread(queue: deque[str], adjacency: Mapping[str, list[str]]) -> None:
        while queue:
            current = queue.popleft()
            for target in adjacency.get(current, []):
                if target in ir.nodes and target not in depth:
                    depth[target] = depth[current] + 1
                    queue.append(target)

    spread(deque([ir.start_node]), main)
    spread(deque(depth), every)
    for node_id in ir.nodes:
        if node_id not in depth:
            depth[node_id] = max(depth.values(), default=-1) + 1
            spread(deque([node_id]), every)
    return depth


def graph(ir: ProcedureIR) -> dict[str, Any]:
    """Nodes (with tier, label, data and a layered position) and edges for drawing."""
    depth = _depths(ir)
    rows: dict[int, int] = {}
    has_out = {e.source for e in ir.edges}
    nodes = []
    for node_id, node in ir.nodes.items():
        layer = depth.get(node_id, 0)
        row = rows.get(layer, 0)
        rows[layer] = row + 1
        nodes.append({
            "id": node_id, "type": node.type, "tier": tier_of(node.type), "label": _label(node),
            "agent": node.agent, "is_start": node_id == ir.start_node,
            "is_terminal": node.type == "terminate" or node_id not in has_out,
            "data": _node_data(node), "position": {"x": layer * _X_GAP, "y": row * _Y_GAP},
        })
    edges = [{"id": f"{e.source}->{e.target}:{e.kind}:{i}", "source": e.source, "target": e.target,
              "kind": e.kind, "label": e.label} for i, e in enumerate(ir.edges)]
    return {"procedure_id": ir.procedure_id, "version": ir.version, "ir_hash": ir.ir_hash,
            "start_node": ir.start_node, "nodes": nodes, "edges": edges}


# --------------------------------------------------------------------------- explain
def _cyclic_nodes(ir: ProcedureIR) -> set[str]:
    """Nodes on a cycle that no loop node bounds (strongly connected over non-body edges)."""
    succ: dict[str, set[str]] = {n: set() for n in ir.nodes}
    for edge in ir.edges:
        if edge.kind != "body" and edge.source in succ and edge.target in succ:
            succ[edge.source].add(edge.target)
    cyclic: set[str] = set()
    for component in strongly_connected(list(ir.nodes), succ):
        if len(component) > 1 or any(n in succ[n] for n in component):
            cyclic |= component
    return cyclic


def _visits(ir: ProcedureIR, cyclic: set[str]) -> dict[str, int | None]:
    """How many times each node can run at most: loop bodies multiply by max_iterations."""
    memo: dict[str, int | None] = {}

    def visits(node_id: str, guard: int = 0) -> int | None:
        if node_id in memo:
            return memo[node_id]
        node = ir.nodes[node_id]
        result: int | None = None if node_id in cyclic else 1
        region = node.region
        if result is not None and region is not None and region.owner in ir.nodes and guard < 64:
            owner = visits(region.owner, guard + 1)
            owner_payload = ir.nodes[region.owner].payload
            factor = owner_payload.max_iterations if isinstance(owner_payload, LoopPayload) else 1
            result = None if owner is None else owner * max(factor, 1)
        memo[node_id] = result
        return result

    return {node_id: visits(node_id) for node_id in ir.nodes}


def _attempts(*policies: RetryPolicy | None, default: int = 0) -> int:
    for policy in policies:
        if policy is not None:
            return 1 + max(policy.max_retries, 0)
    return 1 + max(default, 0)


def _steps(node: NodeIR) -> Iterator[tuple[StepIR, bool]]:
    """The node's steps and its error handlers' recovery steps (flagged True)."""
    if isinstance(node.payload, SequencePayload):
        for step in node.payload.steps:
            yield step, False
    for handler in node.error_handlers:
        for step in handler.recovery_steps:
            yield step, True


def explain(ir: ProcedureIR, result: CompileResult, input_vars: Mapping[str, Any] | None) -> dict[str, Any]:
    """Static analysis of ``ir``: what a run would call, ask and need. Executes nothing."""
    cyclic = _cyclic_nodes(ir)
    visits = _visits(ir, cyclic)
    default_model = ir.global_config.default_model
    calls: list[dict[str, Any]] = []
    approvals: list[dict[str, Any]] = []
    models: set[str] = set()
    llm_total: int | None = 0
    side_effects = False

    def add_llm(count: int | None) -> None:
        nonlocal llm_total
        llm_total = None if count is None or llm_total is None else llm_total + count

    for node_id, node in ir.nodes.items():
        seen = visits[node_id]
        payload = node.payload
        if isinstance(payload, LlmPayload):
            model = payload.model or default_model or "default"
            models.add(model)
            if payload.fallback_model:
                models.add(payload.fallback_model)
            calls.append({"node_id": node_id, "kind": "llm", "action": "llm_action", "model": model,
                          "side_effect": False})
            per_visit = _attempts(payload.retry, node.retry, default=ir.global_config.max_retries)
            add_llm(None if seen is None else seen * per_visit * (2 if payload.fallback_model else 1))
        elif isinstance(payload, ApprovalPayload):
            approvals.append({"node_id": node_id, "prompt": payload.prompt, "decision_type": payload.decision_type,
                              "options": list(payload.options), "approval_level": payload.approval_level,
                              "timeout_ms": payload.timeout_ms, "timeout_action": payload.timeout_action})
        elif isinstance(payload, SubflowPayload):
            calls.append({"node_id": node_id, "kind": "subflow", "action": "subflow",
                          "procedure_id": payload.procedure_id, "side_effect": True})
        for step, recovery in _steps(node):
            binding = step.binding
            side_effects = side_effects or binding.side_effect
            step_id = f"{step.step_id} (recovery)" if recovery else step.step_id
            if binding.kind == "internal" and binding.action != "http_request":
                continue
            kind = "http" if binding.kind == "internal" else binding.kind
            call: dict[str, Any] = {"node_id": node_id, "step_id": step_id, "kind": kind, "action": step.action,
                                    "channel": binding.channel, "server": binding.server,
                                    "side_effect": binding.side_effect}
            if binding.kind == "llm":
                model = str(step.params.get("model") or default_model or "default")
                models.add(model)
                call["model"] = model
                add_llm(None if seen is None else seen * _attempts(step.retry, node.retry,
                                                                   default=ir.global_config.max_retries))
            calls.append(call)

    variables = [{"name": v.name, "type": v.type, "required": v.required, "has_default": v.has_default,
                  "default": jsonable(v.default) if not v.sensitive else None, "description": v.description,
                  "sensitive": v.sensitive} for v in ir.variables]
    required = [v.name for v in ir.variables if v.required and not v.has_default]
    given = input_vars or {}
    graph_view = graph(ir)
    return {
        "procedure_id": ir.procedure_id, "version": ir.version, "ir_hash": ir.ir_hash, "start_node": ir.start_node,
        "nodes": [{"id": n["id"], "type": n["type"], "tier": n["tier"], "agent": n["agent"],
                   "description": ir.nodes[n["id"]].description, "max_visits": visits[n["id"]]}
                  for n in graph_view["nodes"]],
        "edges": graph_view["edges"],
        "external_calls": calls,
        "approvals": approvals,
        "variables": variables,
        "variables_required": required,
        "missing_inputs": [name for name in required if name not in given],
        "secrets": [{"name": s.name, "provider": s.provider, "key": s.key} for s in ir.secrets],
        "llm_models": sorted(models),
        "estimated_max_llm_calls": llm_total,
        "has_unbounded_cycles": bool(cyclic),
        "side_effects": side_effects or any(c["kind"] == "subflow" for c in calls),
        "trigger": jsonable(ir.trigger) if ir.trigger is not None else None,
        "execution_mode": ir.global_config.execution_mode,
        "warnings": [d.to_dict() for d in result.warnings],
    }
