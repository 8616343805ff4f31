"""Graph facts shared by the validator, the IR builder and the runtime.

:func:`node_edges` lists every edge a node declares (with the JSON Pointer suffix of the
field that declares it); :func:`regions` finds which nodes form a loop body or a
parallel branch, so the runtime knows where an iteration or a branch ends.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from langorch.ckp.nodes import (
    HumanApprovalNode,
    LogicNode,
    LoopNode,
    Node,
    ParallelNode,
    VerificationNode,
)


@dataclass(frozen=True, slots=True)
class Edge:
    source: str
    target: str
    kind: str
    """next, default, rule, approve, reject, timeout, pass, fail, body, branch, fallback, escalation."""
    field: tuple[str | int, ...]
    """Path of the declaring field inside the node, e.g. ("rules", 0, "next_node")."""
    label: str = ""


def node_edges(node_id: str, node: Node) -> list[Edge]:
    """Every edge ``node`` declares, in declaration order."""
    out: list[Edge] = []

    def add(target: str | None, kind: str, field: tuple[str | int, ...], label: str = "") -> None:
        if target:
            out.append(Edge(node_id, target, kind, field, label))

    if isinstance(node, LogicNode):
        for i, rule in enumerate(node.rules):
            add(rule.next_node, "rule", ("rules", i, "next_node"), rule.condition)
        add(node.default_next_node, "default", ("default_next_node",), "default")
    elif isinstance(node, HumanApprovalNode):
        add(node.on_approve, "approve", ("on_approve",), "approve")
        add(node.on_reject, "reject", ("on_reject",), "reject")
        add(node.on_timeout, "timeout", ("on_timeout",), "timeout")
    elif isinstance(node, VerificationNode):
        add(node.on_pass, "pass", ("on_pass",), "pass")
        add(node.on_fail, "fail", ("on_fail",), "fail")
    elif isinstance(node, LoopNode):
        add(node.body_node, "body", ("body_node",), "each")
    elif isinstance(node, ParallelNode):
        for i, branch in enumerate(node.branches):
            add(branch.start_node, "branch", ("branches", i, "start_node"), branch.branch_id)
    add(node.next_node, "next", ("next_node",), "")
    for i, handler in enumerate(node.error_handlers or []):
        add(handler.fallback_node, "fallback", ("error_handlers", i, "fallback_node"), "on error")
    if node.sla is not None:
        add(node.sla.escalation_handler, "escalation", ("sla", "escalation_handler"), "sla breach")
    return out


@dataclass(frozen=True, slots=True)
class Region:
    """A loop body or a parallel branch: the nodes between its entry and its exit."""

    owner: str
    """The loop or parallel node that owns the region."""
    kind: str
    """"loop" or "branch"."""
    branch_id: str
    entry: str
    nodes: frozenset[str]
    exit_target: str | None
    """The node after the region (loop: the loop node itself; branch: the join target)."""


def regions(nodes: Mapping[str, Node]) -> list[Region]:
    """Loop bodies and parallel branches, each as the set of nodes it contains.

    A region is every node reachable from its entry without passing the region's exit
    (the loop node for a loop body, the parallel node's ``next_node`` for a branch) or
    entering a terminate node's successors. Error fallbacks are not followed.
    """
    out: list[Region] = []
    for owner, node in nodes.items():
        if isinstance(node, LoopNode):
            stop = {owner}
            if node.next_node:
                stop.add(node.next_node)
            out.append(Region(owner, "loop", "", node.body_node,
                              _reach(nodes, node.body_node, stop), owner))
        elif isinstance(node, ParallelNode):
            stop = {owner}
            if node.next_node:
                stop.add(node.next_node)
            for branch in node.branches:
                out.append(Region(owner, "branch", branch.branch_id, branch.start_node,
                                  _reach(nodes, branch.start_node, stop), node.next_node))
    return out


def innermost_regions(nodes: Mapping[str, Node], found: Iterable[Region]) -> dict[str, Region]:
    """For each node, the smallest region that contains it (nodes in none are absent)."""
    best: dict[str, Region] = {}
    for region in sorted(found, key=lambda r: len(r.nodes), reverse=True):
        for node_id in region.nodes:
            best[node_id] = region
    return best


def _reach(nodes: Mapping[str, Node], start: str, stop: set[str]) -> frozenset[str]:
    seen: set[str] = set()
    todo = [start]
    while todo:
        current = todo.pop()
        if current in seen or current in stop or current not in nodes:
            continue
        seen.add(current)
        for edge in node_edges(current, nodes[current]):
            if edge.kind not in ("fallback", "escalation"):
                todo.append(edge.target)
    return frozenset(seen)
