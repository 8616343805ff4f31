"""Small builders for CKP documents in compiler tests, and where the real CKP files live."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from langorch.ckp import CompileResult, Diagnostic, compile_data, compile_text

REPO = Path(__file__).resolve().parents[2]
EXAMPLES_DIR = REPO / "ckp_examples"
SHARED_DIR = REPO.parent / "shared"
REFERENCE_DIR = SHARED_DIR / "ckp-reference"
WORKLOADS_DIR = SHARED_DIR / "bench" / "workloads"

TERMINATE: dict[str, Any] = {"type": "terminate", "status": "success"}


def doc(nodes: Mapping[str, Any], start: str | None = None, **root: Any) -> dict[str, Any]:
    """A canonical CKP document; ``start`` defaults to the first node.

    ``variables_schema`` defaults to an empty declaration (strict data flow: an
    undefined variable is an error); pass ``variables_schema=None`` to leave it out.
    """
    out: dict[str, Any] = {"procedure_id": "test_proc", "version": "1.0.0"}
    schema = root.pop("variables_schema", {})
    if schema is not None:
        out["variables_schema"] = schema
    out.update(root)
    first = start if start is not None else next(iter(nodes), None)
    graph: dict[str, Any] = {"nodes": copy.deepcopy(dict(nodes))}
    if first is not None:
        graph["start_node"] = first
    out["workflow_graph"] = graph
    return out


def seq(*steps: Mapping[str, Any], next_node: str | None = "end", **fields: Any) -> dict[str, Any]:
    """A sequence node; without steps it logs once."""
    body = [dict(s) for s in steps] or [{"step_id": "s0", "action": "log", "value": "hello"}]
    node: dict[str, Any] = {"type": "sequence", "steps": body, "next_node": next_node}
    node.update(fields)
    return node


def compile_doc(document: Any, resolver: Callable[[str, str | None], Any] | None = None) -> CompileResult:
    result = compile_data(document, resolver)
    assert isinstance(result, CompileResult)
    return result


def with_code(result: CompileResult, code: str) -> list[Diagnostic]:
    return [d for d in result.diagnostics if d.code == code]


def pointers(result: CompileResult, code: str) -> list[str]:
    return [d.path for d in with_code(result, code)]


def errors_of(result: CompileResult) -> list[str]:
    return [d.format() for d in result.errors]


def json_files(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.json")) if folder.is_dir() else []


def example_files() -> list[Path]:
    return sorted(EXAMPLES_DIR.glob("*.ckp.json"))


def compile_file(path: Path) -> CompileResult:
    return compile_text(path.read_text(encoding="utf-8"))


def load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def examples_resolver() -> Callable[[str, str | None], dict[str, Any] | None]:
    """Resolve subflows to the procedures in ckp_examples/."""
    docs = {d["procedure_id"]: d for d in map(load, example_files()) if "procedure_id" in d}
    return lambda procedure_id, version: docs.get(procedure_id)
