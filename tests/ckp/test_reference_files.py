"""Every CKP file others wrote (../shared/ckp-reference) and every example compiles with zero errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from langorch.ckp import Code, compile_text
from tests.ckp.builders import (
    REFERENCE_DIR,
    WORKLOADS_DIR,
    compile_file,
    errors_of,
    example_files,
    examples_resolver,
    json_files,
)

needs_reference = pytest.mark.skipif(not REFERENCE_DIR.is_dir(), reason="../shared/ckp-reference is absent")


def _reference(name: str) -> Path:
    return REFERENCE_DIR / name


@needs_reference
@pytest.mark.parametrize("path", json_files(REFERENCE_DIR), ids=lambda p: p.name)
def test_reference_file_compiles_with_zero_errors(path: Path) -> None:
    result = compile_file(path)
    assert errors_of(result) == []
    assert result.ir is not None


@pytest.mark.skipif(not WORKLOADS_DIR.is_dir(), reason="../shared/bench/workloads is absent")
@pytest.mark.parametrize("path", json_files(WORKLOADS_DIR), ids=lambda p: p.name)
def test_benchmark_workload_compiles_with_zero_errors(path: Path) -> None:
    assert errors_of(compile_file(path)) == []


@pytest.mark.parametrize("path", example_files(), ids=lambda p: p.name)
def test_example_compiles_without_errors_or_warnings(path: Path) -> None:
    result = compile_text(path.read_text(encoding="utf-8"), examples_resolver())
    assert [d.format(path.name) for d in result.diagnostics] == []


def test_there_is_one_example_per_node_type_each_with_a_description() -> None:
    from langorch.ckp.nodes import NODE_TYPES

    names = {p.name for p in example_files()}
    for node_type in NODE_TYPES:
        path = next(p for p in example_files() if p.name == f"{node_type}_example.ckp.json")
        result = compile_file(path)
        assert result.ir is not None and result.procedure is not None
        assert node_type in {n.type for n in result.ir.nodes.values()}, path.name
        assert (result.procedure.description or "").startswith(f"{node_type}:"), path.name
    assert len(names) >= len(NODE_TYPES)


def test_subflow_example_calls_another_example() -> None:
    result = compile_text((example_files()[0].parent / "subflow_example.ckp.json").read_text(),
                          examples_resolver())
    assert result.ir is not None
    callee = result.ir.nodes["price_order"].payload.procedure_id  # type: ignore[union-attr]
    assert examples_resolver()(callee, None) is not None


@needs_reference
def test_multi_agent_sample_binds_every_channel() -> None:
    result = compile_file(_reference("sample_workflow_multi_agent.json"))
    assert result.ir is not None
    channels = {s.binding.channel for n in result.ir.nodes.values() for s in getattr(n.payload, "steps", ())}
    assert {"WEB", "DESKTOP", "EMAIL", "DATABASE"} <= channels
    assert result.ir.trigger is not None and result.ir.trigger.schedule == "0 9 * * 1-5"
    assert {s.name for s in result.ir.secrets} == {"email_password", "erp_api_key", "portal_credentials"}
    assert result.ir.nodes["validate_in_portal"].region is not None  # the loop body
    # db_connection is read but not declared: a warning, not an error
    assert [d.code for d in result.warnings] == [Code.UNKNOWN_SECRET]


@needs_reference
def test_node_list_reference_files_are_read_through_the_dialects() -> None:
    for name in ("demo_case_triage_with_swarm.json", "test_secrets_workflow.ckp.json"):
        result = compile_file(_reference(name))
        assert Code.LEGACY_DIALECT in {d.code for d in result.warnings}
        assert result.ir is not None and result.ir.start_node in result.ir.nodes
