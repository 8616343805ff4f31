"""The exported JSON Schema: valid Draft 2020-12, accepts every real CKP file, rejects wrong types."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from langorch.ckp import ckp_json_schema
from tests.ckp.builders import REFERENCE_DIR, WORKLOADS_DIR, example_files, json_files, load

SCHEMA = ckp_json_schema()
VALIDATOR = Draft202012Validator(SCHEMA)


def _real_files() -> list[Path]:
    return [*example_files(), *json_files(REFERENCE_DIR), *json_files(WORKLOADS_DIR)]


def _errors(document: Any) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in VALIDATOR.iter_errors(document)]


def test_schema_is_valid_draft_2020_12() -> None:
    Draft202012Validator.check_schema(SCHEMA)
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_schema_is_plain_json() -> None:
    assert json.loads(json.dumps(SCHEMA)) == SCHEMA


def test_every_example_is_covered() -> None:
    assert len(example_files()) >= 11


@pytest.mark.parametrize("path", _real_files(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_schema_accepts_every_real_ckp_file(path: Path) -> None:
    assert _errors(load(path)) == []


def test_reference_folder_is_present_or_skipped() -> None:
    if not REFERENCE_DIR.is_dir():
        pytest.skip("../shared/ckp-reference is not present")
    assert json_files(REFERENCE_DIR)


@pytest.mark.parametrize(
    ("mutate", "what"),
    [
        (lambda d: d.update(procedure_id=42), "procedure_id is a number"),
        (lambda d: d["workflow_graph"].update(nodes=[]), "nodes is an array"),
        (lambda d: d["workflow_graph"]["nodes"]["greet"].update(steps="log"), "steps is a string"),
        (lambda d: d["workflow_graph"]["nodes"]["greet"]["steps"][0].update(timeout_ms="soon"), "timeout is text"),
        (lambda d: d["workflow_graph"]["nodes"]["done"].update(status="maybe"), "status not in enum"),
        (lambda d: d["workflow_graph"]["nodes"]["greet"].update(type="teleport"), "unknown node type"),
        (lambda d: d.update(variables_schema={"required": {"x": {"type": "money"}}}), "variable type"),
    ],
)
def test_schema_rejects_a_wrong_type(mutate: Any, what: str) -> None:
    example = load(next(p for p in example_files() if p.name == "sequence_example.ckp.json"))
    broken = copy.deepcopy(example)
    mutate(broken)
    assert _errors(broken), what


def test_schema_allows_a_dollar_schema_key_for_editors() -> None:
    example = load(example_files()[0])
    assert _errors({"$schema": "./ckp.schema.json", **example}) == []
