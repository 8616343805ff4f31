"""Graph checks: edges, reachability, cycles, dead ends, loop bodies and parallel branches."""

from __future__ import annotations

import pytest

from langorch.ckp import Code
from tests.ckp.builders import TERMINATE, compile_doc, doc, errors_of, pointers, seq


def test_a_clean_chain_compiles_without_diagnostics() -> None:
    result = compile_doc(doc({"a": seq(next_node="b"), "b": seq(), "end": TERMINATE}))
    assert result.diagnostics == []
    assert result.ok


@pytest.mark.parametrize(
    ("node", "field"),
    [
        (seq(next_node="ghost"), "next_node"),
        ({"type": "logic", "rules": [{"condition": "true", "next_node": "ghost"}], "default_next_node": "end"},
         "rules/0/next_node"),
        ({"type": "logic", "rules": [], "default_next_node": "ghost"}, "default_next_node"),
        ({"type": "human_approval", "prompt": "p", "on_approve": "ghost", "on_reject": "end"}, "on_approve"),
        ({"type": "human_approval", "prompt": "p", "on_approve": "end", "on_reject": "end",
          "on_timeout": "ghost"}, "on_timeout"),
        ({"type": "verification", "checks": [{"condition": "true"}], "on_pass": "ghost", "next_node": "end"},
         "on_pass"),
        ({"type": "loop", "iterator": "run_id", "body_node": "ghost", "next_node": "end"}, "body_node"),
        ({"type": "parallel", "branches": [{"branch_id": "b1", "start_node": "ghost"}], "next_node": "end"},
         "branches/0/start_node"),
        (seq(error_handlers=[{"error_type": "X", "action": "fallback_node", "fallback_node": "ghost"}]),
         "error_handlers/0/fallback_node"),
        (seq(sla={"max_duration_ms": 10, "on_breach": "escalate", "escalation_handler": "ghost"}),
         "sla/escalation_handler"),
    ],
)
def test_dangling_edge_in_any_edge_field_reports_ckp202_at_that_field(node: dict[str, object], field: str) -> None:
    result = compile_doc(doc({"a": node, "end": TERMINATE}))
    assert pointers(result, Code.DANGLING_EDGE) == [f"/workflow_graph/nodes/a/{field}"]
    message = next(d for d in result.errors if d.code is Code.DANGLING_EDGE).message
    assert "'ghost'" in message


def test_dangling_edge_hint_suggests_the_closest_node_id() -> None:
    result = compile_doc(doc({"a": seq(next_node="fnish"), "finish": TERMINATE}))
    assert result.errors[0].hint == "did you mean 'finish'?"


def test_dangling_global_on_failure_reports_ckp202_at_global_config() -> None:
    result = compile_doc(doc({"a": seq(), "end": TERMINATE}, global_config={"on_failure": "oops"}))
    assert pointers(result, Code.DANGLING_EDGE) == ["/global_config/on_failure"]


def test_edges_to_a_node_with_a_broken_payload_are_not_dangling() -> None:
    result = compile_doc(doc({"a": seq(next_node="b"), "b": {"type": "sequence", "steps": 7}}))
    assert [d.code for d in result.errors] == [Code.WRONG_TYPE]


def test_global_on_failure_node_counts_as_reachable() -> None:
    result = compile_doc(doc({"a": seq(), "end": TERMINATE, "alert": seq(next_node="end")},
                             global_config={"on_failure": "alert"}))
    assert pointers(result, Code.UNREACHABLE_NODE) == []


def test_error_fallback_and_sla_escalation_targets_count_as_reachable() -> None:
    nodes = {
        "a": seq(error_handlers=[{"error_type": "X", "action": "fallback_node", "fallback_node": "recover"}],
                 sla={"max_duration_ms": 5, "on_breach": "escalate", "escalation_handler": "page"}),
        "recover": seq(),
        "page": seq(),
        "end": TERMINATE,
    }
    assert compile_doc(doc(nodes)).diagnostics == []


def test_unreachable_node_is_a_warning_and_the_procedure_still_compiles() -> None:
    result = compile_doc(doc({"a": seq(), "end": TERMINATE, "island": seq()}))
    assert pointers(result, Code.UNREACHABLE_NODE) == ["/workflow_graph/nodes/island"]
    assert result.ok


def test_cycle_with_no_exit_is_an_error_naming_every_node() -> None:
    result = compile_doc(doc({"a": seq(next_node="b"), "b": seq(next_node="c"), "c": seq(next_node="a")}))
    errors = [d for d in result.errors if d.code is Code.CYCLE_WITHOUT_EXIT]
    assert len(errors) == 1
    assert "a, b, c" in errors[0].message


def test_self_loop_with_no_exit_is_an_error() -> None:
    result = compile_doc(doc({"a": seq(next_node="a")}))
    assert pointers(result, Code.CYCLE_WITHOUT_EXIT) == ["/workflow_graph/nodes/a"]


def test_retry_cycle_through_a_logic_node_that_can_leave_is_fine() -> None:
    nodes = {
        "attempt": {"type": "processing", "operations": [
            {"action": "calculate", "expression": "{{tries}} + 1", "output_variable": "tries"}],
            "next_node": "check"},
        "check": {"type": "logic", "rules": [{"condition": "{{tries}} < 3", "next_node": "attempt"}],
                  "default_next_node": "end"},
        "end": TERMINATE,
    }
    result = compile_doc(doc(nodes, variables_schema={"tries": {"type": "number", "default": 0}}))
    assert result.diagnostics == []


def test_cycle_through_an_approval_that_can_reject_out_is_fine() -> None:
    nodes = {
        "draft": seq(next_node="review"),
        "review": {"type": "human_approval", "prompt": "ok?", "on_approve": "end", "on_reject": "draft"},
        "end": TERMINATE,
    }
    assert compile_doc(doc(nodes)).diagnostics == []


def test_loop_body_that_ends_with_null_next_node_returns_to_the_loop() -> None:
    nodes = {
        "each": {"type": "loop", "iterator": "items", "iterator_variable": "item", "body_node": "work",
                 "next_node": "end"},
        "work": seq({"action": "log", "value": "{{item}}"}, next_node=None),
        "end": TERMINATE,
    }
    result = compile_doc(doc(nodes, variables_schema={"items": {"type": "array"}}))
    assert result.diagnostics == []
    assert result.ir is not None
    region = result.ir.nodes["work"].region
    assert region is not None and (region.owner, region.kind) == ("each", "loop")


def test_loop_without_next_node_is_a_dead_end_warning_not_a_cycle_error() -> None:
    nodes = {
        "each": {"type": "loop", "iterator": "items", "body_node": "work"},
        "work": seq({"action": "log", "value": "{{item}}"}, next_node=None),
    }
    result = compile_doc(doc(nodes, variables_schema={"items": {"type": "array"}}))
    assert errors_of(result) == []
    assert pointers(result, Code.NO_OUTGOING_EDGE) == ["/workflow_graph/nodes/each/next_node"]


def test_parallel_branch_ends_at_the_join_or_at_a_null_next_node() -> None:
    nodes = {
        "fork": {"type": "parallel", "next_node": "join", "branches": [
            {"branch_id": "left", "start_node": "l1"}, {"branch_id": "right", "start_node": "r1"}]},
        "l1": seq(next_node="l2"),
        "l2": seq(next_node="join"),
        "r1": seq(next_node=None),
        "join": seq(),
        "end": TERMINATE,
    }
    result = compile_doc(doc(nodes))
    assert result.diagnostics == []
    assert result.ir is not None
    branches = {b.branch_id: b.nodes for b in result.ir.nodes["fork"].payload.branches}  # type: ignore[union-attr]
    assert branches == {"left": frozenset({"l1", "l2"}), "right": frozenset({"r1"})}


def test_parallel_without_join_warns_once_on_the_parallel_node() -> None:
    nodes = {
        "fork": {"type": "parallel", "branches": [{"branch_id": "only", "start_node": "b1"}]},
        "b1": seq(next_node=None),
    }
    result = compile_doc(doc(nodes))
    assert pointers(result, Code.NO_OUTGOING_EDGE) == ["/workflow_graph/nodes/fork/next_node"]


def test_dead_end_warning_says_the_run_ends_as_completed() -> None:
    result = compile_doc(doc({"a": seq(next_node=None)}))
    assert "ends there as completed" in result.warnings[0].message


def test_every_problem_is_reported_at_once() -> None:
    nodes = {
        "a": seq({"step_id": "s", "action": "log"}, {"step_id": "s", "action": "log", "value": "{{nope}}"},
                 next_node="ghost"),
        "gate": {"type": "human_approval", "prompt": "ok?", "on_approve": "a"},
    }
    result = compile_doc(doc(nodes, trigger={"type": "scheduled", "schedule": "* * *"}))
    codes = {d.code for d in result.errors}
    assert codes == {Code.DANGLING_EDGE, Code.DUPLICATE_STEP_ID, Code.UNDEFINED_VARIABLE,
                     Code.APPROVAL_WITHOUT_ROUTE, Code.INVALID_CRON}


def test_each_broken_node_is_reported_and_the_others_still_validated() -> None:
    nodes = {
        "a": {"type": "sequence", "steps": "x", "next_node": "b"},
        "b": {"type": "logic", "rules": [{"next_node": "end"}]},
        "c": seq({"action": "log", "value": "{{undefined_thing}}"}),
        "end": TERMINATE,
    }
    result = compile_doc(doc(nodes, start="a"))
    paths = {(d.code, d.path) for d in result.errors}
    assert (Code.WRONG_TYPE, "/workflow_graph/nodes/a/steps") in paths
    assert (Code.MISSING_FIELD, "/workflow_graph/nodes/b/rules/0/condition") in paths
    assert (Code.UNDEFINED_VARIABLE, "/workflow_graph/nodes/c/steps/0/value") in paths


def test_node_ids_with_slash_and_tilde_are_escaped_in_pointers() -> None:
    result = compile_doc(doc({"a/b~c": seq(next_node="ghost")}))
    assert pointers(result, Code.DANGLING_EDGE) == ["/workflow_graph/nodes/a~1b~0c/next_node"]


def test_thousands_of_nodes_in_a_long_chain_validate() -> None:
    nodes = {f"n{i}": seq(next_node=f"n{i + 1}") for i in range(3000)}
    nodes["n3000"] = TERMINATE
    result = compile_doc(doc(nodes, start="n0"))
    assert result.diagnostics == []


def test_thousands_of_dangling_edges_are_reported_in_well_under_a_second_each() -> None:
    import time

    nodes = {f"node_{i:04d}": seq(next_node=f"nodx_{i:04d}") for i in range(4000)}
    started = time.perf_counter()
    result = compile_doc(doc(nodes))
    assert len(pointers(result, Code.DANGLING_EDGE)) == 4000
    assert time.perf_counter() - started < 30  # was minutes: one fuzzy match per edge over every id
    hints = {d.hint for d in result.errors}
    assert "use the id of an existing node" in hints and any(h.startswith("did you mean") for h in hints)
