"""Data-flow checks: every ``{{var}}`` and condition reads a variable that some path defines.

A variable is *known* at a node when it is declared in ``variables_schema``, is a
built-in (``run_id``, ``secrets``, ...), or is written by a node from which this node
can be reached. Inside a node, steps and operations see what the earlier ones wrote.
The analysis is a may-analysis (one defining path is enough), so it reports reads
that cannot work on any path, never reads that only fail on some.

Sets of variables are Python ints used as bit sets, and the templates and conditions
of a document are parsed once per distinct text (cached): procedures have thousands of
nodes and are compiled on every edit.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from functools import lru_cache
from itertools import compress
from typing import Any

from langorch.ckp import catalog
from langorch.ckp.diagnostics import Code, Diagnostic, error, pointer, warning
from langorch.ckp.expressions import ExpressionSyntaxError, expression_references, parse_expression
from langorch.ckp.graph import Edge
from langorch.ckp.models import Operation, declared_variables
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
from langorch.ckp.templates import TemplateSyntaxProblem, template_references

Path = tuple[str | int, ...]
Ref = tuple[str, str | None]
"""A variable read: its root name and, when present, the first field after it."""

# Keys whose values are names, ids, mapping specs or expressions rather than templates.
NOT_TEMPLATES = frozenset({
    "description", "type", "agent", "next_node", "default_next_node", "on_approve", "on_reject",
    "on_timeout", "on_pass", "on_fail", "body_node", "start_node", "branch_id", "fallback_node",
    "escalation_handler", "step_id", "action", "output_variable", "variable", "array", "iterator",
    "iterator_variable", "index_variable", "collect_variable", "source_variable", "procedure_id",
    "id", "condition", "expression", "check", "level", "error_type", "pattern", "on_failure",
    "decision_type", "timeout_action", "approval_level", "decision_variable", "strategy",
    "wait_strategy", "branch_failure", "status", "model", "fallback_model", "target_type", "algorithm",
    "recovery_strategy", "on_breach", "output_schema", "schema", "error_text_contains", "message_template",
})
_EXCLUDE: dict[tuple[str, ...], frozenset[str]] = {handled: NOT_TEMPLATES | frozenset(handled)
            for handled in (("steps",), ("operations",), ("outputs", "output_mapping"),
                            ("cleanup_actions", "error_actions"))}
"""The keys a node's own texts are collected without: its steps or operations are walked
one by one (they see what the earlier ones wrote)."""
_SIMPLE_REF = re.compile(r"\{\{\s*([A-Za-z_]\w*)((?:\.[A-Za-z_]\w*|\[\d+\])*)\s*\}\}")


def check_dataflow(procedure: Procedure, raw_nodes: Mapping[str, Any],
                   edges: Iterable[Edge]) -> list[Diagnostic]:
    """Diagnostics for undefined variables, bad templates, bad conditions and unknown secrets."""
    return analyze_dataflow(procedure, raw_nodes, edges)[0]


def analyze_dataflow(procedure: Procedure, raw_nodes: Mapping[str, Any], edges: Iterable[Edge],
                     extra_nodes: Iterable[str] = ()) -> tuple[list[Diagnostic], Reaching]:
    """:func:`check_dataflow`'s diagnostics and the :class:`Reaching` sets they were checked
    against. ``extra_nodes`` (nodes present in the document whose payload failed
    validation) get a scope too: what reaches them over the edges of the valid nodes."""
    flow = _DataFlow(procedure, raw_nodes)
    reaching = reaching_definitions(procedure, edges, extra_nodes)
    return flow.run(reaching), reaching


def known_at_entry(procedure: Procedure, edges: Iterable[Edge],
                   extra_nodes: Iterable[str] = ()) -> dict[str, list[str]]:
    """For each node id, the sorted names of the variables known when the node starts:
    declared in ``variables_schema``, built-ins, and everything written by a node from
    which it can be reached (``edges`` as the validator lists them, implicit ones
    included). What a node's own earlier steps write is not included."""
    return reaching_definitions(procedure, edges, extra_nodes).scopes()


class Reaching:
    """The variables known at each node's entry, as bit sets over the written names.

    Cheap to keep (the analysis needs it anyway); :meth:`scopes` spells the sets out only
    when someone asks (an editor's completion list), not on every compile.
    """

    __slots__ = ("bits", "entry", "masks", "names")

    def __init__(self, entry: frozenset[str], names: list[str], masks: dict[str, int]) -> None:
        self.entry = entry
        """Known everywhere: declared variables and built-ins."""
        self.names = names
        """The variables nodes write, sorted: bit ``i`` of a mask stands for ``names[i]``."""
        self.bits: dict[str, int] = {name: 1 << i for i, name in enumerate(names)}
        self.masks = masks
        """Node id → the bits of the variables some node before it writes."""

    def scopes(self) -> dict[str, list[str]]:
        """Node id → the sorted names of the variables known at its entry."""
        names = self.names
        base = sorted(self.entry)
        declared = 0  # written names that are known everywhere anyway
        for name in names:
            if name in self.entry:
                declared |= self.bits[name]
        out: dict[str, list[str]] = {}
        for node_id, mask in self.masks.items():
            mask &= ~declared
            if mask:
                # bit i → byte i of the reversed binary text → names[i]; both runs are sorted,
                # so the final sort is a linear merge.
                flags = f"{mask:b}"[::-1].encode("ascii").translate(_BINARY_TO_FLAGS)
                out[node_id] = sorted(base + list(compress(names, flags)))
            else:
                out[node_id] = list(base)
        return out


_BINARY_TO_FLAGS = bytes.maketrans(b"01", b"\x00\x01")


def reaching_definitions(procedure: Procedure, edges: Iterable[Edge], extra_nodes: Iterable[str] = ()) -> Reaching:
    """The fixpoint of the may-analysis: for each node, the variables some path to it writes."""
    nodes = procedure.workflow_graph.nodes
    entry = frozenset(declared_variables(procedure.variables_schema)) | catalog.BUILTIN_VARIABLES
    writes: dict[str, set[str]] = {node_id: generated(node_id, node) for node_id, node in nodes.items()}
    every: set[str] = set()
    for names in writes.values():
        every |= names
    reaching = Reaching(entry, sorted(every), {})
    bits = reaching.bits
    gen: dict[str, int] = {}
    for node_id, names in writes.items():
        mask = 0
        for name in names:
            mask |= bits[name]
        gen[node_id] = mask
    preds: dict[str, list[str]] = {n: [] for n in nodes}
    for extra in extra_nodes:
        if extra not in preds:
            preds[extra] = []
            gen[extra] = 0
    for e in edges:
        if e.target in preds and e.source in preds:
            preds[e.target].append(e.source)
    gc = procedure.global_config
    if gc and gc.on_failure in preds:
        # any node may fail into the global failure handler, with what it has written
        preds[gc.on_failure].extend(n for n in nodes if n != gc.on_failure)
    order = _flow_order(preds, procedure.workflow_graph.start_node)
    masks: dict[str, int] = dict.fromkeys(preds, 0)
    written: dict[str, int] = dict(gen)
    changed = True
    while changed:  # two passes for an acyclic graph, a few more for nested loops
        changed = False
        for node_id in order:
            mask = 0
            for p in preds[node_id]:
                mask |= written[p]
            if mask != masks[node_id]:
                masks[node_id] = mask
                written[node_id] = mask | gen[node_id]
                changed = True
    reaching.masks = masks
    return reaching


def generated(node_id: str, node: Node) -> set[str]:
    """Variables ``node`` writes when it runs (what its executor puts into the run's state)."""
    names: set[str | None] = set()
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
    elif isinstance(node, VerificationNode):
        names.add("verification")
    elif isinstance(node, ParallelNode):
        names.add(f"{node_id}_branches")
    elif isinstance(node, SubflowNode):
        names |= set(node.output_mapping or {}) or {f"{node_id}_outputs"}
        if node.on_failure == "continue":
            names.add(f"{node_id}_error")
    return {n for n in names if n}


class _Known:
    """The variables known at one point: entry names, bits of a mask, and local writes."""

    __slots__ = ("bits", "entry", "local", "mask")

    def __init__(self, entry: frozenset[str], bits: Mapping[str, int], mask: int) -> None:
        self.entry = entry
        self.bits = bits
        self.mask = mask
        self.local: set[str] = set()

    def __contains__(self, name: str) -> bool:
        return name in self.entry or bool(self.bits.get(name, 0) & self.mask) or name in self.local

    def add(self, name: str | None) -> None:
        if name:
            self.local.add(name)


class _DataFlow:
    def __init__(self, procedure: Procedure, raw_nodes: Mapping[str, Any]) -> None:
        self.p = procedure
        self.nodes = procedure.workflow_graph.nodes
        self.raw_nodes = raw_nodes
        self.lenient = procedure.variables_schema is None
        gc = procedure.global_config
        refs = gc.secrets_config.secret_references if gc and gc.secrets_config else None
        self.secret_names = frozenset(refs or ())
        self.out: list[Diagnostic] = []

    def run(self, reaching: Reaching) -> list[Diagnostic]:
        entry, bits, masks = reaching.entry, reaching.bits, reaching.masks
        for node_id, node in self.nodes.items():
            raw = self.raw_nodes.get(node_id)
            if isinstance(raw, dict):
                self._node(node_id, node, raw, _Known(entry, bits, masks[node_id]))
        return self.out

    # ------------------------------------------------------------------ per node
    # ``path`` is one list per node, extended and shortened in place while its JSON is
    # walked: a pointer is only built for a problem, never for the (many) clean reads.
    def _node(self, node_id: str, node: Node, raw: Mapping[str, Any], known: _Known) -> None:
        path: list[str | int] = ["workflow_graph", "nodes", node_id]
        exclude = NOT_TEMPLATES
        if isinstance(node, SequenceNode):
            exclude = _EXCLUDE[("steps",)]
            raw_steps: Any = raw.get("steps") or ()  # absent when the list is empty
            path.append("steps")
            for i, step in enumerate(node.steps):
                path.append(i)
                self._walk(raw_steps[i], path, known, NOT_TEMPLATES)
                path.pop()
                known.add(step.output_variable)
                if step.action == "set_variable":
                    known.add(step.variable)
            path.pop()
        elif isinstance(node, ProcessingNode):
            exclude = _EXCLUDE[("operations",)]
            raw_ops: Any = raw.get("operations") or ()
            path.append("operations")
            for i, op in enumerate(node.operations):
                path.append(i)
                self._operation(op, raw_ops[i], path, known)
                path.pop()
            path.pop()
        elif isinstance(node, TerminateNode):
            # Its actions run in order before the outputs are rendered, like a sequence's steps.
            exclude = _EXCLUDE[("cleanup_actions", "error_actions")]
            for key in ("cleanup_actions", "error_actions"):
                raw_actions: Any = raw.get(key) or ()
                path.append(key)
                for i, action in enumerate(getattr(node, key) or ()):
                    path.append(i)
                    if isinstance(action, Operation):
                        self._operation(action, raw_actions[i], path, known)
                    else:
                        self._walk(raw_actions[i], path, known, NOT_TEMPLATES)
                        known.add(action.output_variable)
                    path.pop()
                path.pop()
        elif isinstance(node, LoopNode):
            known.add(node.iterator_variable or "item")
            known.add(node.index_variable)
        elif isinstance(node, LlmActionNode | SubflowNode):
            exclude = _EXCLUDE[("outputs", "output_mapping")]
        self._walk(raw, path, known, exclude)

        if isinstance(node, LogicNode):
            self._conditions("rules", [rule.condition for rule in node.rules], path, known)
        elif isinstance(node, SequenceNode):
            if node.validations:
                self._conditions("validations", [v.condition for v in node.validations], path, known)
        elif isinstance(node, VerificationNode):
            self._conditions("checks", [check.condition for check in node.checks], path, known)
        elif isinstance(node, LoopNode):
            if node.condition:
                self._condition(node.condition, path, "condition", known)
            if node.iterator:
                iterator = node.iterator
                if "{{" in iterator or "{%" in iterator:
                    self._template(iterator, path, "iterator", known)
                else:
                    self._name((iterator.strip(), None), path, "iterator", known)
        elif isinstance(node, TransformNode):
            path.append("transformations")
            for i, t in enumerate(node.transformations):
                source = t.source_variable
                path.append(i)
                if "{{" in source:
                    self._template(source, path, "source_variable", known)
                else:
                    self._name((source, None), path, "source_variable", known)
                path.pop()
                known.add(t.output_variable)
            path.pop()

    def _operation(self, op: Operation, raw: Any, path: list[str | int], known: _Known) -> None:
        """Check one operation's reads (at ``path``), then record what it writes."""
        self._walk(raw, path, known, NOT_TEMPLATES)
        computes = op.action == "calculate" or (op.action == "set_variable" and "value" not in op.model_fields_set)
        if computes and op.expression:
            self._condition(op.expression, path, "expression", known)
        known.add(op.output_variable)
        known.add(op.variable)
        known.add(op.array)

    def _conditions(self, field: str, conditions: list[str | None], path: list[str | int], known: _Known) -> None:
        """Check ``<field>[i].condition`` for each (non-empty) condition."""
        path.append(field)
        for i, condition in enumerate(conditions):
            if condition:
                path.append(i)
                self._condition(condition, path, "condition", known)
                path.pop()
        path.pop()

    # ------------------------------------------------------------------ texts
    def _walk(self, value: Any, path: list[str | int], known: _Known,
              exclude: frozenset[str] = NOT_TEMPLATES) -> None:
        """Check every templated string under ``value`` (at ``path``).

        Values under :data:`NOT_TEMPLATES` keys are skipped, subtrees included; ``exclude``
        (a superset of it) skips more keys, of ``value`` itself only.
        """
        items: Iterable[tuple[str | int, Any]]
        if isinstance(value, dict):
            items = value.items()
        elif isinstance(value, list):
            items = enumerate(value)
        else:
            return
        for key, item in items:
            if isinstance(item, str):
                if ("{{" in item or "{%" in item) and key not in exclude:
                    self._template(item, path, key, known)
            elif isinstance(item, dict | list) and key not in exclude:
                path.append(key)
                self._walk(item, path, known)
                path.pop()

    def _template(self, text: str, path: list[str | int], key: str | int, known: _Known) -> None:
        refs = _template_refs(text)
        if isinstance(refs, str):
            self.out.append(error(Code.TEMPLATE_SYNTAX, pointer(*path, key), f"template syntax error: {refs}",
                                  "templates look like {{variable}} or {{variable.field}}"))
            return
        self._names(refs, path, key, known)

    def _condition(self, text: str, path: list[str | int], key: str | int, known: _Known) -> None:
        refs = _condition_refs(text)
        if isinstance(refs, str):
            self.out.append(error(Code.CONDITION_SYNTAX, pointer(*path, key), f"condition syntax error: {refs}",
                                  "e.g. {{amount}} > 1000 and {{status}} == 'open'"))
            return
        self._names(refs, path, key, known)

    def _names(self, refs: tuple[Ref, ...], path: list[str | int], key: str | int, known: _Known) -> None:
        # The common case first, inline: every root is known and no secret is read.
        entry, bits, mask, local = known.entry, known.bits, known.mask, known.local
        for root, _ in refs:
            if root == "secrets" or not (root in entry or bits.get(root, 0) & mask or root in local):
                break
        else:
            return
        unknown = [ref for ref in refs
                   if ref[0] == "secrets" or not (ref[0] in entry or bits.get(ref[0], 0) & mask
                                                  or ref[0] in local)]
        roots: set[str] = set()
        for ref in unknown:
            if ref[0] in roots and ref[0] != "secrets":
                continue
            roots.add(ref[0])
            self._name(ref, path, key, known)

    def _name(self, ref: Ref, path: list[str | int], key: str | int, known: _Known) -> None:
        root, field = ref
        if root == "secrets" and field is not None and field not in self.secret_names:
            self.out.append(warning(
                Code.UNKNOWN_SECRET, pointer(*path, key),
                f"secret {field!r} is not declared in global_config.secrets_config.secret_references; "
                "a run refuses it (SecretNotDeclared)",
                f"declare it: \"secret_references\": {{\"{field}\": \"<key in your secrets provider>\"}}"))
        if root in known:
            return
        if self.lenient:
            self.out.append(warning(
                Code.UNDECLARED_VARIABLE, pointer(*path, key),
                f"variable {root!r} is not declared (the procedure has no variables_schema)",
                "declare it in variables_schema"))
        else:
            self.out.append(error(Code.UNDEFINED_VARIABLE, pointer(*path, key),
                                  f"variable {root!r} is used here but no path defines it before this point",
                                  "declare it in variables_schema or set it in an earlier node"))


# ----------------------------------------------------------------------------- helpers
@lru_cache(maxsize=8192)
def _template_refs(text: str) -> tuple[Ref, ...] | str:
    """The variables a template reads, or the syntax error message."""
    if "{%" not in text:
        matches = _SIMPLE_REF.findall(text)
        if text.count("{{") == len(matches):
            return tuple(dict.fromkeys((root, _first_field(rest)) for root, rest in matches))
    try:
        paths = template_references(text)
    except TemplateSyntaxProblem as exc:
        return exc.message
    return tuple(dict.fromkeys(_ref(path) for path in paths))


@lru_cache(maxsize=8192)
def _condition_refs(text: str) -> tuple[Ref, ...] | str:
    """The variables a condition reads, or the syntax error message."""
    try:
        expr = parse_expression(text)
    except ExpressionSyntaxError as exc:
        return str(exc)
    except RecursionError:
        return "expression nested too deeply"
    return tuple(dict.fromkeys(_ref(path) for path in expression_references(expr)))


def _ref(path: tuple[str | int, ...]) -> Ref:
    field = path[1] if len(path) > 1 and isinstance(path[1], str) else None
    return str(path[0]), field


def _first_field(rest: str) -> str | None:
    if not rest.startswith("."):
        return None
    end = len(rest)
    for stop in (".", "["):
        at = rest.find(stop, 1)
        if at != -1:
            end = min(end, at)
    return rest[1:end]


def _flow_order(preds: Mapping[str, list[str]], start: str | None) -> list[str]:
    """Reverse postorder of a depth-first walk from the start node (then from any node
    not reached yet): predecessors come first, except along the back edges of cycles,
    so the data-flow fixpoint settles in a couple of passes instead of one per node."""
    succ: dict[str, list[str]] = {n: [] for n in preds}
    for target, sources in preds.items():
        for source in sources:
            succ[source].append(target)
    seen: set[str] = set()
    post: list[str] = []
    roots = [start, *preds] if start in succ else list(preds)
    for root in roots:
        if root is None or root in seen:
            continue
        seen.add(root)
        stack = [(root, iter(succ[root]))]
        while stack:
            node, children = stack[-1]
            for child in children:
                if child not in seen:
                    seen.add(child)
                    stack.append((child, iter(succ[child])))
                    break
            else:
                stack.pop()
                post.append(node)
    post.reverse()
    return post
