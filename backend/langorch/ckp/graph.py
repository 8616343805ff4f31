"""Graph facts shared by the validator, the IR builder and the runtime.

:func:`node_edges` lists every edge a node declares (with the JSON Pointer suffix of the
field that declares it); :func:`regions` finds which nodes form a loop body or a
parallel branch, so the runtime knows where an iteration or a branch ends;
:func:`analyze` computes both once per compile. The plain graph algorithms the validator
needs (reachability, a cycle test, strongly connected components) are at the end, all
iterative: procedures may have thousands of nodes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import NamedTuple

from langorch.ckp.nodes import (
    HumanApprovalNode,
    LogicNode,
    LoopNode,
    Node,
    ParallelNode,
    VerificationNode,
)

SIDE_EDGES = frozenset({"fallback", "escalation"})
"""Edge kinds taken only on failure or SLA breach: not part of the normal flow."""


class Edge(NamedTuple):
    """One edge a node declares. A named tuple: procedures have thousands of them."""

    source: str
    target: str
    kind: str
    """next, default, rule, approve, reject, timeout, pass, fail, body, branch, fallback, escalation,
    or implicit (the end of a loop body or branch, added by the validator)."""
    field: tuple[str | int, ...]
    """Path of the declaring field inside the node, e.g. ("rules", 0, "next_node")."""
    label: str = ""


_NEXT_FIELD = ("next_node",)


def node_edges(node_id: str, node: Node) -> list[Edge]:
    """Every edge ``node`` declares, in declaration order."""
    out: list[Edge] = []
    if isinstance(node, LogicNode):
        for i, rule in enumerate(node.rules):
            if rule.next_node:
                out.append(Edge(node_id, rule.next_node, "rule", ("rules", i, "next_node"), rule.condition))
        if node.default_next_node:
            out.append(Edge(node_id, node.default_next_node, "default", ("default_next_node",), "default"))
    elif isinstance(node, HumanApprovalNode):
        for target, kind, name in ((node.on_approve, "approve", "on_approve"),
                                   (node.on_reject, "reject", "on_reject"),
                                   (node.on_timeout, "timeout", "on_timeout")):
            if target:
                out.append(Edge(node_id, target, kind, (name,), kind))
    elif isinstance(node, VerificationNode):
        if node.on_pass:
            out.append(Edge(node_id, node.on_pass, "pass", ("on_pass",), "pass"))
        if node.on_fail:
            out.append(Edge(node_id, node.on_fail, "fail", ("on_fail",), "fail"))
    elif isinstance(node, LoopNode):
        if node.body_node:
            out.append(Edge(node_id, node.body_node, "body", ("body_node",), "each"))
    elif isinstance(node, ParallelNode):
        for i, branch in enumerate(node.branches):
            if branch.start_node:
                out.append(Edge(node_id, branch.start_node, "branch", ("branches", i, "start_node"),
                                branch.branch_id))
    if node.next_node:
        out.append(Edge(node_id, node.next_node, "next", _NEXT_FIELD))
    if node.error_handlers:
        for i, handler in enumerate(node.error_handlers):
            if handler.fallback_node:
                out.append(Edge(node_id, handler.fallback_node, "fallback",
                                ("error_handlers", i, "fallback_node"), "on error"))
    if node.sla is not None and node.sla.escalation_handler:
        out.append(Edge(node_id, node.sla.escalation_handler, "escalation", ("sla", "escalation_handler"),
                        "sla breach"))
    return out


class Region(NamedTuple):
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


class GraphFacts(NamedTuple):
    """What the validator and the binder both need, computed once per compile."""

    edges: dict[str, list[Edge]]
    """:func:`node_edges` of every node."""
    regions: list[Region]
    inner: dict[str, Region]
    """:func:`innermost_regions`."""


def analyze(nodes: Mapping[str, Node]) -> GraphFacts:
    """Edges and regions of ``nodes``."""
    edges = edge_map(nodes)
    found = regions(nodes, edges)
    return GraphFacts(edges, found, innermost_regions(nodes, found))


def edge_map(nodes: Mapping[str, Node]) -> dict[str, list[Edge]]:
    """:func:`node_edges` of every node, computed once."""
    return {node_id: node_edges(node_id, node) for node_id, node in nodes.items()}


def regions(nodes: Mapping[str, Node], edges: Mapping[str, list[Edge]] | None = None) -> list[Region]:
    """Loop bodies and parallel branches, each as the set of nodes it contains.

    A region is every node reachable from its entry without passing the region's exit
    (the loop node for a loop body, the parallel node's ``next_node`` for a branch) or
    entering a terminate node's successors. Error fallbacks are not followed.
    ``edges`` is :func:`edge_map` of ``nodes`` when the caller already has it.
    """
    out: list[Region] = []
    if not any(isinstance(node, LoopNode | ParallelNode) for node in nodes.values()):
        return out
    if edges is None:
        edges = edge_map(nodes)
    for owner, node in nodes.items():
        if isinstance(node, LoopNode):
            stop = {owner}
            if node.next_node:
                stop.add(node.next_node)
            out.append(Region(owner, "loop", "", node.body_node,
                              _reach(edges, node.body_node, stop), owner))
        elif isinstance(node, ParallelNode):
            stop = {owner}
            if node.next_node:
                stop.add(node.next_node)
            for branch in node.branches:
                out.append(Region(owner, "branch", branch.branch_id, branch.start_node,
                                  _reach(edges, branch.start_node, stop), node.next_node))
    return out


def innermost_regions(nodes: Mapping[str, Node], found: Iterable[Region]) -> dict[str, Region]:
    """For each node, the smallest region that contains it (nodes in none are absent)."""
    best: dict[str, Region] = {}
    for region in sorted(found, key=lambda r: len(r.nodes), reverse=True):
        for node_id in region.nodes:
            best[node_id] = region
    return best


def _reach(edges: Mapping[str, list[Edge]], start: str, stop: set[str]) -> frozenset[str]:
    seen: set[str] = set()
    todo = [start]
    while todo:
        current = todo.pop()
        if current in seen or current in stop or current not in edges:
            continue
        seen.add(current)
        for edge in edges[current]:
            if edge.kind not in SIDE_EDGES:
                todo.append(edge.target)
    return frozenset(seen)


# ----------------------------------------------------------------------------- algorithms
def is_acyclic(nodes: Iterable[str], succ: Mapping[str, set[str]]) -> bool:
    """Kahn's algorithm: True when the graph has no cycle (the common case, checked fast)."""
    indegree = dict.fromkeys(nodes, 0)
    for targets in succ.values():
        for t in targets:
            if t in indegree:
                indegree[t] += 1
    ready = [n for n, d in indegree.items() if d == 0]
    seen = 0
    while ready:
        current = ready.pop()
        seen += 1
        for t in succ.get(current, ()):
            if t in indegree:
                indegree[t] -= 1
                if indegree[t] == 0:
                    ready.append(t)
    return seen == len(indegree)


def reachable(roots: Iterable[str], succ: Mapping[str, set[str]]) -> set[str]:
    """Every node reachable from ``roots`` (included) along ``succ``."""
    seen: set[str] = set()
    todo = list(roots)
    while todo:
        n = todo.pop()
        if n in seen:
            continue
        seen.add(n)
        todo.extend(succ.get(n, ()))
    return seen


def strongly_connected(nodes: list[str], succ: Mapping[str, set[str]]) -> list[set[str]]:
    """Tarjan's algorithm, iterative (procedures may have thousands of nodes)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    out: list[set[str]] = []
    counter = 0
    for root in nodes:
        if root in index:
            continue
        work: list[tuple[str, Iterable[str]]] = [(root, iter(sorted(succ.get(root, ()))))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            advanced = False
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(succ.get(child, ())))))
                    advanced = True
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component: set[str] = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                out.append(component)
    return out
