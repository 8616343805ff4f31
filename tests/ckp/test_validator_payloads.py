"""Node payload rules, policies, operations, actions, cron and regex checks."""

from __future__ import annotations

from typing import Any

import pytest

from langorch.ckp import Code, Severity
from langorch.ckp.ir import Binding, StepIR
from tests.ckp.builders import TERMINATE, compile_doc, doc, pointers, seq


def only(node: dict[str, Any], **root: Any) -> Any:
    node.setdefault("next_node", "end") if node.get("type") != "terminate" else None
    return compile_doc(doc({"n": node, "end": TERMINATE}, **root))


def test_llm_action_with_blank_prompt_reports_ckp400() -> None:
    result = only({"type": "llm_action", "prompt": "   "})
    assert pointers(result, Code.LLM_WITHOUT_PROMPT) == ["/workflow_graph/nodes/n/prompt"]


def test_approval_without_on_approve_reports_ckp401_at_on_approve() -> None:
    result = only({"type": "human_approval", "prompt": "ok?", "on_reject": "end"})
    assert pointers(result, Code.APPROVAL_WITHOUT_ROUTE) == ["/workflow_graph/nodes/n/on_approve"]


def test_select_option_with_options_is_fine() -> None:
    result = only({"type": "human_approval", "prompt": "which?", "decision_type": "select_option",
                   "options": ["a", "b"], "on_approve": "end", "on_reject": "end"})
    assert result.diagnostics == []


def test_loop_without_iterator_or_condition_reports_missing_iterator() -> None:
    result = compile_doc(doc({"n": {"type": "loop", "body_node": "b", "next_node": "end"},
                              "b": seq(next_node=None), "end": TERMINATE}))
    assert pointers(result, Code.MISSING_FIELD) == ["/workflow_graph/nodes/n/iterator"]


def test_loop_without_body_node_reports_missing_body_node() -> None:
    result = only({"type": "loop", "iterator": "run_id"})
    assert pointers(result, Code.MISSING_FIELD) == ["/workflow_graph/nodes/n/body_node"]


def test_parallel_without_branches_reports_missing_branches() -> None:
    result = only({"type": "parallel", "branches": []})
    assert pointers(result, Code.MISSING_FIELD) == ["/workflow_graph/nodes/n/branches"]


@pytest.mark.parametrize(
    ("transformation", "missing"),
    [
        ({"type": "pivot", "params": {"index": "a"}}, "params.columns, params.values"),
        ({"type": "join", "params": {"on": "id"}}, "params.with"),
        ({"type": "join", "params": {"with": "other"}}, "params.on"),
    ],
)
def test_pivot_and_join_need_their_params(transformation: dict[str, Any], missing: str) -> None:
    transformation.update(source_variable="rows", output_variable="out")
    result = only({"type": "transform", "transformations": [transformation]}, variables_schema={"rows": {}})
    errors = [d for d in result.errors if d.path == "/workflow_graph/nodes/n/transformations/0/params"]
    assert [d.code for d in errors] == [Code.MISSING_FIELD]
    assert errors[0].message.endswith(missing)


def test_unsupported_operation_is_a_warning_and_unknown_one_an_error() -> None:
    result = only({"type": "processing", "operations": [
        {"action": "encrypt", "source": "x"}, {"action": "frobnicate"}]})
    found = {(d.path, d.severity) for d in result.diagnostics if d.code is Code.UNKNOWN_OPERATION}
    assert found == {("/workflow_graph/nodes/n/operations/0/action", Severity.WARNING),
                     ("/workflow_graph/nodes/n/operations/1/action", Severity.ERROR)}


def test_bad_regex_in_extract_regex_reports_ckp304_at_pattern() -> None:
    result = only({"type": "processing", "operations": [
        {"action": "extract_regex", "source": "abc", "pattern": "(unclosed", "output_variable": "m"}]})
    assert pointers(result, Code.INVALID_REGEX) == ["/workflow_graph/nodes/n/operations/0/pattern"]


def test_templated_regex_is_not_compiled_at_compile_time() -> None:
    result = only({"type": "processing", "operations": [
        {"action": "extract_regex", "source": "abc", "pattern": "{{run_id}}(", "output_variable": "m"}]})
    assert result.diagnostics == []


def test_bad_regex_in_flat_variables_schema_points_at_the_variable() -> None:
    result = only(seq(), variables_schema={"zip": {"type": "string", "validation": {"regex": "*"}}})
    assert pointers(result, Code.INVALID_REGEX) == ["/variables_schema/zip/validation/regex"]


def test_terminate_cleanup_actions_may_be_step_actions_or_operations() -> None:
    node = {"type": "terminate", "cleanup_actions": [
        {"action": "log", "message": "bye"}, {"action": "screenshot"}, {"action": "send_email"}]}
    assert compile_doc(doc({"n": node})).diagnostics == []


def test_terminate_error_action_that_no_catalog_lists_goes_to_the_agent_with_ckp501_like_a_step() -> None:
    node = {"type": "terminate", "status": "failed", "error_actions": [{"action": "wibble"}]}
    result = compile_doc(doc({"n": node}))
    assert [(d.code, d.severity, d.path) for d in result.diagnostics] == [
        (Code.UNKNOWN_ACTION, Severity.WARNING, "/workflow_graph/nodes/n/error_actions/0/action")]
    [action] = result.ir.nodes["n"].payload.error_actions  # type: ignore[union-attr]
    assert isinstance(action, StepIR) and action.binding == Binding("agent", "wibble", channel="MasterAgent")


def test_terminate_custom_action_on_the_nodes_agent_is_bound_like_a_sequence_step() -> None:
    node = {"type": "terminate", "status": "failed", "agent": "EMAIL", "error_actions": [
        {"action": "log", "message": "failed", "level": "ERROR"},
        {"action": "page_oncall", "recipients": ["oncall@x.test"], "subject": "down", "output_variable": "page",
         "max_retries": 2, "timeout_ms": 5000},
        {"step_id": "ticket", "action": "open_ticket", "agent": "HELPDESK", "value": {"sev": 1}}]}
    result = compile_doc(doc({"n": node}))
    assert [(d.code, d.path) for d in result.diagnostics] == [
        (Code.UNKNOWN_ACTION, "/workflow_graph/nodes/n/error_actions/1/action")], "no CKP404, no unused agent"
    assert "EMAIL channel catalog" in result.diagnostics[0].message
    log, page, ticket = result.ir.nodes["n"].payload.error_actions  # type: ignore[union-attr]
    assert log == {"action": "log", "message": "failed", "level": "ERROR"}
    assert isinstance(page, StepIR) and isinstance(ticket, StepIR)
    assert (page.step_id, page.binding.kind, page.binding.channel) == ("action_1", "agent", "EMAIL")
    assert page.output_variable == "page" and page.timeout_ms == 5000
    assert page.retry is not None and page.retry.max_retries == 2
    assert page.params == {"recipients": ["oncall@x.test"], "subject": "down"}
    assert (ticket.step_id, ticket.binding.channel, ticket.params) == ("ticket", "HELPDESK", {"value": {"sev": 1}})


def test_terminate_step_actions_share_the_sequence_checks() -> None:
    node = {"type": "terminate", "cleanup_actions": [
        {"step_id": "a", "action": "log", "message": "x"}, {"step_id": "a", "action": "send_email"},
        {"step_id": "a", "action": "send_email", "subject": "{{nobody}}"}]}
    result = compile_doc(doc({"n": node}))
    assert pointers(result, Code.DUPLICATE_STEP_ID) == ["/workflow_graph/nodes/n/cleanup_actions/2/step_id"]
    assert pointers(result, Code.UNDEFINED_VARIABLE) == ["/workflow_graph/nodes/n/cleanup_actions/2/subject"]


def test_terminate_outputs_and_later_actions_see_what_earlier_actions_wrote() -> None:
    node = {"type": "terminate", "agent": "EMAIL", "cleanup_actions": [
        {"action": "send_email", "output_variable": "receipt"},
        {"action": "set_variable", "variable": "note", "value": "sent {{receipt.id}}"},
        {"action": "log", "message": "{{note}}"}], "outputs": {"receipt": "{{receipt}}", "note": "{{note}}"}}
    assert compile_doc(doc({"n": node})).diagnostics == []


def test_terminate_unknown_operation_field_is_still_reported_on_operations() -> None:
    node = {"type": "terminate", "cleanup_actions": [{"action": "log", "message": "x", "colour": "red"}]}
    result = compile_doc(doc({"n": node}))
    assert pointers(result, Code.UNKNOWN_FIELD) == ["/workflow_graph/nodes/n/cleanup_actions/0/colour"]


def test_fallback_recovery_without_fallback_node_is_a_bad_policy() -> None:
    result = only(seq(error_handlers=[{"error_type": "X", "recovery_strategy": "fallback_node"}]))
    assert pointers(result, Code.BAD_POLICY) == ["/workflow_graph/nodes/n/error_handlers/0"]


def test_sla_escalation_without_handler_is_a_bad_policy_warning() -> None:
    result = only(seq(sla={"max_duration_ms": 1000, "on_breach": "escalate"}))
    assert [(d.path, d.severity) for d in result.diagnostics] == [("/workflow_graph/nodes/n/sla", Severity.WARNING)]


@pytest.mark.parametrize("schedule", ["0 9 * * 1-5", "*/15 * * * *", "0 0 1 JAN,JUL *", "@daily",
                                      "0 30 9 * * MON-FRI", "5 4 * * 7"])
def test_valid_cron_schedules_pass(schedule: str) -> None:
    assert only(seq(), trigger={"type": "scheduled", "schedule": schedule}).diagnostics == []


@pytest.mark.parametrize(("schedule", "problem"), [
    ("* * *", "expected 5 fields"),
    ("0 25 * * *", "hour field"),
    ("0 9 * * 1-", "day of week"),
    ("*/0 * * * *", "step"),
    ("0 9 31-1 * *", "runs backwards"),
    ("0 9 * FOO *", "month"),
])
def test_invalid_cron_schedules_report_ckp303_with_the_field(schedule: str, problem: str) -> None:
    result = only(seq(), trigger={"type": "scheduled", "schedule": schedule})
    errors = [d for d in result.errors if d.code is Code.INVALID_CRON]
    assert errors and problem in errors[0].message and errors[0].path == "/trigger/schedule"


def test_scheduled_trigger_without_schedule_reports_missing_schedule() -> None:
    result = only(seq(), trigger={"type": "scheduled"})
    assert pointers(result, Code.MISSING_FIELD) == ["/trigger/schedule"]


def test_action_on_an_agent_channel_is_checked_against_its_catalog() -> None:
    result = only(seq({"action": "navigate", "url": "https://x"}, {"action": "send_email"}, agent="WEB"))
    assert pointers(result, Code.UNKNOWN_ACTION) == ["/workflow_graph/nodes/n/steps/1/action"]
    assert result.ok


def test_unknown_action_in_a_recovery_step_is_reported_there() -> None:
    handler = {"error_type": "X", "action": "retry", "recovery_steps": [{"action": "unheard_of"}]}
    result = only(seq(error_handlers=[handler]))
    assert pointers(result, Code.UNKNOWN_ACTION) == [
        "/workflow_graph/nodes/n/error_handlers/0/recovery_steps/0/action"]


def test_unknown_action_warnings_are_reported_alongside_errors() -> None:
    result = only(seq({"action": "unheard_of", "value": "{{ghost}}"}))
    assert {d.code for d in result.diagnostics} == {Code.UNKNOWN_ACTION, Code.UNDEFINED_VARIABLE}


@pytest.mark.parametrize("action", ["mcp:files/read", "llm_call", "log", "navigate", "http_request"])
def test_internal_mcp_llm_and_catalog_actions_raise_no_warning(action: str) -> None:
    assert only(seq({"action": action})).diagnostics == []


def test_variables_schema_mixing_split_and_flat_shapes_is_an_error() -> None:
    result = only(seq(), variables_schema={"required": {"a": {}}, "b": {"type": "string"}})
    assert pointers(result, Code.UNKNOWN_FIELD) == ["/variables_schema/b"]


# ----------------------------------------------------------------------------- sequence validations
def test_a_validation_with_check_and_expected_values_but_no_condition_is_refused() -> None:
    result = only(seq(validations=[{"id": "status_ok", "check": "custom", "expected_values": ["open", "pending"],
                                    "on_failure": "fail_workflow"}]))
    [problem] = result.errors
    assert (problem.code, problem.path) == (Code.VALIDATION_WITHOUT_CONDITION, "/workflow_graph/nodes/n/validations/0")
    assert "always pass" in problem.message
    assert "in ['open', 'pending']" in problem.hint
    assert result.ir is None


def test_a_validation_with_a_condition_compiles_and_expected_values_beside_it_is_reported_unused() -> None:
    result = only(seq(validations=[{"id": "status_ok", "check": "custom", "condition": "1 == 1",
                                    "expected_values": ["open"]}]))
    assert [(d.code, d.severity, d.path) for d in result.diagnostics] == [
        (Code.VALIDATION_WITHOUT_CONDITION, Severity.WARNING, "/workflow_graph/nodes/n/validations/0/expected_values")]
    assert result.ir is not None


def test_a_validation_asking_to_retry_the_node_is_reported_as_failing_it() -> None:
    result = only(seq(validations=[{"id": "v", "condition": "1 == 1", "on_failure": "retry_node"}]))
    assert [(d.severity, d.path) for d in result.diagnostics] == [
        (Severity.WARNING, "/workflow_graph/nodes/n/validations/0/on_failure")]


@pytest.mark.parametrize(("url", "warned"), [
    ("http://127.0.0.1:8080/admin", True), ("http://localhost/x", True), ("http://[::1]/", True),
    ("http://10.0.0.7/api", True), ("https://api.example.com/v1", False), ("{{base_url}}/orders", False),
    ("http://erp.internal/api", False),  # a name: only the run-time guard, after DNS, can tell
])
def test_a_literal_http_request_url_the_sandbox_refuses_is_flagged_at_import(url: str, warned: bool) -> None:
    result = compile_doc(doc({"call": seq({"action": "http_request", "url": url}), "end": TERMINATE},
                              variables_schema={"base_url": {"type": "string", "default": "https://x.test"}}))

    assert result.ir is not None
    assert any(d.code == "CKP504" for d in result.diagnostics) is warned, [d.message for d in result.diagnostics]
