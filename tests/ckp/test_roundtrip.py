"""parse → dump → parse gives an equal model and the same IR hash; unknown fields survive."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from langorch.ckp import compile_data, compile_text
from langorch.ckp.nodes import Procedure
from tests.ckp.builders import REFERENCE_DIR, TERMINATE, WORKLOADS_DIR, doc, example_files, json_files, seq


def dump(procedure: Procedure) -> dict[str, Any]:
    data: dict[str, Any] = procedure.model_dump(mode="json", by_alias=True, exclude_unset=True)
    return data


def _files() -> list[Path]:
    return [*example_files(), *json_files(REFERENCE_DIR), *json_files(WORKLOADS_DIR)]


@pytest.mark.parametrize("path", _files(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_real_file_round_trips_to_an_equal_model_and_ir_hash(path: Path) -> None:
    first = compile_text(path.read_text(encoding="utf-8"))
    assert first.procedure is not None and first.ir is not None
    dumped = dump(first.procedure)
    second = compile_data(json.loads(json.dumps(dumped)))
    assert second.procedure == first.procedure
    assert second.ir == first.ir
    assert second.ir is not None and second.ir.ir_hash == first.ir.ir_hash
    assert dump(second.procedure) == dumped  # a fixed point


def test_unknown_fields_survive_the_round_trip_at_every_level() -> None:
    original = doc({
        "a": seq({"action": "log", "value": "x", "x-step": [1, 2]}, **{"x-node": {"k": "v"}}),
        "end": {**TERMINATE, "x-end": None},
    }, variables_schema={"v": {"type": "string", "x-var": True}},
       global_config={"max_retries": 1, "x-config": "kept"}, **{"x-root": 1, "$schema": "./ckp.schema.json"})
    first = compile_data(original)
    assert first.procedure is not None
    dumped = dump(first.procedure)
    assert dumped["x-root"] == 1 and dumped["$schema"] == "./ckp.schema.json"
    assert dumped["global_config"]["x-config"] == "kept"
    assert dumped["variables_schema"]["v"]["x-var"] is True
    node = dumped["workflow_graph"]["nodes"]["a"]
    assert node["x-node"] == {"k": "v"} and node["steps"][0]["x-step"] == [1, 2]
    assert dumped["workflow_graph"]["nodes"]["end"]["x-end"] is None
    second = compile_data(dumped)
    assert second.procedure == first.procedure
    assert second.ir is not None and first.ir is not None and second.ir.ir_hash == first.ir.ir_hash


def test_dump_of_a_node_list_document_is_canonical_and_compiles_without_the_dialect_warning() -> None:
    legacy = {"id": "old", "version": 3, "nodes": [
        {"id": "a", "type": "sequence", "steps": [{"action": "log"}]}, {"id": "b", "type": "terminate"}]}
    first = compile_data(legacy)
    assert first.procedure is not None
    canonical = dump(first.procedure)
    assert canonical["workflow_graph"]["start_node"] == "a" and canonical["version"] == "3"
    second = compile_data(canonical)
    assert second.diagnostics == []
    assert second.ir == first.ir
