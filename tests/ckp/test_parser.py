"""Parser: limits before parsing, JSON errors with positions, per-node errors, dialects."""

from __future__ import annotations

import json
from typing import Any

import pytest

from langorch.ckp import Code, compile_text
from langorch.ckp.parser import MAX_BYTES, MAX_DEPTH, MAX_NODES, parse_data, parse_text
from tests.ckp.builders import TERMINATE, compile_doc, doc, pointers, seq


def test_size_limit_is_checked_in_utf8_bytes_before_parsing() -> None:
    # 2-byte characters: under the limit in characters, over it in bytes; not even valid JSON
    text = "é" * (MAX_BYTES // 2 + 1)
    result = parse_text(text)
    assert [d.code for d in result.diagnostics] == [Code.INPUT_TOO_LARGE]


def test_document_just_under_the_size_limit_is_parsed() -> None:
    base = json.dumps(doc({"a": TERMINATE}, description=""))
    padding = MAX_BYTES - len(base.encode())
    text = json.dumps(doc({"a": TERMINATE}, description="x" * padding))
    assert len(text.encode()) == MAX_BYTES
    assert compile_text(text).ok


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ('{"procedure_id": "p",}', "line 1, column 22"),
        ('{\n  "a": 1\n  "b": 2\n}', "line 3, column 3"),
        ("", "line 1, column 1"),
        ('{"a": "unterminated', "line 1, column 7"),
    ],
)
def test_json_syntax_error_reports_line_and_column(text: str, where: str) -> None:
    result = compile_text(text)
    assert [d.code for d in result.diagnostics] == [Code.JSON_SYNTAX]
    assert where in result.diagnostics[0].message


@pytest.mark.parametrize("raw", [b"\x89PNG\r\n\x1a\n\x00\xff\xfe\x00", b"\xff\xff\xff", "\udcff"])
def test_binary_or_undecodable_input_is_a_json_syntax_diagnostic(raw: Any) -> None:
    result = compile_text(raw)
    assert [d.code for d in result.diagnostics] == [Code.JSON_SYNTAX]


def test_bytes_input_is_decoded_as_utf8() -> None:
    text = json.dumps(doc({"a": {**TERMINATE, "description": "café"}}), ensure_ascii=False)
    assert compile_text(text.encode("utf-8")).ok


@pytest.mark.parametrize(("text", "kind"), [("[]", "array"), ("5", "number"), ('"x"', "string"), ("null", "null")])
def test_non_object_document_reports_ckp102_with_its_json_type(text: str, kind: str) -> None:
    result = compile_text(text)
    assert [d.code for d in result.diagnostics] == [Code.NOT_AN_OBJECT]
    assert result.diagnostics[0].message.endswith(kind)


def test_node_limit_allows_exactly_5000_nodes() -> None:
    nodes = {f"n{i}": TERMINATE for i in range(MAX_NODES)}
    result = compile_doc(doc(nodes))
    assert pointers(result, Code.TOO_MANY_NODES) == []


def test_node_limit_applies_to_the_node_list_dialect_too() -> None:
    data = {"id": "old", "nodes": [{"id": f"n{i}", "type": "terminate"} for i in range(MAX_NODES + 1)]}
    assert pointers(compile_doc(data), Code.TOO_MANY_NODES) == ["/workflow_graph/nodes"]


def test_depth_limit_allows_64_levels_and_rejects_65() -> None:
    def nested(levels: int) -> dict[str, Any]:
        # the document is level 1; workflow_graph, nodes and node "a" are 2..4
        value: Any = 1
        for _ in range(levels - 4):
            value = {"x": value}
        return doc({"a": {**TERMINATE, "outputs": value}})

    assert parse_data(nested(MAX_DEPTH)).procedure is not None
    assert [d.code for d in parse_data(nested(MAX_DEPTH + 1)).diagnostics] == [Code.TOO_DEEP]


def test_extremely_deep_json_text_is_too_deep_not_a_crash() -> None:
    text = "[" * 200_000 + "]" * 200_000
    assert [d.code for d in compile_text(text).diagnostics] == [Code.TOO_DEEP]


def test_circular_python_data_is_reported_as_too_deep() -> None:
    data: dict[str, Any] = doc({"a": TERMINATE})
    data["workflow_graph"]["nodes"]["a"]["outputs"] = data
    assert [d.code for d in compile_doc(data).diagnostics] == [Code.TOO_DEEP]


def test_valid_document_gives_a_typed_model_and_no_diagnostics() -> None:
    result = parse_text(json.dumps(doc({"a": seq(), "end": TERMINATE})))
    assert result.diagnostics == []
    assert result.procedure is not None
    assert list(result.procedure.workflow_graph.nodes) == ["a", "end"]
    assert result.invalid_nodes == set()


def test_broken_nodes_are_marked_invalid_and_valid_ones_kept() -> None:
    result = parse_data(doc({"a": seq(), "b": {"type": "sequence", "steps": 1}, "c": {"type": "nope"},
                             "end": TERMINATE}))
    assert result.procedure is not None
    assert set(result.procedure.workflow_graph.nodes) == {"a", "end"}
    assert result.invalid_nodes == {"b", "c"}


def test_root_errors_and_node_errors_are_reported_together() -> None:
    data = doc({"a": {"type": "sequence", "steps": 1}})
    data["global_config"] = {"max_retries": "many"}
    result = parse_data(data)
    assert {d.path for d in result.diagnostics} == {"/global_config/max_retries", "/workflow_graph/nodes/a/steps"}


@pytest.mark.parametrize(
    ("graph", "code", "pointer"),
    [
        ({"start_node": "a"}, Code.MISSING_FIELD, "/workflow_graph/nodes"),
        ({"start_node": "a", "nodes": ["x"]}, Code.WRONG_TYPE, "/workflow_graph/nodes"),
        (5, Code.WRONG_TYPE, "/workflow_graph"),
    ],
)
def test_malformed_workflow_graph_is_reported_at_its_pointer(graph: Any, code: Code, pointer: str) -> None:
    result = compile_doc({"procedure_id": "p", "workflow_graph": graph})
    assert pointer in pointers(result, code)


def test_wrong_type_in_a_variable_spec_points_into_the_schema() -> None:
    data = doc({"a": TERMINATE}, variables_schema={"required": {"amount": {"type": "money"}}})
    assert pointers(compile_doc(data), Code.INVALID_VALUE) == ["/variables_schema/required/amount/type"]


def test_unknown_fields_are_warnings_sorted_by_pointer_and_dollar_keys_are_ignored() -> None:
    data = doc({"a": seq({"action": "log", "colour": "red"}, flavour=1), "end": TERMINATE})
    data["$schema"] = "./ckp.schema.json"
    data["owner"] = "ops"
    result = compile_doc(data)
    assert pointers(result, Code.UNKNOWN_FIELD) == [
        "/owner", "/workflow_graph/nodes/a/flavour", "/workflow_graph/nodes/a/steps/0/colour"]
    assert result.ok


def test_duplicate_keys_outside_the_node_map_keep_the_last_value() -> None:
    text = ('{"procedure_id": "first", "procedure_id": "second", "variables_schema": {},'
            ' "workflow_graph": {"start_node": "a", "nodes": {"a": {"type": "terminate"}}}}')
    result = compile_text(text)
    assert result.ir is not None and result.ir.procedure_id == "second"


def test_duplicate_node_ids_are_each_reported_once() -> None:
    text = ('{"procedure_id": "p", "workflow_graph": {"start_node": "a", "nodes": {'
            '"a": {"type": "terminate"}, "b": {"type": "terminate"}, "a": {"type": "terminate"},'
            '"b": {"type": "terminate"}}}}')
    assert pointers(compile_text(text), Code.DUPLICATE_NODE_ID) == [
        "/workflow_graph/nodes/a", "/workflow_graph/nodes/b"]


def test_node_list_dialect_is_read_as_canonical_ckp() -> None:
    legacy = {
        "id": "triage", "version": 2, "entry": "collect",
        "nodes": [
            {"id": "collect", "type": "sequence", "steps": [{"action": "log", "value": "hi"}]},
            {"id": "route", "type": "logic", "branches": [
                {"condition": "true", "next": "done"}, {"condition": "false", "next": "other"}]},
            {"id": "other", "type": "sequence", "steps": [{"action": "log"}]},
            {"id": "done", "type": "terminate"},
        ],
    }
    result = compile_doc(legacy)
    assert [d.code for d in result.errors] == []
    assert Code.LEGACY_DIALECT in {d.code for d in result.warnings}
    assert result.ir is not None
    assert (result.ir.procedure_id, result.ir.version, result.ir.start_node) == ("triage", "2", "collect")
    nodes = result.ir.nodes
    assert nodes["collect"].next_node == "route"  # implicit: the next node of the list
    assert [r.next_node for r in nodes["route"].payload.rules] == ["done", "other"]  # type: ignore[union-attr]
    assert nodes["other"].next_node is None  # a branch target does not fall through


def test_step_graph_dialect_maps_node_types_transitions_and_executors() -> None:
    legacy = {
        "procedure_id": "secrets_demo", "procedure_version": "1.0.0", "start_node_id": "work",
        "variables_schema": {},
        "nodes": [
            {"node_id": "work", "node_type": "step",
             "steps": [{"step_id": "s", "executor_id": "noop", "parameters": {"x": 1}}],
             "transitions": [{"condition": "always", "target_node_id": "end"}]},
            {"node_id": "end", "node_type": "end", "terminal_status": "failed"},
        ],
    }
    result = compile_doc(legacy)
    assert result.ir is not None, [d.format() for d in result.errors]
    work = result.ir.nodes["work"]
    assert (work.type, work.next_node) == ("sequence", "end")
    assert work.payload.steps[0].action == "noop"  # type: ignore[union-attr]
    assert result.ir.nodes["end"].payload.status == "failed"  # type: ignore[union-attr]


def test_conditional_transitions_are_kept_and_reported_not_silently_dropped() -> None:
    legacy = {"procedure_id": "p", "start_node_id": "a", "nodes": [
        {"node_id": "a", "node_type": "step", "steps": [{"executor_id": "noop"}],
         "transitions": [{"condition": "x > 1", "target_node_id": "b"}, {"target_node_id": "b"}]},
        {"node_id": "b", "node_type": "end"}]}
    result = compile_doc(legacy)
    assert "/workflow_graph/nodes/a/transitions" in pointers(result, Code.UNKNOWN_FIELD)


def test_fast_path_and_piecewise_validation_agree_on_the_model() -> None:
    good = doc({"a": seq(next_node="b"), "b": seq(), "end": TERMINATE})
    broken = json.loads(json.dumps(good))
    broken["global_config"] = {"max_retries": -1}  # forces the piecewise path
    fast = parse_data(good).procedure
    slow = parse_data(broken).procedure
    assert slow is None or fast is None or fast.workflow_graph.nodes == slow.workflow_graph.nodes


def test_unknown_fields_inside_variable_specs_are_reported_in_both_shapes() -> None:
    split = compile_doc(doc({"a": TERMINATE}, variables_schema={
        "required": {"v": {"type": "string", "colour": 1, "validation": {"rgx": "x"}}}}))
    assert pointers(split, Code.UNKNOWN_FIELD) == ["/variables_schema/required/v/colour",
                                                   "/variables_schema/required/v/validation/rgx"]
    flat = compile_doc(doc({"a": TERMINATE}, variables_schema={"v": {"type": "string", "colour": 1}}))
    assert pointers(flat, Code.UNKNOWN_FIELD) == ["/variables_schema/v/colour"]
