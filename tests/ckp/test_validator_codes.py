"""One broken CKP per diagnostic code: the code, its severity and the exact JSON Pointer.

``CASES`` must cover every member of :class:`Code` (see the last test): a code the
compiler can never produce is a dead code and should be removed.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from langorch.ckp import Code, CompileResult, Severity, compile_text
from langorch.ckp.parser import MAX_BYTES, MAX_DEPTH, MAX_NODES
from tests.ckp.builders import TERMINATE, compile_doc, doc, seq

Resolver = Callable[[str, str | None], Any]


@dataclass(frozen=True)
class Case:
    id: str
    code: Code
    severity: Severity
    pointer: str
    source: Callable[[], Any]
    """A document (dict) or JSON text (str / bytes)."""
    resolver: Resolver | None = None
    message_part: str = ""


def _run(case: Case) -> CompileResult:
    source = case.source()
    if isinstance(source, str | bytes):
        return compile_text(source, case.resolver)
    return compile_doc(source, case.resolver)


def _deep(levels: int) -> Any:
    value: Any = "leaf"
    for _ in range(levels):
        value = {"x": value}
    return value


def _duplicate_node_text() -> str:
    return ('{"procedure_id": "p", "variables_schema": {}, "workflow_graph": {"start_node": "a", "nodes": {'
            '"a": {"type": "sequence", "steps": [{"action": "log"}], "next_node": "end"},'
            '"end": {"type": "terminate"},'
            '"a": {"type": "sequence", "steps": [{"action": "wait"}], "next_node": "end"}}}}')


_OTHER_PROCEDURES = {
    "child": doc({"call_back": {"type": "subflow", "procedure_id": "test_proc", "next_node": "end"},
                  "end": TERMINATE}, procedure_id="child"),
}


def _resolve(procedure_id: str, version: str | None) -> Any:
    return _OTHER_PROCEDURES.get(procedure_id)


CASES: list[Case] = [
    # 1xx input and structure
    Case("ckp100_document_over_5mb", Code.INPUT_TOO_LARGE, Severity.ERROR, "",
         lambda: json.dumps(doc({"a": TERMINATE}, description="x" * (MAX_BYTES + 1))),
         message_part="the limit is 5242880"),
    Case("ckp101_json_syntax_error_has_line_and_column", Code.JSON_SYNTAX, Severity.ERROR, "",
         lambda: '{\n  "procedure_id": "p",\n  "workflow_graph": {,}\n}',
         message_part="line 3, column 22"),
    Case("ckp102_array_instead_of_object", Code.NOT_AN_OBJECT, Severity.ERROR, "", lambda: "[]"),
    Case("ckp103_more_than_5000_nodes", Code.TOO_MANY_NODES, Severity.ERROR, "/workflow_graph/nodes",
         lambda: doc({f"n{i}": TERMINATE for i in range(MAX_NODES + 1)})),
    Case("ckp104_nesting_deeper_than_64", Code.TOO_DEEP, Severity.ERROR, "",
         lambda: doc({"a": {**TERMINATE, "outputs": _deep(MAX_DEPTH + 2)}})),
    Case("ckp105_missing_procedure_id", Code.MISSING_FIELD, Severity.ERROR, "/procedure_id",
         lambda: {k: v for k, v in doc({"a": TERMINATE}).items() if k != "procedure_id"}),
    Case("ckp106_steps_is_a_string", Code.WRONG_TYPE, Severity.ERROR, "/workflow_graph/nodes/a/steps",
         lambda: doc({"a": {"type": "sequence", "steps": "log", "next_node": "end"}, "end": TERMINATE})),
    Case("ckp107_negative_timeout", Code.INVALID_VALUE, Severity.ERROR,
         "/workflow_graph/nodes/a/steps/0/timeout_ms",
         lambda: doc({"a": seq({"action": "log", "timeout_ms": -5}), "end": TERMINATE})),
    Case("ckp108_unknown_node_field_is_a_warning", Code.UNKNOWN_FIELD, Severity.WARNING,
         "/workflow_graph/nodes/a/next_nod",
         lambda: doc({"a": seq(next_nod="end"), "end": TERMINATE})),
    Case("ckp109_unknown_node_type", Code.UNKNOWN_NODE_TYPE, Severity.ERROR, "/workflow_graph/nodes/a/type",
         lambda: doc({"a": {"type": "teleport", "next_node": "end"}, "end": TERMINATE})),
    Case("ckp110_node_list_dialect_is_a_warning", Code.LEGACY_DIALECT, Severity.WARNING, "",
         lambda: {"id": "old", "version": 1, "entry": "a",
                  "nodes": [{"id": "a", "type": "sequence", "steps": [{"action": "log"}]},
                            {"id": "b", "type": "terminate"}]}),
    # 2xx graph
    Case("ckp200_missing_start_node", Code.MISSING_START_NODE, Severity.ERROR, "/workflow_graph/start_node",
         lambda: {**doc({"a": TERMINATE}), "workflow_graph": {"nodes": {"a": TERMINATE}}}),
    Case("ckp201_start_node_not_a_node", Code.UNKNOWN_START_NODE, Severity.ERROR,
         "/workflow_graph/start_node", lambda: doc({"a": TERMINATE}, start="b"), message_part="'b'"),
    Case("ckp202_dangling_on_reject", Code.DANGLING_EDGE, Severity.ERROR,
         "/workflow_graph/nodes/gate/on_reject",
         lambda: doc({"gate": {"type": "human_approval", "prompt": "ok?", "on_approve": "end",
                               "on_reject": "nowhere"}, "end": TERMINATE})),
    Case("ckp203_duplicate_node_id_key", Code.DUPLICATE_NODE_ID, Severity.ERROR, "/workflow_graph/nodes/a",
         _duplicate_node_text),
    Case("ckp204_duplicate_step_id", Code.DUPLICATE_STEP_ID, Severity.ERROR,
         "/workflow_graph/nodes/a/steps/1/step_id",
         lambda: doc({"a": seq({"step_id": "s", "action": "log"}, {"step_id": "s", "action": "wait"}),
                      "end": TERMINATE})),
    Case("ckp205_unreachable_node_is_a_warning", Code.UNREACHABLE_NODE, Severity.WARNING,
         "/workflow_graph/nodes/orphan", lambda: doc({"a": seq(), "end": TERMINATE, "orphan": seq()})),
    Case("ckp206_cycle_with_no_exit", Code.CYCLE_WITHOUT_EXIT, Severity.ERROR, "/workflow_graph/nodes/a",
         lambda: doc({"a": seq(next_node="b"), "b": seq(next_node="a")})),
    Case("ckp207_dead_end_is_a_warning", Code.NO_OUTGOING_EDGE, Severity.WARNING, "/workflow_graph/nodes/a",
         lambda: doc({"a": seq(next_node=None)})),
    Case("ckp208_no_nodes", Code.EMPTY_GRAPH, Severity.ERROR, "/workflow_graph/nodes", lambda: doc({})),
    # 3xx data flow
    Case("ckp300_undefined_variable_in_step_url", Code.UNDEFINED_VARIABLE, Severity.ERROR,
         "/workflow_graph/nodes/n1/steps/0/url",
         lambda: doc({"n1": seq({"action": "http_request", "url": "https://api.test/{{order_id}}"}),
                      "end": TERMINATE}), message_part="'order_id'"),
    Case("ckp301_condition_syntax", Code.CONDITION_SYNTAX, Severity.ERROR,
         "/workflow_graph/nodes/route/rules/0/condition",
         lambda: doc({"route": {"type": "logic", "rules": [{"condition": "1 >", "next_node": "end"}],
                                "default_next_node": "end"}, "end": TERMINATE})),
    Case("ckp302_template_syntax", Code.TEMPLATE_SYNTAX, Severity.ERROR,
         "/workflow_graph/nodes/a/steps/0/value",
         lambda: doc({"a": seq({"action": "log", "value": "{{ run_id "}), "end": TERMINATE})),
    Case("ckp303_bad_cron", Code.INVALID_CRON, Severity.ERROR, "/trigger/schedule",
         lambda: doc({"a": TERMINATE}, trigger={"type": "scheduled", "schedule": "61 * * * *"}),
         message_part="minute"),
    Case("ckp304_bad_regex_in_variable_validation", Code.INVALID_REGEX, Severity.ERROR,
         "/variables_schema/required/zip/validation/regex",
         lambda: doc({"a": TERMINATE},
                     variables_schema={"required": {"zip": {"type": "string", "validation": {"regex": "[0-9"}}}})),
    Case("ckp305_undeclared_variable_without_schema_is_a_warning", Code.UNDECLARED_VARIABLE,
         Severity.WARNING, "/workflow_graph/nodes/a/steps/0/value",
         lambda: doc({"a": seq({"action": "log", "value": "{{who}}"}), "end": TERMINATE},
                     variables_schema=None)),
    # 4xx node payloads
    Case("ckp400_llm_action_without_prompt", Code.LLM_WITHOUT_PROMPT, Severity.ERROR,
         "/workflow_graph/nodes/ask/prompt",
         lambda: doc({"ask": {"type": "llm_action", "model": "m", "next_node": "end"}, "end": TERMINATE})),
    Case("ckp401_approval_without_on_reject", Code.APPROVAL_WITHOUT_ROUTE, Severity.ERROR,
         "/workflow_graph/nodes/gate/on_reject",
         lambda: doc({"gate": {"type": "human_approval", "prompt": "ok?", "on_approve": "end"},
                      "end": TERMINATE})),
    Case("ckp402_sequence_without_steps_is_a_warning", Code.EMPTY_STEPS, Severity.WARNING,
         "/workflow_graph/nodes/a/steps",
         lambda: doc({"a": {"type": "sequence", "steps": [], "next_node": "end"}, "end": TERMINATE})),
    Case("ckp403_select_option_without_options", Code.OPTIONS_REQUIRED, Severity.ERROR,
         "/workflow_graph/nodes/gate/options",
         lambda: doc({"gate": {"type": "human_approval", "prompt": "which?", "decision_type": "select_option",
                               "on_approve": "end", "on_reject": "end"}, "end": TERMINATE})),
    Case("ckp404_unknown_operation", Code.UNKNOWN_OPERATION, Severity.ERROR,
         "/workflow_graph/nodes/calc/operations/0/action",
         lambda: doc({"calc": {"type": "processing", "operations": [{"action": "teleport"}],
                               "next_node": "end"}, "end": TERMINATE})),
    Case("ckp405_unknown_transformation", Code.UNKNOWN_TRANSFORMATION, Severity.ERROR,
         "/workflow_graph/nodes/shape/transformations/0/type",
         lambda: doc({"shape": {"type": "transform", "next_node": "end", "transformations": [
             {"type": "explode", "source_variable": "rows", "output_variable": "out"}]}, "end": TERMINATE},
             variables_schema={"rows": {"type": "array"}})),
    Case("ckp406_retry_max_delay_below_base_delay", Code.BAD_POLICY, Severity.ERROR,
         "/workflow_graph/nodes/a/error_handlers/0/retry_policy",
         lambda: doc({"a": seq(error_handlers=[{"error_type": "Timeout", "action": "retry", "retry_policy": {
             "base_delay_ms": 1000, "max_delay_ms": 10}}]), "end": TERMINATE})),
    Case("ckp407_validation_without_condition", Code.VALIDATION_WITHOUT_CONDITION, Severity.ERROR,
         "/workflow_graph/nodes/a/validations/0",
         lambda: doc({"a": seq(validations=[{"id": "is_open", "check": "value_in_range",
                                             "expected_values": ["open"]}]), "end": TERMINATE}),
         message_part="'is_open' has no condition"),
    # 5xx binding and procedures
    Case("ckp500_subflow_calls_itself", Code.SUBFLOW_RECURSION, Severity.ERROR,
         "/workflow_graph/nodes/again/procedure_id",
         lambda: doc({"again": {"type": "subflow", "procedure_id": "test_proc", "next_node": "end"},
                      "end": TERMINATE})),
    Case("ckp500_subflow_recursion_through_resolver", Code.SUBFLOW_RECURSION, Severity.ERROR,
         "/workflow_graph/nodes/call_child/procedure_id",
         lambda: doc({"call_child": {"type": "subflow", "procedure_id": "child", "next_node": "end"},
                      "end": TERMINATE}),
         resolver=_resolve, message_part="test_proc → child → test_proc"),
    Case("ckp501_action_not_in_channel_catalog_is_a_warning", Code.UNKNOWN_ACTION, Severity.WARNING,
         "/workflow_graph/nodes/web/steps/0/action",
         lambda: doc({"web": seq({"action": "teleport", "target": "#x"}, agent="WEB"), "end": TERMINATE})),
    Case("ckp502_undeclared_secret_is_a_warning", Code.UNKNOWN_SECRET, Severity.WARNING,
         "/workflow_graph/nodes/call/steps/0/headers/Authorization",
         lambda: doc({"call": seq({"action": "http_request", "url": "https://api.test",
                                   "headers": {"Authorization": "Bearer {{secrets.api_tokn}}"}}),
                      "end": TERMINATE},
                     global_config={"secrets_config": {"provider": "env_vars",
                                                       "secret_references": {"api_token": "API_TOKEN"}}})),
    Case("ckp503_subflow_not_found_is_a_warning", Code.UNRESOLVED_SUBFLOW, Severity.WARNING,
         "/workflow_graph/nodes/call_missing/procedure_id",
         lambda: doc({"call_missing": {"type": "subflow", "procedure_id": "ghost", "next_node": "end"},
                      "end": TERMINATE}), resolver=_resolve),
    Case("ckp504_literal_url_the_sandbox_refuses_is_a_warning", Code.SANDBOX_REFUSED_URL, Severity.WARNING,
         "/workflow_graph/nodes/call/steps/0/url",
         lambda: doc({"call": seq({"action": "http_request", "url": "http://169.254.169.254/latest/meta-data/"}),
                      "end": TERMINATE}),
         message_part="a link-local address: the sandbox refuses it at run time"),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_broken_ckp_reports_its_code_at_the_exact_pointer(case: Case) -> None:
    result = _run(case)
    found = [d for d in result.diagnostics if d.code is case.code]
    assert found, f"{case.code} not reported; got: {[d.format() for d in result.diagnostics]}"
    at_pointer = [d for d in found if d.path == case.pointer]
    assert at_pointer, f"{case.code} reported at {[d.path for d in found]}, expected {case.pointer!r}"
    diagnostic = at_pointer[0]
    assert diagnostic.severity is case.severity
    assert case.message_part in diagnostic.message
    assert diagnostic.message[:1].islower() or diagnostic.message[:1] in ("'", '"'), "messages start lower-case"
    if case.severity is Severity.ERROR:
        assert result.ir is None
    else:
        assert result.ir is not None, [d.format() for d in result.errors]


def test_every_diagnostic_code_has_a_broken_ckp_that_produces_it() -> None:
    covered = {case.code for case in CASES}
    assert set(Code) - covered == set()


def test_diagnostic_formats_as_a_compiler_line_with_hint() -> None:
    result = _run(next(c for c in CASES if c.code is Code.DANGLING_EDGE))
    line = result.errors[0].format("flow.ckp.json")
    assert line.startswith("flow.ckp.json:/workflow_graph/nodes/gate/on_reject: error CKP202: ")
    assert line.endswith(")")  # the hint, in parentheses


def test_diagnostic_to_dict_is_plain_json() -> None:
    result = _run(next(c for c in CASES if c.code is Code.DUPLICATE_STEP_ID))
    data = result.errors[0].to_dict()
    assert data["code"] == "CKP204" and data["severity"] == "error"
    assert json.loads(json.dumps(data)) == data
