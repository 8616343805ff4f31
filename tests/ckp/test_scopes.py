"""Scopes: the variables known when each node starts, for the builder's ``{{`` completion.

``CompileResult.scopes`` spells out the data-flow analysis' known sets: declared variables,
built-ins, and what every node from which a node can be reached writes.
"""

from __future__ import annotations

from typing import Any

from langorch.ckp import catalog
from langorch.ckp.dataflow import known_at_entry
from langorch.ckp.graph import analyze
from tests.ckp.builders import TERMINATE, compile_doc, doc, seq

BUILTINS = sorted(catalog.BUILTIN_VARIABLES)


def set_var(name: str) -> dict[str, Any]:
    return {"step_id": f"set_{name}", "action": "set_variable", "variable": name, "value": "x"}


def branching() -> dict[str, Any]:
    """decide → (left writes ``left_only`` | right) → join, which writes ``late``; then end."""
    return doc({
        "decide": {"type": "logic", "rules": [{"condition": "{{amount}} > 10", "next_node": "left"}],
                   "default_next_node": "right"},
        "left": seq(set_var("left_only"), next_node="join"),
        "right": seq(next_node="join"),
        "join": seq(set_var("late"), next_node="end"),
        "end": TERMINATE,
    }, variables_schema={"amount": {"type": "number"}})


def extra(scope: list[str]) -> list[str]:
    """A scope without the built-ins."""
    return [name for name in scope if name not in catalog.BUILTIN_VARIABLES]


def test_every_node_has_a_sorted_scope_with_the_builtins_and_declared_variables() -> None:
    scopes = compile_doc(branching()).scopes

    assert set(scopes) == {"decide", "left", "right", "join", "end"}
    for scope in scopes.values():
        assert scope == sorted(scope)
        assert set(BUILTINS) | {"amount"} <= set(scope)
    assert extra(scopes["decide"]) == ["amount"]


def test_a_variable_written_on_one_branch_is_known_after_the_join() -> None:
    scopes = compile_doc(branching()).scopes

    assert "left_only" in scopes["join"] and "left_only" in scopes["end"]
    assert "left_only" not in scopes["right"]


def test_a_variable_written_downstream_is_not_known_upstream() -> None:
    scopes = compile_doc(branching()).scopes

    assert "late" in scopes["end"]
    assert all("late" not in scopes[node] for node in ("decide", "left", "right", "join"))


def test_what_a_node_writes_itself_is_not_in_its_own_entry_scope() -> None:
    scopes = compile_doc(branching()).scopes

    assert "left_only" not in scopes["left"]


def test_the_loop_body_sees_the_loops_iterator_and_index_variables() -> None:
    document = doc({
        "each": {"type": "loop", "iterator": "items", "iterator_variable": "invoice", "index_variable": "i",
                 "body_node": "handle", "next_node": "end"},
        "handle": seq({"step_id": "show", "action": "log", "value": "{{invoice}} #{{i}}"}, next_node=None),
        "end": TERMINATE,
    }, variables_schema={"items": {"type": "array"}})
    result = compile_doc(document)

    assert result.diagnostics == []
    assert {"invoice", "i", "items"} <= set(result.scopes["handle"])
    assert "invoice" in result.scopes["end"]


def test_a_parallel_branch_sees_what_was_written_before_the_fork() -> None:
    document = doc({
        "prep": seq(set_var("shared"), next_node="fork"),
        "fork": {"type": "parallel", "branches": [{"branch_id": "a", "start_node": "a1"},
                                                  {"branch_id": "b", "start_node": "b1"}], "next_node": "end"},
        "a1": seq(set_var("from_a"), next_node=None),
        "b1": seq(next_node=None),
        "end": TERMINATE,
    })
    scopes = compile_doc(document).scopes

    assert "shared" in scopes["a1"] and "shared" in scopes["b1"]
    assert "from_a" not in scopes["b1"]
    assert {"from_a", "fork_branches"} <= set(scopes["end"])


def test_scopes_are_there_when_the_document_has_errors_and_cover_invalid_nodes() -> None:
    document = branching()
    document["workflow_graph"]["nodes"]["join"]["next_node"] = "nowhere"  # dangling edge: an error
    document["workflow_graph"]["nodes"]["end"] = {"type": "terminate", "status": 42}  # an invalid payload
    result = compile_doc(document)

    assert result.errors and result.ir is None
    assert "left_only" in result.scopes["join"]
    assert set(result.scopes) == {"decide", "left", "right", "join", "end"}


def test_a_document_that_does_not_parse_has_no_scopes() -> None:
    assert compile_doc("not a document").scopes == {}
    assert compile_doc({"workflow_graph": []}).scopes == {}


def test_known_at_entry_is_the_same_pure_function_of_the_procedure_and_its_edges() -> None:
    result = compile_doc(branching())
    assert result.procedure is not None
    nodes = result.procedure.workflow_graph.nodes
    edges = [edge for declared in analyze(nodes).edges.values() for edge in declared]

    assert known_at_entry(result.procedure, edges) == result.scopes


def test_a_variable_declared_and_also_written_appears_once() -> None:
    document = doc({"first": seq(set_var("amount"), next_node="second"), "second": seq(), "end": TERMINATE},
                   variables_schema={"amount": {"type": "number"}})
    scope = compile_doc(document).scopes["second"]

    assert scope.count("amount") == 1
