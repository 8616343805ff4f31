"""Data flow: a ``{{var}}`` or condition may only read what some path defines before it."""

from __future__ import annotations

from typing import Any

import pytest

from langorch.ckp import Code
from tests.ckp.builders import TERMINATE, compile_doc, doc, errors_of, pointers, seq

UNDEFINED = Code.UNDEFINED_VARIABLE


def log(text: str, **extra: Any) -> dict[str, Any]:
    return {"action": "log", "value": text, **extra}


def test_declared_variables_from_either_schema_shape_are_known() -> None:
    for schema in ({"required": {"a": {"type": "string"}}, "optional": {"b": {}}}, {"a": {}, "b": {}}):
        result = compile_doc(doc({"n": seq(log("{{a}} {{b}}")), "end": TERMINATE}, variables_schema=schema))
        assert result.diagnostics == [], schema


def test_builtin_variables_need_no_declaration() -> None:
    text = "{{run_id}} {{procedure_id}} {{now}} {{today}} {{error.message}} {{input.x}} {{variables.y}}"
    assert compile_doc(doc({"n": seq(log(text)), "end": TERMINATE})).diagnostics == []


def test_variable_written_by_an_earlier_node_is_known_downstream() -> None:
    nodes = {"first": seq({"action": "set_variable", "variable": "token", "value": "t"}, next_node="second"),
             "second": seq(log("{{token}}")), "end": TERMINATE}
    assert compile_doc(doc(nodes)).diagnostics == []


def test_variable_written_only_by_a_later_node_is_undefined_at_the_earlier_one() -> None:
    nodes = {"first": seq(log("{{token}}"), next_node="second"),
             "second": seq({"action": "set_variable", "variable": "token", "value": "t"}),
             "end": TERMINATE}
    result = compile_doc(doc(nodes))
    assert pointers(result, UNDEFINED) == ["/workflow_graph/nodes/first/steps/0/value"]


def test_step_output_is_known_to_later_steps_of_the_same_node_only() -> None:
    node = seq(log("{{page}}"), {"action": "http_request", "url": "https://x", "output_variable": "page"},
               log("{{page.status_code}}"))
    result = compile_doc(doc({"n": node, "end": TERMINATE}))
    assert pointers(result, UNDEFINED) == ["/workflow_graph/nodes/n/steps/0/value"]


def test_variable_defined_on_one_branch_of_a_logic_node_is_accepted() -> None:
    nodes = {
        "route": {"type": "logic", "rules": [{"condition": "true", "next_node": "set_it"}],
                  "default_next_node": "use_it"},
        "set_it": seq({"action": "set_variable", "variable": "note", "value": "x"}, next_node="use_it"),
        "use_it": seq(log("{{note}}")),
        "end": TERMINATE,
    }
    assert errors_of(compile_doc(doc(nodes))) == []


def test_loop_iterator_and_index_variables_are_known_in_the_body() -> None:
    nodes = {
        "each": {"type": "loop", "iterator": "{{rows}}", "iterator_variable": "row", "index_variable": "i",
                 "body_node": "body", "collect_variable": "all_rows", "next_node": "after"},
        "body": seq(log("{{i}}: {{row.name}}"), next_node=None),
        "after": seq(log("{{all_rows}}")),
        "end": TERMINATE,
    }
    assert compile_doc(doc(nodes, variables_schema={"rows": {"type": "array"}})).diagnostics == []


def test_loop_iterator_variable_defaults_to_item() -> None:
    nodes = {"each": {"type": "loop", "iterator": "rows", "body_node": "body", "next_node": "end"},
             "body": seq(log("{{item}}"), next_node=None), "end": TERMINATE}
    assert compile_doc(doc(nodes, variables_schema={"rows": {"type": "array"}})).diagnostics == []


def test_loop_over_an_undefined_array_reports_the_iterator_field() -> None:
    nodes = {"each": {"type": "loop", "iterator": "rows", "body_node": "body", "next_node": "end"},
             "body": seq(next_node=None), "end": TERMINATE}
    assert pointers(compile_doc(doc(nodes)), UNDEFINED) == ["/workflow_graph/nodes/each/iterator"]


@pytest.mark.parametrize(
    ("writer", "reads"),
    [
        ({"type": "processing", "operations": [{"action": "parse_json", "source": "{}", "output_variable": "v"}]},
         "{{v}}"),
        ({"type": "processing", "operations": [{"action": "append_to_array", "array": "v", "value": 1}]}, "{{v}}"),
        ({"type": "llm_action", "prompt": "hi", "outputs": {"v": "json_extract: v"}}, "{{v}}"),
        ({"type": "llm_action", "prompt": "hi", "output_variable": "v"}, "{{v}}"),
        ({"type": "llm_action", "prompt": "hi"}, "{{llm_response}}"),
        ({"type": "human_approval", "prompt": "ok?", "on_approve": "reader", "on_reject": "reader",
          "decision_variable": "v"}, "{{v}}"),
        ({"type": "verification", "checks": [{"condition": "true"}]}, "{{verification.passed}}"),
        ({"type": "transform", "transformations": [
            {"type": "sort", "source_variable": "run_id", "output_variable": "v"}]}, "{{v}}"),
        ({"type": "subflow", "procedure_id": "other", "output_mapping": {"v": "outputs.v"}}, "{{v}}"),
        ({"type": "subflow", "procedure_id": "other"}, "{{writer_outputs}}"),
        ({"type": "subflow", "procedure_id": "other", "on_failure": "continue"}, "{{writer_error}}"),
    ],
)
def test_variables_each_node_type_writes_are_known_downstream(writer: dict[str, Any], reads: str) -> None:
    writer.setdefault("next_node", "reader")
    nodes = {"writer": writer, "reader": seq(log(reads)), "end": TERMINATE}
    result = compile_doc(doc(nodes))
    assert errors_of(result) == []


def test_parallel_join_writes_the_branches_summary() -> None:
    nodes = {"fork": {"type": "parallel", "next_node": "join",
                      "branches": [{"branch_id": "b", "start_node": "b1"}]},
             "b1": seq(next_node=None), "join": seq(log("{{fork_branches.completed}}")), "end": TERMINATE}
    assert compile_doc(doc(nodes)).diagnostics == []


def test_processing_operations_see_earlier_operations_of_the_same_node() -> None:
    node = {"type": "processing", "next_node": "end", "operations": [
        {"action": "calculate", "expression": "{{price}} * 2", "output_variable": "double"},
        {"action": "format_string", "template": "{{double}} and {{later}}", "output_variable": "text"},
        {"action": "set_variable", "variable": "later", "value": 1},
    ]}
    result = compile_doc(doc({"p": node, "end": TERMINATE}, variables_schema={"price": {}}))
    assert pointers(result, UNDEFINED) == ["/workflow_graph/nodes/p/operations/1/template"]


def test_calculate_and_set_variable_expressions_are_checked_as_conditions() -> None:
    node = {"type": "processing", "next_node": "end", "operations": [
        {"action": "calculate", "expression": "{{missing_a}} + 1", "output_variable": "x"},
        {"action": "set_variable", "variable": "y", "expression": "missing_b * 2"},
        {"action": "set_variable", "variable": "z", "value": "literal", "expression": "not checked"},
    ]}
    result = compile_doc(doc({"p": node, "end": TERMINATE}))
    assert pointers(result, UNDEFINED) == ["/workflow_graph/nodes/p/operations/0/expression",
                                           "/workflow_graph/nodes/p/operations/1/expression"]


@pytest.mark.parametrize(
    ("node", "pointer"),
    [
        ({"type": "logic", "rules": [{"condition": "{{ghost}} > 1", "next_node": "end"}]}, "rules/0/condition"),
        ({"type": "verification", "checks": [{"condition": "ghost == 1"}], "next_node": "end"},
         "checks/0/condition"),
        (seq(validations=[{"id": "v", "check": "custom", "condition": "{{ghost}}"}]), "validations/0/condition"),
        ({"type": "loop", "condition": "{{ghost}} < 3", "body_node": "end", "next_node": "end"}, "condition"),
        ({"type": "human_approval", "prompt": "Approve {{ghost}}?", "on_approve": "end", "on_reject": "end"},
         "prompt"),
        ({"type": "human_approval", "prompt": "p", "context_data": {"x": ["{{ghost}}"]}, "on_approve": "end",
          "on_reject": "end"}, "context_data/x/0"),
        ({"type": "llm_action", "prompt": "Summarise {{ghost}}", "next_node": "end"}, "prompt"),
        ({"type": "subflow", "procedure_id": "x", "input_mapping": {"a": "{{ghost}}"}, "next_node": "end"},
         "input_mapping/a"),
        ({"type": "transform", "transformations": [
            {"type": "sort", "source_variable": "ghost", "output_variable": "o"}], "next_node": "end"},
         "transformations/0/source_variable"),
        ({"type": "terminate", "outputs": {"result": "{{ghost}}"}}, "outputs/result"),
        ({"type": "terminate", "final_audit_log": {"who": "{{ghost.name}}"}}, "final_audit_log/who"),
    ],
)
def test_undefined_variable_is_reported_at_the_exact_field(node: dict[str, Any], pointer: str) -> None:
    result = compile_doc(doc({"n": node, "end": TERMINATE}))
    assert pointers(result, UNDEFINED) == [f"/workflow_graph/nodes/n/{pointer}"]


def test_llm_output_specs_and_subflow_output_mapping_are_not_templates() -> None:
    nodes = {
        "ask": {"type": "llm_action", "prompt": "hi", "outputs": {"score": "json_extract: score"},
                "next_node": "sub"},
        "sub": {"type": "subflow", "procedure_id": "other", "output_mapping": {"r": "outputs.result"},
                "next_node": "end"},
        "end": TERMINATE,
    }
    assert compile_doc(doc(nodes)).diagnostics == []


def test_names_bound_inside_a_jinja_template_are_not_variables() -> None:
    text = "{% for line in lines %}{{ line.sku }}: {{ loop.index }}{% endfor %}{{ lines | length }}"
    result = compile_doc(doc({"n": seq(log(text)), "end": TERMINATE}, variables_schema={"lines": {}}))
    assert result.diagnostics == []


def test_jinja_template_with_an_undefined_variable_is_reported() -> None:
    text = "{% for line in lines %}{{ line.sku }}{% endfor %} {{ missing | upper }}"
    result = compile_doc(doc({"n": seq(log(text)), "end": TERMINATE}, variables_schema={"lines": {}}))
    assert pointers(result, UNDEFINED) == ["/workflow_graph/nodes/n/steps/0/value"]


def test_one_diagnostic_per_variable_and_field() -> None:
    result = compile_doc(doc({"n": seq(log("{{a}} {{a}} {{b}}")), "end": TERMINATE}))
    assert sorted(d.message.split("'")[1] for d in result.errors) == ["a", "b"]


def test_without_variables_schema_unknown_names_are_warnings_not_errors() -> None:
    result = compile_doc(doc({"n": seq(log("{{who}}")), "end": TERMINATE}, variables_schema=None))
    assert result.ok
    assert [d.code for d in result.warnings] == [Code.UNDECLARED_VARIABLE]


def test_declared_secret_reads_are_fine_and_undeclared_ones_warn() -> None:
    steps = (log("{{secrets.api_key}}"), log("{{ secrets.other }}"))
    result = compile_doc(doc({"n": seq(*steps), "end": TERMINATE}, global_config={
        "secrets_config": {"provider": "env_vars", "secret_references": {"api_key": "API_KEY"}}}))
    assert pointers(result, Code.UNKNOWN_SECRET) == ["/workflow_graph/nodes/n/steps/1/value"]
    assert result.ok


def test_names_and_ids_are_not_read_as_templates() -> None:
    node = seq({"step_id": "{{not_a_var}}", "action": "log", "value": "x", "output_variable": "o"},
               description="uses {{whatever}} in prose")
    assert compile_doc(doc({"n": node, "end": TERMINATE})).diagnostics == []


def test_template_syntax_error_in_a_nested_value_points_at_it() -> None:
    node = seq({"action": "http_request", "url": "https://x", "body": {"items": [{"sku": "{% if %}"}]}})
    result = compile_doc(doc({"n": node, "end": TERMINATE}))
    assert pointers(result, Code.TEMPLATE_SYNTAX) == ["/workflow_graph/nodes/n/steps/0/body/items/0/sku"]


def test_condition_syntax_error_message_has_the_column() -> None:
    node = {"type": "logic", "rules": [{"condition": "{{a}} >> 2", "next_node": "end"}]}
    result = compile_doc(doc({"n": node, "end": TERMINATE}, variables_schema={"a": {}}))
    errors = [d for d in result.errors if d.code is Code.CONDITION_SYNTAX]
    assert errors and "column" in errors[0].message


def test_long_cycle_listed_backwards_settles_quickly() -> None:
    import time

    count = 3000
    nodes: dict[str, Any] = {}
    for i in reversed(range(count)):
        reads_previous = "{{v" + str(i - 1) + "}}" if i else 1
        nodes[f"n{i}"] = seq({"action": "set_variable", "variable": f"v{i}", "value": reads_previous},
                             next_node=f"n{i + 1}" if i < count - 1 else "gate")
    nodes["gate"] = {"type": "logic", "rules": [{"condition": "{{v2999}} == 1", "next_node": "n0"}],
                     "default_next_node": "end"}
    nodes["end"] = TERMINATE
    started = time.perf_counter()
    result = compile_doc(doc(nodes, start="n0"))
    assert result.diagnostics == []
    assert time.perf_counter() - started < 20  # the fixpoint took one pass per node when ordered badly


def test_global_failure_handler_may_read_what_any_node_wrote() -> None:
    nodes = {
        "fetch": seq({"action": "http_request", "url": "https://x", "output_variable": "page"}),
        "end": TERMINATE,
        "alert": seq(log("failed after {{page.status_code}} at {{error.node_id}}"), next_node="failed"),
        "failed": {"type": "terminate", "status": "failed"},
    }
    result = compile_doc(doc(nodes, start="fetch", global_config={"on_failure": "alert"}))
    assert result.diagnostics == []
