"""Property: random damage to valid CKP documents only ever produces diagnostics, never an exception."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from langorch.ckp import CompileResult, Severity, compile_data, compile_text
from langorch.ckp.nodes import NODE_TYPES
from tests.ckp.builders import REFERENCE_DIR, WORKLOADS_DIR, example_files, json_files, load

SEEDS: list[dict[str, Any]] = [load(p) for p in [*example_files(), *json_files(REFERENCE_DIR),
                                                  *json_files(WORKLOADS_DIR)]]

FIELD_NAMES = ["type", "next_node", "steps", "rules", "condition", "body_node", "branches", "on_reject",
               "on_approve", "start_node", "nodes", "action", "output_variable", "operations", "prompt",
               "procedure_id", "variables_schema", "iterator", "transformations", "error_handlers", "sla",
               "validation", "regex", "schedule", "trigger", "default_next_node", "status", "agent", "step_id"]
NASTY_TEXT = ["{{", "{{ x", "{% for %}", "{{secrets.}}", "}}", "{{a.b[0]}}", "1 >", "@daily", "61 * * * *",
              "[", "((", "end", "mcp:", "{{ run_id | nope }}", "a" * 300, "", " ", "\u0000", "/~", "teleport",
              *NODE_TYPES]
JUNK = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=12), st.sampled_from(NASTY_TEXT),
    st.lists(st.one_of(st.integers(), st.sampled_from(NASTY_TEXT)), max_size=3),
    st.dictionaries(st.sampled_from(FIELD_NAMES), st.one_of(st.integers(), st.sampled_from(NASTY_TEXT)),
                    max_size=3),
)

Slot = tuple[Any, Any]
"""(container, key or index) of one value inside a document."""


def _slots(value: Any) -> list[Slot]:
    out: list[Slot] = []
    stack = [value]
    while stack:
        current = stack.pop()
        items = current.items() if isinstance(current, dict) else enumerate(current) \
            if isinstance(current, list) else ()
        for key, item in items:
            out.append((current, key))
            if isinstance(item, dict | list):
                stack.append(item)
    return out


def _pick(data: st.DataObject, document: Any) -> Slot | None:
    slots = _slots(document)
    return data.draw(st.sampled_from(slots)) if slots else None


def delete_key(document: Any, data: st.DataObject) -> Any:
    slot = _pick(data, document)
    if slot is not None:
        container, key = slot
        del container[key]
    return document


def replace_value(document: Any, data: st.DataObject) -> Any:
    slot = _pick(data, document)
    if slot is not None:
        container, key = slot
        container[key] = data.draw(JUNK)
    return document


def replace_strings(document: Any, data: st.DataObject) -> Any:
    replacement = data.draw(st.sampled_from([None, 0, 1.5, [], ["x"], {}, True]))
    for container, key in _slots(document):
        if isinstance(container[key], str) and data.draw(st.booleans()):
            container[key] = replacement
    return document


def _nodes(document: Any) -> Any:
    graph = document.get("workflow_graph") if isinstance(document, dict) else None
    return graph.get("nodes") if isinstance(graph, dict) else None


def rename_node(document: Any, data: st.DataObject) -> Any:
    nodes = _nodes(document)
    if isinstance(nodes, dict) and nodes:
        old = data.draw(st.sampled_from(sorted(nodes)))
        new = data.draw(st.sampled_from(["renamed", "a/b", "x~y", "", old + "_2", "end"]))
        nodes[new] = nodes.pop(old)
    return document


def add_junk_node(document: Any, data: st.DataObject) -> Any:
    nodes = _nodes(document)
    if isinstance(nodes, dict):
        node = data.draw(st.dictionaries(st.sampled_from(FIELD_NAMES), JUNK, max_size=6))
        if data.draw(st.booleans()):
            node["type"] = data.draw(st.sampled_from(NODE_TYPES))
        nodes[data.draw(st.text(max_size=8))] = node
    return document


def set_field(document: Any, data: st.DataObject) -> Any:
    slots = [s for s in _slots(document) if isinstance(s[0][s[1]], dict)]
    if slots:
        container, key = data.draw(st.sampled_from(slots))
        container[key][data.draw(st.sampled_from(FIELD_NAMES))] = data.draw(JUNK)
    return document


MUTATIONS: list[Callable[[Any, st.DataObject], Any]] = [
    delete_key, replace_value, replace_strings, rename_node, add_junk_node, set_field,
]


def _check(result: CompileResult) -> None:
    assert isinstance(result, CompileResult)
    has_errors = any(d.severity is Severity.ERROR for d in result.diagnostics)
    assert (result.ir is None) == has_errors
    for diagnostic in result.diagnostics:
        assert diagnostic.path == "" or diagnostic.path.startswith("/")
        assert diagnostic.format("f.json")
        json.dumps(diagnostic.to_dict())


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_random_mutations_of_valid_ckp_only_produce_diagnostics(data: st.DataObject) -> None:
    document = copy.deepcopy(data.draw(st.sampled_from(SEEDS)))
    for _ in range(data.draw(st.integers(min_value=1, max_value=4))):
        document = data.draw(st.sampled_from(MUTATIONS))(document, data)
    _check(compile_data(document))
    _check(compile_text(json.dumps(document)))


@settings(max_examples=100, deadline=None)
@given(data=st.data())
def test_truncated_or_corrupted_json_text_only_produces_diagnostics(data: st.DataObject) -> None:
    text = json.dumps(data.draw(st.sampled_from(SEEDS)), indent=data.draw(st.sampled_from([None, 2])))
    cut = data.draw(st.integers(min_value=0, max_value=len(text)))
    corrupted = text[:cut]
    if data.draw(st.booleans()):
        corrupted += data.draw(st.text(max_size=5)) + text[cut:]
    result = compile_text(corrupted.encode("utf-8", "surrogatepass") if data.draw(st.booleans()) else corrupted)
    _check(result)


@settings(max_examples=100, deadline=None)
@given(value=st.recursive(JUNK, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                         st.dictionaries(st.text(max_size=6), inner, max_size=4)),
                          max_leaves=20))
def test_arbitrary_json_values_only_produce_diagnostics(value: Any) -> None:
    _check(compile_data(value))
    _check(compile_data({"procedure_id": "p", "workflow_graph": value}))
    _check(compile_data({"procedure_id": "p", "workflow_graph": {"start_node": "a", "nodes": {"a": value}}}))
