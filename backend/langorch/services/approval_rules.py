"""Who may decide an approval: the node's ``approval_level`` and its named ``approvers`` and
``approver_groups`` narrow the approver role (403 otherwise)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from langorch.services.errors import Forbidden
from langorch.store.models import Approval, Procedure, Run

LEVELS = ("standard", "manager", "executive")
"""The ordered approval_level values, lowest first: a decider in group ``manager`` may decide
manager and standard gates, ``executive`` all three. Any other level (``legal_counsel``) needs
membership of the group of that name. An admin may decide any gate (break-glass; audited)."""


@dataclass(frozen=True)
class Decider:
    name: str
    names: frozenset[str]
    """Lower-cased names the node's ``approvers`` list may use: username and email."""
    groups: frozenset[str]
    is_admin: bool = False


@dataclass(frozen=True)
class GateRules:
    level: str | None
    approvers: frozenset[str]
    groups: frozenset[str]


def _node(document: Mapping[str, Any], node_id: str) -> Mapping[str, Any]:
    """The node's CKP object, in the native (``workflow_graph.nodes`` map) or list dialect."""
    graph = document.get("workflow_graph")
    nodes = graph.get("nodes") if isinstance(graph, Mapping) else document.get("nodes")
    candidates = [node_id, node_id.rsplit("/", 1)[-1], node_id.rsplit(".", 1)[-1]]
    if isinstance(nodes, Mapping):
        for name in candidates:
            if isinstance(nodes.get(name), Mapping):
                return nodes[name]  # type: ignore[no-any-return]
    if isinstance(nodes, list):
        for node in nodes:
            if isinstance(node, Mapping) and (node.get("node_id") or node.get("id")) in candidates:
                return node
    return {}


def _strings(value: Any) -> frozenset[str]:
    if isinstance(value, str):
        value = [value]
    return frozenset(str(v).strip().lower() for v in value or () if str(v).strip()) if isinstance(
        value, list | tuple) else frozenset()


async def gate_rules(session: AsyncSession, approval: Approval) -> GateRules:
    node: Mapping[str, Any] = {}
    run = await session.get(Run, approval.run_id)
    if run is not None and run.procedure_row_id:
        procedure = await session.get(Procedure, run.procedure_row_id)
        if procedure is not None and isinstance(procedure.ckp_json, Mapping):
            node = _node(procedure.ckp_json, approval.node_id)
    level = (approval.approval_level or str(node.get("approval_level") or "")).strip().lower() or None
    return GateRules(level=level, approvers=_strings(node.get("approvers")),
                     groups=_strings(node.get("approver_groups")))


def check(rules: GateRules, decider: Decider) -> None:
    if decider.is_admin:
        return
    groups = frozenset(g.lower() for g in decider.groups)
    if rules.approvers or rules.groups:
        named = bool(rules.approvers & decider.names)
        grouped = bool(rules.groups & groups)
        if not (named or grouped):
            allowed = sorted(rules.approvers) + [f"group {g}" for g in sorted(rules.groups)]
            raise Forbidden(f"{decider.name} may not decide this approval: it is for {', '.join(allowed)}",
                            details={"approvers": sorted(rules.approvers), "approver_groups": sorted(rules.groups)})
    if rules.level and rules.level != "standard":
        enough = LEVELS[LEVELS.index(rules.level):] if rules.level in LEVELS else (rules.level,)
        if not groups & set(enough):
            raise Forbidden(f"this approval needs the {rules.level} level; {decider.name} is in no group "
                            f"{' or '.join(repr(x) for x in enough)}", details={"approval_level": rules.level})
