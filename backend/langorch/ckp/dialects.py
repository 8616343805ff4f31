"""Older CKP shapes found in real files, rewritten to the canonical shape.

Two dialects are accepted besides canonical CKP:

* *list-of-nodes*: ``{"id", "version": 1, "entry", "nodes": [{"id", "type", ...}]}``
  with logic ``branches: [{condition, next}]``;
* *step-graph*: ``{"procedure_version", "start_node_id", "nodes": [{"node_id",
  "node_type": "step"|"end", "steps": [{"executor_id", "parameters"}],
  "transitions": [{"condition": "always", "target_node_id"}]}]}``.

The rewrite happens once, before validation, and is reported as a warning so the
author knows later pointers refer to the canonical form.
"""

from __future__ import annotations

import itertools
from typing import Any

from langorch.ckp.diagnostics import Code, Diagnostic, warning

_NODE_TYPE_ALIASES = {"step": "sequence", "end": "terminate", "decision": "logic",
                      "approval": "human_approval", "llm": "llm_action"}


class KeyedObject(dict[str, Any]):
    """A JSON object that had duplicate keys; ``duplicates`` names them (last one wins)."""

    duplicates: tuple[str, ...] = ()


def normalize_dialect(data: dict[str, Any], diagnostics: list[Diagnostic]) -> dict[str, Any]:
    """Return ``data`` in canonical shape (a new dict when anything was rewritten)."""
    if "workflow_graph" in data or not isinstance(data.get("nodes"), list | dict):
        return data
    out = {k: v for k, v in data.items() if k not in {"nodes", "entry", "start_node_id", "id",
                                                       "procedure_version", "start_node"}}
    if "procedure_id" not in data and isinstance(data.get("id"), str):
        out["procedure_id"] = data["id"]
    elif "procedure_id" in data:
        out["procedure_id"] = data["procedure_id"]
    version = data.get("version", data.get("procedure_version"))
    if isinstance(version, int | float) and not isinstance(version, bool):
        version = str(version)
    if version is not None:
        out["version"] = version
    start = data.get("start_node", data.get("entry", data.get("start_node_id")))
    nodes_in = data["nodes"]
    nodes: dict[str, Any] = {}
    duplicates: list[str] = list(getattr(nodes_in, "duplicates", ()))
    items = nodes_in.items() if isinstance(nodes_in, dict) else enumerate(nodes_in)
    for key, raw in items:
        if not isinstance(raw, dict):
            nodes[str(key)] = raw
            continue
        node_id = str(raw.get("id", raw.get("node_id", key)))
        if node_id in nodes:
            duplicates.append(node_id)
        nodes[node_id] = _node(raw)
    if duplicates:
        nodes = KeyedObject(nodes)
        nodes.duplicates = tuple(duplicates)
    _implicit_order(nodes)
    if start is None and nodes:
        start = next(iter(nodes))
    out["workflow_graph"] = {"start_node": start, "nodes": nodes}
    diagnostics.append(warning(
        Code.LEGACY_DIALECT, "",
        "document uses an older CKP shape (node list); it was read as canonical CKP and "
        "later pointers refer to /workflow_graph/nodes/<id>",
        "save it back in canonical form (langorch compile --canonical)"))
    return out


def _implicit_order(nodes: dict[str, Any]) -> None:
    """In a node list, a node without any edge continues with the next node of the list,
    unless that node is the target of an explicit edge (a branch destination)."""
    targets: set[str] = set()
    for node in nodes.values():
        if not isinstance(node, dict):
            continue
        for key in ("next_node", "default_next_node", "on_approve", "on_reject", "on_timeout", "body_node"):
            if isinstance(node.get(key), str):
                targets.add(node[key])
        for rule in node.get("rules") or []:
            if isinstance(rule, dict) and isinstance(rule.get("next_node"), str):
                targets.add(rule["next_node"])
    ids = list(nodes)
    for here, following in itertools.pairwise(ids):
        node = nodes[here]
        if not isinstance(node, dict) or node.get("type") in ("logic", "terminate", "human_approval"):
            continue
        if "next_node" in node or "transitions" in node or following in targets:
            continue
        node["next_node"] = following


def _node(raw: dict[str, Any]) -> dict[str, Any]:
    node = {k: v for k, v in raw.items() if k not in {"id", "node_id", "node_type", "transitions",
                                                       "terminal_status"}}
    kind = raw.get("type", raw.get("node_type"))
    if isinstance(kind, str):
        node["type"] = _NODE_TYPE_ALIASES.get(kind, kind)
    if "terminal_status" in raw and "status" not in node:
        node["status"] = raw["terminal_status"]
    if node.get("type") == "logic" and "branches" in node and "rules" not in node:
        rules = []
        for branch in node.pop("branches") or []:
            if isinstance(branch, dict):
                rule = {k: v for k, v in branch.items() if k != "next"}
                if "next" in branch:
                    rule["next_node"] = branch["next"]
                rules.append(rule)
            else:
                rules.append(branch)
        node["rules"] = rules
    if isinstance(node.get("steps"), list):
        node["steps"] = [_step(s) for s in node["steps"]]
    transitions = raw.get("transitions")
    if isinstance(transitions, list) and transitions:
        targets = [t.get("target_node_id", t.get("next")) for t in transitions if isinstance(t, dict)]
        always = all(isinstance(t, dict) and t.get("condition", "always") in ("always", "true", True)
                     for t in transitions)
        if always and len(targets) == 1 and "next_node" not in node:
            node["next_node"] = targets[0]
        else:
            node["transitions"] = transitions
    return node


def _step(raw: Any) -> Any:
    if not isinstance(raw, dict):
        return raw
    step = dict(raw)
    if "action" not in step and isinstance(step.get("executor_id"), str):
        step["action"] = step.pop("executor_id")
    return step
