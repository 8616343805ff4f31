"""Validator: every problem of a parsed CKP document at once, as diagnostics.

Graph checks (start node, dangling edges, duplicates, reachability, cycles with no
exit, dead ends), node payload rules, actions a channel does not offer, cron and regex
syntax, policy sanity and subflow recursion. Data flow (a ``{{var}}`` read where no path
has defined it yet, template and condition syntax, secrets) lives in
:mod:`langorch.ckp.dataflow`.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from langorch.ckp import catalog
from langorch.ckp.addresses import literal_url_rule
from langorch.ckp.binder import resolve_action
from langorch.ckp.cron import cron_problem, rrule_problem
from langorch.ckp.dataflow import Reaching, analyze_dataflow
from langorch.ckp.diagnostics import Code, Diagnostic, error, pointer, warning
from langorch.ckp.dialects import normalize_dialect
from langorch.ckp.graph import SIDE_EDGES, Edge, GraphFacts, analyze, is_acyclic, reachable, strongly_connected
from langorch.ckp.models import Operation, Step
from langorch.ckp.nodes import (
    HumanApprovalNode,
    LlmActionNode,
    LoopNode,
    Node,
    ParallelNode,
    Procedure,
    ProcessingNode,
    SequenceNode,
    SubflowNode,
    TerminateNode,
    TransformNode,
)

SubflowResolver = Callable[[str, str | None], Mapping[str, Any] | None]
"""Returns the raw CKP document of a procedure (id, optional version), or None."""

Path = tuple[str | int, ...]


def validate(
    procedure: Procedure,
    raw: Mapping[str, Any],
    invalid_nodes: Iterable[str] = (),
    resolver: SubflowResolver | None = None,
    facts: GraphFacts | None = None,
) -> list[Diagnostic]:
    """Return every diagnostic for a parsed procedure (the parser's are not repeated).

    ``facts`` is :func:`langorch.ckp.graph.analyze` of the procedure's nodes when the
    caller already has it (the compiler shares it with the binder).
    """
    return validate_with_reaching(procedure, raw, invalid_nodes, resolver, facts)[0]


def validate_with_reaching(
    procedure: Procedure,
    raw: Mapping[str, Any],
    invalid_nodes: Iterable[str] = (),
    resolver: SubflowResolver | None = None,
    facts: GraphFacts | None = None,
) -> tuple[list[Diagnostic], Reaching]:
    """:func:`validate`, and the variables known at each node's entry (for every node of
    the document, invalid ones included) that the data-flow checks used."""
    validator = _Validator(procedure, raw, set(invalid_nodes), resolver, facts)
    out = validator.run()
    assert validator.reaching is not None  # run() always computes it
    return out, validator.reaching


class _Validator:
    def __init__(self, procedure: Procedure, raw: Mapping[str, Any], invalid: set[str],
                 resolver: SubflowResolver | None, facts: GraphFacts | None) -> None:
        self.p = procedure
        self.raw = raw
        self.nodes = procedure.workflow_graph.nodes
        self.invalid = invalid
        self.known = set(self.nodes) | invalid
        self.suggest = _Suggester(self.known)
        self.resolver = resolver
        self.out: list[Diagnostic] = []
        self.reaching: Reaching | None = None
        facts = facts or analyze(self.nodes)
        self.edges_of = facts.edges
        self.inner = facts.inner
        graph = raw.get("workflow_graph")
        self.raw_graph: Mapping[str, Any] = graph if isinstance(graph, Mapping) else {}
        nodes_raw = self.raw_graph.get("nodes")
        self.raw_nodes: Mapping[str, Any] = nodes_raw if isinstance(nodes_raw, Mapping) else {}

    def run(self) -> list[Diagnostic]:
        self._start()
        edges = self._edges()
        self._duplicates()
        succ: dict[str, set[str]] = {}
        flow: dict[str, set[str]] = {}
        for e in edges:
            succ.setdefault(e.source, set()).add(e.target)
            if e.kind not in SIDE_EDGES:
                flow.setdefault(e.source, set()).add(e.target)
        if self.p.workflow_graph.start_node in self.nodes:
            self._reachability(succ)
            self._cycles(flow)
        self._dead_ends(flow)
        self._payloads()
        self._actions()
        self._trigger()
        self._variables_schema()
        flow_problems, self.reaching = analyze_dataflow(self.p, self.raw_nodes, edges, sorted(self.invalid))
        self.out.extend(flow_problems)
        self._subflows()
        return self.out

    # ------------------------------------------------------------------ graph
    def _start(self) -> None:
        start = self.p.workflow_graph.start_node
        if not self.known and "nodes" in self.raw_graph:
            self.out.append(error(Code.EMPTY_GRAPH, "/workflow_graph/nodes", "the procedure has no nodes",
                                  "add at least one node and a terminate node"))
        if not start:
            self.out.append(error(Code.MISSING_START_NODE, "/workflow_graph/start_node",
                                  "workflow_graph.start_node is missing",
                                  "set start_node to the id of the first node"))
        elif start not in self.known:
            self.out.append(error(Code.UNKNOWN_START_NODE, "/workflow_graph/start_node",
                                  f"start_node {start!r} is not a node of this procedure",
                                  self.suggest(start)))

    def _edges(self) -> list[Edge]:
        edges: list[Edge] = []
        for node_id, declared in self.edges_of.items():
            for edge in declared:
                if edge.target in self.known:
                    edges.append(edge)
                else:
                    self.out.append(error(
                        Code.DANGLING_EDGE, pointer("workflow_graph", "nodes", node_id, *edge.field),
                        f"{edge.field[-1]} points at {edge.target!r}, which is not a node",
                        self.suggest(edge.target)))
        on_failure = self.p.global_config.on_failure if self.p.global_config else None
        if on_failure and on_failure not in self.known:
            self.out.append(error(Code.DANGLING_EDGE, "/global_config/on_failure",
                                  f"on_failure points at {on_failure!r}, which is not a node",
                                  self.suggest(on_failure)))
        # Implicit edges: the end of a loop body returns to the loop, the end of a
        # branch goes to the join.
        for node_id, region in self.inner.items():
            node = self.nodes[node_id]
            if isinstance(node, TerminateNode) or not region.exit_target:
                continue
            if not any(e.kind not in SIDE_EDGES for e in self.edges_of[node_id]):
                edges.append(Edge(node_id, region.exit_target, "implicit", ()))
        return edges

    def _duplicates(self) -> None:
        for node_id in getattr(self.raw_nodes, "duplicates", ()):
            self.out.append(error(Code.DUPLICATE_NODE_ID, pointer("workflow_graph", "nodes", node_id),
                                  f"node id {node_id!r} is defined more than once; only the last is kept",
                                  "give each node a unique id"))
        for node_id, node in self.nodes.items():
            lists: list[tuple[str, list[Any]]] = []
            if isinstance(node, SequenceNode):
                lists.append(("steps", node.steps))
            elif isinstance(node, TerminateNode):
                lists.extend(_terminate_actions(node))
            for key, steps in lists:
                seen: set[str] = set()
                for i, step in enumerate(steps):
                    if not isinstance(step, Step) or step.step_id is None:
                        continue
                    if step.step_id in seen:
                        self.out.append(error(
                            Code.DUPLICATE_STEP_ID,
                            pointer("workflow_graph", "nodes", node_id, key, i, "step_id"),
                            f"step id {step.step_id!r} is used twice in node {node_id!r}",
                            "step ids key idempotency records; make them unique within the node"))
                    seen.add(step.step_id)

    def _reachability(self, succ: Mapping[str, set[str]]) -> None:
        start = self.p.workflow_graph.start_node or ""
        roots = [start]
        on_failure = self.p.global_config.on_failure if self.p.global_config else None
        if on_failure:
            roots.append(on_failure)
        seen = reachable(roots, succ)
        for node_id in self.nodes:
            if node_id not in seen:
                self.out.append(warning(Code.UNREACHABLE_NODE, pointer("workflow_graph", "nodes", node_id),
                                        f"node {node_id!r} can never run: no path from {start!r} reaches it",
                                        "link it from another node or remove it"))

    def _cycles(self, succ: Mapping[str, set[str]]) -> None:
        if is_acyclic(self.nodes, succ):
            return
        for component in strongly_connected(list(self.nodes), succ):
            if len(component) == 1:
                only = next(iter(component))
                if only not in succ.get(only, ()):
                    continue
            exits = any(t not in component for n in component for t in succ.get(n, ()))
            # A loop with no next_node leaves its body by ending the run.
            ends = any(isinstance(self.nodes.get(n), TerminateNode)
                       or (isinstance(self.nodes.get(n), LoopNode) and not self.nodes[n].next_node)
                       for n in component)
            if not exits and not ends:
                first = sorted(component)[0]
                self.out.append(error(
                    Code.CYCLE_WITHOUT_EXIT, pointer("workflow_graph", "nodes", first),
                    f"nodes {', '.join(sorted(component))} form a cycle with no way out",
                    "add a logic rule, loop or approval route that leaves the cycle"))

    def _dead_ends(self, flow: Mapping[str, set[str]]) -> None:
        for node_id, node in self.nodes.items():
            if isinstance(node, TerminateNode):
                continue
            if isinstance(node, LoopNode | ParallelNode):
                if node.next_node:
                    continue
                what = "after the last iteration" if isinstance(node, LoopNode) else "after the branches join"
                self.out.append(warning(
                    Code.NO_OUTGOING_EDGE, pointer("workflow_graph", "nodes", node_id, "next_node"),
                    f"{node.type} node {node_id!r} has no next_node; {what} the run ends as completed",
                    "set next_node, for example to a terminate node"))
                continue
            if node_id in flow:
                continue
            region = self.inner.get(node_id)
            if region is not None and region.kind == "branch":
                continue  # the branch ends here; the parallel node reports a missing join
            self.out.append(warning(
                Code.NO_OUTGOING_EDGE, pointer("workflow_graph", "nodes", node_id),
                f"node {node_id!r} is not a terminate node and has no next node; the run ends "
                "there as completed", "add next_node, or end with a terminate node"))

    def _actions(self) -> None:
        """Warn about step actions no channel catalog lists (they still go to the agent): in
        sequences, recovery steps and terminate actions alike."""
        for node_id, node in self.nodes.items():
            if not isinstance(node, SequenceNode | TerminateNode) and not node.error_handlers:
                continue
            base: Path = ("workflow_graph", "nodes", node_id)
            if isinstance(node, SequenceNode):
                for i, step in enumerate(node.steps):
                    self._action(step, step.agent or node.agent, (*base, "steps", i))
            elif isinstance(node, TerminateNode):
                for key, actions in _terminate_actions(node):
                    for i, action in enumerate(actions):
                        if isinstance(action, Step):
                            self._action(action, action.agent or node.agent, (*base, key, i))
            for h, handler in enumerate(node.error_handlers or []):
                for i, step in enumerate(handler.recovery_steps or []):
                    self._action(step, step.agent or node.agent, (*base, "error_handlers", h, "recovery_steps", i))

    def _action(self, step: Step, agent: str | None, path: Path) -> None:
        binding, problem, hint = resolve_action(step.action, agent)
        if problem:
            self.out.append(warning(Code.UNKNOWN_ACTION, pointer(*path, "action"), problem, hint))
        if binding.kind == "internal" and binding.action == "http_request":
            for key in ("url", "target"):
                url = getattr(step, key)
                refused = literal_url_rule(url) if isinstance(url, str) else None
                if refused:
                    host, rule = refused
                    self.out.append(warning(
                        Code.SANDBOX_REFUSED_URL, pointer(*path, key),
                        f"http_request targets {host}, a {rule} address: the sandbox refuses it at run time",
                        "use the service's public address, or have the operator allowlist the host "
                        "(LANGORCH_SANDBOX__ALLOWED_HOSTS, langorch run --allow-host)"))
                    break

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
            elif isinstance(node, SequenceNode):
                if not node.steps:
                    self.out.append(warning(Code.EMPTY_STEPS, pointer(*base, "steps"), "sequence has no steps"))
                self._validations(node, base)
            elif isinstance(node, ProcessingNode):
                for i, op in enumerate(node.operations):
                    self._operation(op.action, op.pattern, (*base, "operations", i))
            elif isinstance(node, TerminateNode):
                for key, actions in _terminate_actions(node):
                    for i, action in enumerate(actions):
                        if isinstance(action, Operation):
                            self._operation(action.action, action.pattern, (*base, key, i))
            elif isinstance(node, TransformNode):
                for i, t in enumerate(node.transformations):
                    params = t.params or {}
                    missing = []
                    if t.type == "pivot":
                        missing = [k for k in ("index", "columns", "values") if not params.get(k)]
                    elif t.type == "join":
                        missing = [k for k in ("with",) if not params.get(k)]
                        if not params.get("on") and not t.expression:
                            missing.append("on")
                    if missing:
                        self.out.append(error(
                            Code.MISSING_FIELD, pointer(*base, "transformations", i, "params"),
                            f"{t.type} needs " + ", ".join(f"params.{k}" for k in missing),
                            "pivot: params {index, columns, values}; join: params {with, on}"))
            elif isinstance(node, LoopNode):
                if not node.iterator and not node.condition:
                    self.out.append(error(Code.MISSING_FIELD, pointer(*base, "iterator"),
                                          "loop needs an iterator (array variable) or a condition",
                                          "set iterator to the name of an array variable"))
            elif isinstance(node, ParallelNode) and not node.branches:
                self.out.append(error(Code.MISSING_FIELD, pointer(*base, "branches"),
                                      "parallel node has no branches"))
            self._policies(node_id, node, base)

    def _validations(self, node: SequenceNode, base: Path) -> None:
        """A validation is its ``condition``: ``check`` is a label and ``expected_values`` is not
        evaluated, so an entry without a condition would always pass."""
        for i, v in enumerate(node.validations or []):
            path = (*base, "validations", i)
            if not (v.condition or "").strip():
                values = f" in {v.expected_values!r}" if v.expected_values else ""
                self.out.append(error(
                    Code.VALIDATION_WITHOUT_CONDITION, pointer(*path),
                    f"validation {v.id or i!r} has no condition, so it would always pass"
                    + (f" (check {v.check!r} is only a label)" if v.check else ""),
                    f"write what must hold as a condition, e.g. \"condition\": \"{{{{value}}}}{values or ' > 0'}\""))
            elif v.expected_values is not None:
                self.out.append(warning(
                    Code.VALIDATION_WITHOUT_CONDITION, pointer(*path, "expected_values"),
                    "expected_values is not evaluated; only the condition is",
                    "put the values into the condition, e.g. {{status}} in ['open', 'pending']"))
            if v.on_failure == "retry_node":
                self.out.append(warning(
                    Code.VALIDATION_WITHOUT_CONDITION, pointer(*path, "on_failure"),
                    "on_failure retry_node does not retry the node: a failed validation fails it "
                    "(like fail_workflow)", "use fail_workflow, or warn to only record a warning"))

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
            if (p and p.base_delay_ms is not None and p.max_delay_ms is not None
                    and p.max_delay_ms < p.base_delay_ms):
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
        given = [name for name in ("schedule", "rrule", "at") if getattr(t, name)]
        if len(given) > 1:
            self.out.append(error(Code.INVALID_CRON, f"/trigger/{given[1]}",
                                  f"give one of schedule, rrule or at, not {' and '.join(given)}",
                                  "a trigger has one schedule; register more through the triggers API"))
        if t.schedule:
            problem = cron_problem(t.schedule)
            if problem:
                self.out.append(error(Code.INVALID_CRON, "/trigger/schedule", f"invalid cron: {problem}",
                                      "use five fields: minute hour day-of-month month day-of-week"))
        if t.rrule:
            problem = rrule_problem(t.rrule)
            if problem:
                self.out.append(error(Code.INVALID_CRON, "/trigger/rrule", f"invalid rrule: {problem}",
                                      "e.g. FREQ=WEEKLY;BYDAY=MO,FR;BYHOUR=9;BYMINUTE=0"))
        if t.at and _iso_problem(t.at):
            self.out.append(error(Code.INVALID_CRON, "/trigger/at", f"invalid at: {_iso_problem(t.at)}",
                                  "an ISO 8601 time, e.g. 2026-12-24T18:00:00+01:00"))
        if not given and t.type == "scheduled":
            self.out.append(error(Code.MISSING_FIELD, "/trigger/schedule",
                                  "a scheduled trigger needs a schedule (or an rrule, or an at time)",
                                  "e.g. \"0 9 * * 1-5\""))

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
            chain = self._cycle_through(node.procedure_id, node.version, [me], set())
            if chain is None:
                if self.resolver(node.procedure_id, node.version) is None:
                    self.out.append(warning(Code.UNRESOLVED_SUBFLOW, path,
                                            f"procedure {node.procedure_id!r} was not found",
                                            "import it before running this procedure"))
            else:
                self.out.append(error(Code.SUBFLOW_RECURSION, path,
                                      "subflows call each other in a cycle: " + " → ".join(chain),
                                      "break the cycle; subflows must form a tree"))

    def _cycle_through(self, proc_id: str, version: str | None, stack: list[str],
                       done: set[str]) -> list[str] | None:
        """The call chain that comes back to a procedure on ``stack``, if any.

        ``done`` holds procedures already searched without finding one, so a
        diamond of subflows is read once, not once per path.
        """
        if proc_id in stack:
            return [*stack, proc_id]
        if proc_id in done or len(stack) > 32 or self.resolver is None:
            return None
        doc = self.resolver(proc_id, version)
        if isinstance(doc, dict) and "workflow_graph" not in doc:
            doc = normalize_dialect(doc, [])
        graph = doc.get("workflow_graph") if isinstance(doc, Mapping) else None
        nodes = graph.get("nodes") if isinstance(graph, Mapping) else None
        for child in nodes.values() if isinstance(nodes, Mapping) else ():
            if isinstance(child, Mapping) and child.get("type") == "subflow":
                child_version = child.get("version")
                found = self._cycle_through(str(child.get("procedure_id")),
                                            child_version if isinstance(child_version, str) else None,
                                            [*stack, proc_id], done)
                if found:
                    return found
        done.add(proc_id)
        return None


# ----------------------------------------------------------------------------- helpers
def _terminate_actions(node: TerminateNode) -> list[tuple[str, list[Operation | Step]]]:
    """(field, actions) of a terminate node's cleanup and error actions."""
    return [(key, list(getattr(node, key) or [])) for key in ("cleanup_actions", "error_actions")]


class _Suggester:
    """"did you mean ...?" hints for mistyped node ids, within a fixed amount of work.

    Each suggestion compares the name with every node id; a document with thousands of
    nodes and thousands of bad references would otherwise take minutes, so after
    :data:`BUDGET` comparisons the hint becomes generic.
    """

    BUDGET = 20_000
    GENERIC = "use the id of an existing node"

    def __init__(self, known: Iterable[str]) -> None:
        self.known = sorted(known)
        self.left = self.BUDGET
        self.seen: dict[str, str] = {}

    def __call__(self, name: str) -> str:
        if name in self.seen:
            return self.seen[name]
        if self.left < len(self.known):
            return self.GENERIC
        self.left -= len(self.known)
        close = difflib.get_close_matches(name, self.known, n=1)
        hint = self.seen[name] = f"did you mean {close[0]!r}?" if close else self.GENERIC
        return hint


def _iso_problem(text: str) -> str | None:
    from datetime import datetime

    try:
        datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return f"{text!r} is not an ISO 8601 date and time"
    return None
