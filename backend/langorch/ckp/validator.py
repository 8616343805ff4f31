"""Validator: every problem of a parsed CKP document at once, as diagnostics.

Graph checks (start node, dangling edges, duplicates, reachability, cycles with no
exit, dead ends), data flow (a ``{{var}}`` read where no path has defined it yet),
expression and template syntax, cron and regex syntax, node payload rules, policy
sanity and subflow recursion.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from langorch.ckp import catalog
from langorch.ckp.cron import cron_problem
from langorch.ckp.diagnostics import Code, Diagnostic, error, pointer, warning
from langorch.ckp.expressions import ExpressionSyntaxError, expression_references, parse_expression
from langorch.ckp.graph import Edge, innermost_regions, node_edges, regions
from langorch.ckp.models import declared_variables
from langorch.ckp.nodes import (
    HumanApprovalNode,
    LlmActionNode,
    LogicNode,
    LoopNode,
    Node,
    ParallelNode,
    ProcessingNode,
    Procedure,
    SequenceNode,
    SubflowNode,
    TerminateNode,
    TransformNode,
    VerificationNode,
)
from langorch.ckp.templates import TemplateSyntaxProblem, iter_strings, template_references

SubflowResolver = Callable[[str, str | None], Mapping[str, Any] | None]
"""Returns the raw CKP document of a procedure (id, optional version), or None."""

Path = tuple[str | int, ...]

# Keys whose string values are names, ids or mapping specs rather than templates.
_NOT_TEMPLATES = frozenset({
    "description", "type", "agent", "next_node", "default_next_node", "on_approve", "on_reject",
    "on_timeout", "on_pass", "on_fail", "body_node", "start_node", "branch_id", "fallback_node",
    "escalation_handler", "step_id", "action", "output_variable", "variable", "array", "iterator",
    "iterator_variable", "index_variable", "collect_variable", "source_variable", "procedure_id",
    "id", "condition", "expression", "check", "level", "error_type", "pattern", "on_failure",
    "decision_type", "timeout_action", "approval_level", "decision_variable", "strategy",
    "wait_strategy", "branch_failure", "status", "model", "fallback_model", "target_type", "algorithm",
    "recovery_strategy", "on_breach", "output_schema", "schema", "error_text_contains", "message_template",
})
_SIMPLE_REF = re.compile(r"\{\{\s*([A-Za-z_]\w*)((?:\.[A-Za-z_]\w*|\[\d+\])*)\s*\}\}")
_ANY_TEMPLATE = re.compile(r"\{\{|\{%")


def validate(
    procedure: Procedure,
    raw: Mapping[str, Any],
    invalid_nodes: Iterable[str] = (),
    resolver: SubflowResolver | None = None,
) -> list[Diagnostic]:
    """Return every diagnostic for a parsed procedure (the parser's are not repeated)."""
    return _Validator(procedure, raw, set(invalid_nodes), resolver).run()


class _Validator:
    def __init__(self, procedure: Procedure, raw: Mapping[str, Any], invalid: set[str],
                 resolver: SubflowResolver | None) -> None:
        self.p = procedure
        self.raw = raw
        self.nodes = procedure.workflow_graph.nodes
        self.invalid = invalid
        self.known = set(self.nodes) | invalid
        self.resolver = resolver
        self.out: list[Diagnostic] = []
        self.regions = regions(self.nodes)
        self.inner = innermost_regions(self.nodes, self.regions)
        graph = raw.get("workflow_graph")
        nodes_raw = graph.get("nodes") if isinstance(graph, Mapping) else None
        self.raw_nodes: Mapping[str, Any] = nodes_raw if isinstance(nodes_raw, Mapping) else {}

    def run(self) -> list[Diagnostic]:
        self._start()
        edges = self._edges()
        self._duplicates()
        if self.p.workflow_graph.start_node in self.nodes:
            self._reachability(edges)
            self._cycles(edges)
        self._dead_ends(edges)
        self._payloads()
        self._trigger()
        self._variables_schema()
        self._dataflow(edges)
        self._subflows()
        return self.out

    # ------------------------------------------------------------------ graph
    def _start(self) -> None:
        start = self.p.workflow_graph.start_node
        if not self.known:
            self.out.append(error(Code.EMPTY_GRAPH, "/workflow_graph/nodes", "the procedure has no nodes",
                                  "add at least one node and a terminate node"))
        if not start:
            self.out.append(error(Code.MISSING_START_NODE, "/workflow_graph/start_node",
                                  "workflow_graph.start_node is missing",
                                  "set start_node to the id of the first node"))
        elif start not in self.known:
            self.out.append(error(Code.UNKNOWN_START_NODE, "/workflow_graph/start_node",
                                  f"start_node {start!r} is not a node of this procedure",
                                  _suggest(start, self.known)))

    def _edges(self) -> list[Edge]:
        edges: list[Edge] = []
        for node_id, node in self.nodes.items():
            for edge in node_edges(node_id, node):
                if edge.target in self.known:
                    edges.append(edge)
                else:
                    self.out.append(error(
                        Code.DANGLING_EDGE, pointer("workflow_graph", "nodes", node_id, *edge.field),
                        f"{edge.field[-1]} points at {edge.target!r}, which is not a node",
                        _suggest(edge.target, self.known)))
        on_failure = self.p.global_config.on_failure if self.p.global_config else None
        if on_failure and on_failure not in self.known:
            self.out.append(error(Code.DANGLING_EDGE, "/global_config/on_failure",
                                  f"on_failure points at {on_failure!r}, which is not a node",
                                  _suggest(on_failure, self.known)))
        # Implicit edges: the end of a loop body returns to the loop, the end of a
        # branch goes to the join.
        for node_id, node in self.nodes.items():
            region = self.inner.get(node_id)
            if region is None or isinstance(node, TerminateNode):
                continue
            flow = [e for e in node_edges(node_id, node) if e.kind not in ("fallback", "escalation")]
            if not flow and region.exit_target:
                edges.append(Edge(node_id, region.exit_target, "implicit", ()))
        return edges

    def _duplicates(self) -> None:
        for node_id in getattr(self.raw_nodes, "duplicates", ()):
            self.out.append(error(Code.DUPLICATE_NODE_ID, pointer("workflow_graph", "nodes", node_id),
                                  f"node id {node_id!r} is defined more than once; only the last is kept",
                                  "give each node a unique id"))
        for node_id, node in self.nodes.items():
            steps = node.steps if isinstance(node, SequenceNode) else []
            seen: set[str] = set()
            for i, step in enumerate(steps):
                if step.step_id is None:
                    continue
                if step.step_id in seen:
                    self.out.append(error(
                        Code.DUPLICATE_STEP_ID, pointer("workflow_graph", "nodes", node_id, "steps", i, "step_id"),
                        f"step id {step.step_id!r} is used twice in node {node_id!r}",
                        "step ids key idempotency records; make them unique within the node"))
                seen.add(step.step_id)

    def _reachability(self, edges: list[Edge]) -> None:
        start = self.p.workflow_graph.start_node or ""
        roots = [start]
        on_failure = self.p.global_config.on_failure if self.p.global_config else None
        if on_failure:
            roots.append(on_failure)
        succ = _successors(edges)
        seen = _reach(roots, succ)
        for node_id in self.nodes:
            if node_id not in seen:
                self.out.append(warning(Code.UNREACHABLE_NODE, pointer("workflow_graph", "nodes", node_id),
                                        f"node {node_id!r} can never run: no path from {start!r} reaches it",
                                        "link it from another node or remove it"))

    def _cycles(self, edges: list[Edge]) -> None:
        succ = _successors([e for e in edges if e.kind not in ("fallback", "escalation")])
        for component in _strongly_connected(list(self.nodes), succ):
            if len(component) == 1:
                only = next(iter(component))
                if only not in succ.get(only, ()):
                    continue
            exits = any(t not in component for n in component for t in succ.get(n, ()))
            ends = any(isinstance(self.nodes.get(n), TerminateNode) for n in component)
            if not exits and not ends:
                first = sorted(component)[0]
                self.out.append(error(
                    Code.CYCLE_WITHOUT_EXIT, pointer("workflow_graph", "nodes", first),
                    f"nodes {', '.join(sorted(component))} form a cycle with no way out",
                    "add a logic rule, loop or approval route that leaves the cycle"))

    def _dead_ends(self, edges: list[Edge]) -> None:
        has_out = {e.source for e in edges if e.kind not in ("fallback", "escalation")}
        for node_id, node in self.nodes.items():
            if not isinstance(node, TerminateNode) and node_id not in has_out:
                self.out.append(warning(
                    Code.NO_OUTGOING_EDGE, pointer("workflow_graph", "nodes", node_id),
                    f"node {node_id!r} is not a terminate node and has no next node; the run ends "
                    "there as completed", "add next_node, or end with a terminate node"))

    # ------------------------------------------------------------------ payloads
    def _payloads(self) -> None:
        for node_id, node in self.nodes.items():
            base: Path = ("workflow_graph", "nodes", node_id)
            if isinstance(node, LlmActionNode) and not (node.prompt or "").strip():
                self.out.append(error(Code.LLM_WITHOUT_PROMPT, pointer(*base, "prompt"),
                                      "llm_action has no prompt", "add a prompt (it may use {{variables}})"))
            elif isinstance(node, HumanApprovalNode):
                for name in ("on_approve", "on_reject"):
                    if not getattr(node, name):
                        self.out.append(error(Code.APPROVAL_WITHOUT_ROUTE, pointer(*base, name),
                                              f"human_approval has no {name}",
                                              f"set {name} to the node that follows that decision"))
                if node.decision_type == "select_option" and not node.options:
                    self.out.append(error(Code.OPTIONS_REQUIRED, pointer(*base, "options"),
                                          "select_option needs a list of options", "add options: [...]"))
            elif isinstance(node, SequenceNode) and not node.steps:
                self.out.append(warning(Code.EMPTY_STEPS, pointer(*base, "steps"), "sequence has no steps"))
            elif isinstance(node, ProcessingNode):
                for i, op in enumerate(node.operations):
                    self._operation(op.action, op.pattern, (*base, "operations", i))
            elif isinstance(node, TerminateNode):
                for key in ("cleanup_actions", "error_actions"):
                    for i, op in enumerate(getattr(node, key) or []):
                        if not _is_step_action(op.action):
                            self._operation(op.action, op.pattern, (*base, key, i))
            elif isinstance(node, TransformNode):
                for i, t in enumerate(node.transformations):
                    if t.type == "pivot" and not (t.params or {}).get("index"):
                        self.out.append(error(Code.INVALID_VALUE, pointer(*base, "transformations", i, "params"),
                                              "pivot needs params.index", "add params: {index, columns, values}"))
            elif isinstance(node, LoopNode):
                if not node.iterator and not node.condition:
                    self.out.append(error(Code.MISSING_FIELD, pointer(*base, "iterator"),
                                          "loop needs an iterator (array variable) or a condition",
                                          "set iterator to the name of an array variable"))
            elif isinstance(node, ParallelNode) and not node.branches:
                self.out.append(error(Code.MISSING_FIELD, pointer(*base, "branches"),
                                      "parallel node has no branches"))
            self._policies(node_id, node, base)

    def _operation(self, action: str, pattern: str | None, path: Path) -> None:
        if action in catalog.UNSUPPORTED_OPERATIONS:
            self.out.append(warning(Code.UNKNOWN_OPERATION, pointer(*path, "action"),
                                    f"operation {action!r} is not supported and fails at run time",
                                    "encrypt with an agent or an MCP tool instead"))
        elif action not in catalog.OPERATIONS:
            self.out.append(error(Code.UNKNOWN_OPERATION, pointer(*path, "action"),
                                  f"unknown operation {action!r}",
                                  "use one of: " + ", ".join(sorted(catalog.OPERATIONS))))
        if action == "extract_regex" and pattern is not None:
            self._regex(pattern, pointer(*path, "pattern"))

    def _policies(self, node_id: str, node: Node, base: Path) -> None:
        for i, h in enumerate(node.error_handlers or []):
            p = h.retry_policy
            if p and p.base_delay_ms is not None and p.max_delay_ms is not None and p.max_delay_ms < p.base_delay_ms:
                self.out.append(error(Code.BAD_POLICY, pointer(*base, "error_handlers", i, "retry_policy"),
                                      "max_delay_ms is smaller than base_delay_ms",
                                      "raise max_delay_ms or lower base_delay_ms"))
            wants_fallback = h.action == "fallback_node" or h.recovery_strategy == "fallback_node"
            if wants_fallback and not h.fallback_node:
                self.out.append(error(Code.BAD_POLICY, pointer(*base, "error_handlers", i),
                                      "fallback recovery without fallback_node", "set fallback_node"))
        if node.sla and node.sla.on_breach == "escalate" and not node.sla.escalation_handler:
            self.out.append(warning(Code.BAD_POLICY, pointer(*base, "sla"),
                                    "sla escalates on breach but names no escalation_handler; "
                                    "the breach is recorded as an event only",
                                    "set sla.escalation_handler to a node id"))

    def _trigger(self) -> None:
        t = self.p.trigger
        if t is None:
            return
        if t.schedule:
            problem = cron_problem(t.schedule)
            if problem:
                self.out.append(error(Code.INVALID_CRON, "/trigger/schedule", f"invalid cron: {problem}",
                                      "use five fields: minute hour day-of-month month day-of-week"))
        elif t.type == "scheduled":
            self.out.append(error(Code.MISSING_FIELD, "/trigger/schedule",
                                  "a scheduled trigger needs a schedule", "e.g. \"0 9 * * 1-5\""))

    def _variables_schema(self) -> None:
        schema = self.raw.get("variables_schema")
        if not isinstance(schema, Mapping):
            return
        split = set(schema) <= {"required", "optional"} and bool(schema)
        groups = [(g, schema.get(g)) for g in ("required", "optional")] if split else [(None, schema)]
        for group, specs in groups:
            if not isinstance(specs, Mapping):
                continue
            for name, spec in specs.items():
                validation = spec.get("validation") if isinstance(spec, Mapping) else None
                regex = validation.get("regex") if isinstance(validation, Mapping) else None
                if isinstance(regex, str):
                    path = ("variables_schema", *((group,) if group else ()), name, "validation", "regex")
                    self._regex(regex, pointer(*path))

    def _regex(self, pattern: str, path: str) -> None:
        if "{{" in pattern:
            return
        try:
            re.compile(pattern)
        except re.error as exc:
            self.out.append(error(Code.INVALID_REGEX, path, f"invalid regular expression: {exc}",
                                  "escape special characters such as ( [ . with a backslash"))

    # ------------------------------------------------------------------ data flow
    def _dataflow(self, edges: list[Edge]) -> None:
        declared = set(declared_variables(self.p.variables_schema))
        lenient = self.p.variables_schema is None
        gen = {n: _generated(node) for n, node in self.nodes.items()}
        preds: dict[str, list[str]] = {n: [] for n in self.nodes}
        for e in edges:
            if e.target in preds:
                preds[e.target].append(e.source)
        start = self.p.workflow_graph.start_node
        entry = frozenset(declared | catalog.BUILTIN_VARIABLES)
        defined_in: dict[str, frozenset[str]] = {}
        succ = _successors(edges)
        work = deque(self.nodes)
        out_sets: dict[str, frozenset[str]] = {}
        while work:
            node_id = work.popleft()
            incoming: set[str] = set()
            if node_id == start or not preds[node_id]:
                incoming |= entry
            for p in preds[node_id]:
                incoming |= out_sets.get(p, frozenset())
            new_in = frozenset(incoming | entry)
            new_out = new_in | gen[node_id]
            if out_sets.get(node_id) != new_out or node_id not in defined_in:
                defined_in[node_id] = new_in
                out_sets[node_id] = new_out
                work.extend(t for t in succ.get(node_id, ()) if t in self.nodes)
        for node_id, node in self.nodes.items():
            self._check_node_refs(node_id, node, defined_in.get(node_id, entry), lenient)

    def _check_node_refs(self, node_id: str, node: Node, defined: frozenset[str], lenient: bool) -> None:
        base: Path = ("workflow_graph", "nodes", node_id)
        raw = self.raw_nodes.get(node_id)
        if not isinstance(raw, Mapping):
            return
        known = set(defined)
        if isinstance(node, LoopNode):
            known |= {v for v in (node.iterator_variable, node.index_variable) if v}
        if isinstance(node, SequenceNode):
            for i, step in enumerate(node.steps):
                self._refs_in(raw["steps"][i], (*base, "steps", i), known, lenient)
                if step.output_variable:
                    known.add(step.output_variable)
            rest = {k: v for k, v in raw.items() if k != "steps"}
            self._refs_in(rest, base, known, lenient)
            for i, check in enumerate(node.validations or []):
                if check.condition:
                    self._condition(check.condition, (*base, "validations", i, "condition"), known, lenient)
            return
        if isinstance(node, ProcessingNode):
            for i, op in enumerate(node.operations):
                path = (*base, "operations", i)
                self._refs_in(raw["operations"][i], path, known, lenient)
                if op.action == "calculate" and op.expression:
                    self._condition(op.expression, (*path, "expression"), known, lenient)
                for name in (op.output_variable, op.variable, op.array):
                    if name:
                        known.add(name)
            return
        skip_outputs = isinstance(node, LlmActionNode | SubflowNode)
        rest = {k: v for k, v in raw.items()
                if not (skip_outputs and k in ("outputs", "output_mapping"))}
        self._refs_in(rest, base, known, lenient)
        if isinstance(node, LogicNode):
            for i, rule in enumerate(node.rules):
                self._condition(rule.condition, (*base, "rules", i, "condition"), known, lenient)
        elif isinstance(node, VerificationNode):
            for i, check in enumerate(node.checks):
                self._condition(check.condition, (*base, "checks", i, "condition"), known, lenient)
        elif isinstance(node, LoopNode):
            if node.condition:
                self._condition(node.condition, (*base, "condition"), known, lenient)
            if node.iterator:
                self._name(node.iterator.strip("{} "), (*base, "iterator"), known, lenient)
        elif isinstance(node, TransformNode):
            for i, t in enumerate(node.transformations):
                self._name(t.source_variable.strip("{} "), (*base, "transformations", i, "source_variable"),
                           known, lenient)
                known.add(t.output_variable)

    def _refs_in(self, value: Any, base: Path, known: set[str], lenient: bool) -> None:
        for path, text in iter_strings(value, base):
            if path and path[-1] in _NOT_TEMPLATES or not _ANY_TEMPLATE.search(text):
                continue
            roots = _simple_roots(text)
            if roots is None:
                try:
                    roots = [str(ref[0]) for ref in template_references(text)]
                except TemplateSyntaxProblem as exc:
                    self.out.append(error(Code.TEMPLATE_SYNTAX, pointer(*path),
                                          f"template syntax error: {exc.message}",
                                          "templates look like {{variable}} or {{variable.field}}"))
                    continue
            for root in roots:
                self._name(root, path, known, lenient)

    def _condition(self, text: str, path: Path, known: set[str], lenient: bool) -> None:
        try:
            expr = parse_expression(text)
        except ExpressionSyntaxError as exc:
            self.out.append(error(Code.CONDITION_SYNTAX, pointer(*path), f"condition syntax error: {exc}",
                                  "e.g. {{amount}} > 1000 and {{status}} == 'open'"))
            return
        for ref in expression_references(expr):
            self._name(str(ref[0]), path, known, lenient)

    def _name(self, root: str, path: Path, known: set[str], lenient: bool) -> None:
        if root in known or root in catalog.BUILTIN_VARIABLES:
            return
        if lenient:
            self.out.append(warning(Code.UNDECLARED_VARIABLE, pointer(*path),
                                    f"variable {root!r} is not declared (the procedure has no variables_schema)",
                                    "declare it in variables_schema"))
        else:
            self.out.append(error(Code.UNDEFINED_VARIABLE, pointer(*path),
                                  f"variable {root!r} is used here but no path defines it before this point",
                                  "declare it in variables_schema or set it in an earlier node"))

    # ------------------------------------------------------------------ subflows
    def _subflows(self) -> None:
        me = self.p.procedure_id
        for node_id, node in self.nodes.items():
            if not isinstance(node, SubflowNode):
                continue
            path = pointer("workflow_graph", "nodes", node_id, "procedure_id")
            if node.procedure_id == me:
                self.out.append(error(Code.SUBFLOW_RECURSION, path,
                                      f"subflow calls its own procedure {me!r}",
                                      "use a loop node for repetition"))
                continue
            if self.resolver is None:
                continue
            chain = self._cycle_through(node.procedure_id, node.version, [me])
            if chain is None:
                if self.resolver(node.procedure_id, node.version) is None:
                    self.out.append(warning(Code.UNRESOLVED_SUBFLOW, path,
                                            f"procedure {node.procedure_id!r} was not found",
                                            "import it before running this procedure"))
            else:
                self.out.append(error(Code.SUBFLOW_RECURSION, path,
                                      "subflows call each other in a cycle: " + " → ".join(chain),
                                      "break the cycle; subflows must form a tree"))

    def _cycle_through(self, proc_id: str, version: str | None, stack: list[str]) -> list[str] | None:
        if proc_id in stack:
            return [*stack, proc_id]
        if len(stack) > 32 or self.resolver is None:
            return None
        doc = self.resolver(proc_id, version)
        if not isinstance(doc, Mapping):
            return None
        graph = doc.get("workflow_graph")
        nodes = graph.get("nodes") if isinstance(graph, Mapping) else None
        for child in (nodes or {}).values() if isinstance(nodes, Mapping) else ():
            if isinstance(child, Mapping) and child.get("type") == "subflow":
                found = self._cycle_through(str(child.get("procedure_id")), child.get("version"),
                                            [*stack, proc_id])
                if found:
                    return found
        return None


# ----------------------------------------------------------------------------- helpers
def _generated(node: Node) -> frozenset[str]:
    names: set[str | None] = set()
    if not isinstance(node, TerminateNode):
        names |= set(node.outputs or {})
    if isinstance(node, SequenceNode):
        for step in node.steps:
            names.add(step.output_variable)
            if step.action == "set_variable":
                names.add(step.variable)
    elif isinstance(node, ProcessingNode):
        for op in node.operations:
            names |= {op.output_variable, op.variable, op.array}
    elif isinstance(node, LlmActionNode):
        names |= set(node.outputs or {})
        names.add(node.output_variable)
        if not node.outputs and not node.output_variable:
            names.add("llm_response")
    elif isinstance(node, LoopNode):
        names |= {node.iterator_variable or "item", node.index_variable, node.collect_variable}
    elif isinstance(node, TransformNode):
        names |= {t.output_variable for t in node.transformations}
    elif isinstance(node, HumanApprovalNode):
        names.add(node.decision_variable)
    elif isinstance(node, SubflowNode):
        names |= set(node.output_mapping or {})
    return frozenset(n for n in names if n)


def _is_step_action(action: str) -> bool:
    """Terminate actions may be step actions (screenshot, send_email) as well as operations."""
    if action in catalog.OPERATIONS:
        return False
    return action in catalog.GENERIC or action in catalog.INTERNAL_ACTIONS or (
        catalog.channel_of_action(action) is not None
        or any(action in actions for actions in catalog.CHANNEL_CATALOG.values()))


def _simple_roots(text: str) -> list[str] | None:
    """Roots of a template made only of ``{{ a.b[0] }}`` references, else None."""
    if "{%" in text:
        return None
    roots = [m.group(1) for m in _SIMPLE_REF.finditer(text)]
    if text.count("{{") != len(roots):
        return None
    return roots


def _successors(edges: Iterable[Edge]) -> dict[str, set[str]]:
    succ: dict[str, set[str]] = {}
    for e in edges:
        succ.setdefault(e.source, set()).add(e.target)
    return succ


def _reach(roots: Iterable[str], succ: Mapping[str, set[str]]) -> set[str]:
    seen: set[str] = set()
    todo = list(roots)
    while todo:
        n = todo.pop()
        if n in seen:
            continue
        seen.add(n)
        todo.extend(succ.get(n, ()))
    return seen


def _strongly_connected(nodes: list[str], succ: Mapping[str, set[str]]) -> list[set[str]]:
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


def _suggest(name: str, known: Iterable[str]) -> str:
    import difflib

    close = difflib.get_close_matches(name, list(known), n=1)
    return f"did you mean {close[0]!r}?" if close else "use the id of an existing node"
