"""The benchmark workloads: the shared files when ``../shared/bench/workloads`` is beside
the repository (the same documents the LangGraph floor is measured with), else the same
shapes built here, so `make bench` measures what it can on a plain clone.

- ``chain20``: 20 processing nodes in a line (two set_variable operations each), then terminate.
- ``loop50``: a loop over 50 items with a one-operation processing body.
- ``parallel4``: four branches of three processing nodes each, joined, then terminate.
- ``approval``: a processing node, a human_approval gate, a processing node, terminate.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SHARED_BENCH = Path(os.environ.get("LANGORCH_BENCH_SHARED") or ROOT.parent / "shared" / "bench")
"""The shared benchmark folder (``LANGORCH_BENCH_SHARED`` points elsewhere, e.g. to a missing one)."""
SHARED_WORKLOADS = SHARED_BENCH / "workloads"
NAMES = ("chain20", "loop50", "parallel4", "approval")


def _doc(name: str, start: str, nodes: dict[str, Any], variables: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"procedure_id": f"bench_{name}", "version": "1.0.0", "status": "active",
            "global_config": {"max_retries": 0, "timeout_ms": 600000}, "variables_schema": variables or {},
            "workflow_graph": {"start_node": start, "nodes": nodes}}


def _set(variable: str, value: Any) -> dict[str, Any]:
    return {"action": "set_variable", "variable": variable, "value": value}


def chain(length: int = 20) -> dict[str, Any]:
    nodes: dict[str, Any] = {}
    for i in range(1, length + 1):
        nodes[f"p{i}"] = {"type": "processing", "operations": [_set("counter", i), _set("trail", f"{{{{trail}}}}.{i}")],
                          "next_node": f"p{i + 1}" if i < length else "done"}
    nodes["done"] = {"type": "terminate", "status": "success", "outputs": {"trail": "{{trail}}"}}
    return _doc(f"chain{length}", "p1", nodes, {"trail": {"type": "string", "default": "s"}})


def loop(items: int = 50) -> dict[str, Any]:
    return _doc(f"loop{items}", "init", {
        "init": {"type": "processing", "operations": [_set("items", list(range(items))), _set("seen", "s")],
                 "next_node": "loop"},
        "loop": {"type": "loop", "iterator": "items", "iterator_variable": "item", "index_variable": "idx",
                 "body_node": "body", "collect_variable": "collected", "max_iterations": 1000, "next_node": "done"},
        "body": {"type": "processing", "operations": [_set("seen", "{{seen}}.{{item}}")], "next_node": "loop"},
        "done": {"type": "terminate", "status": "success"},
    })


def parallel(branches: int = 4, depth: int = 3) -> dict[str, Any]:
    forks = [{"branch_id": f"b{b}", "start_node": f"b{b}_1"} for b in range(1, branches + 1)]
    nodes: dict[str, Any] = {"fork": {"type": "parallel", "branches": forks, "wait_strategy": "all",
                                      "branch_failure": "continue", "next_node": "done"}}
    for b in range(1, branches + 1):
        for d in range(1, depth + 1):
            node: dict[str, Any] = {"type": "processing", "operations": [_set(f"b{b}_v", d)]}
            if d < depth:
                node["next_node"] = f"b{b}_{d + 1}"
            nodes[f"b{b}_{d}"] = node
    nodes["done"] = {"type": "terminate", "status": "success"}
    return _doc(f"parallel{branches}", "fork", nodes)


def approval() -> dict[str, Any]:
    return _doc("approval", "prep", {
        "prep": {"type": "processing", "operations": [_set("stage", "prepped")], "next_node": "gate"},
        "gate": {"type": "human_approval", "prompt": "Approve bench run?", "decision_type": "approve_reject",
                 "on_approve": "after", "on_reject": "rejected"},
        "after": {"type": "processing", "operations": [_set("stage", "approved")], "next_node": "done"},
        "done": {"type": "terminate", "status": "success"},
        "rejected": {"type": "terminate", "status": "failed"},
    })


_BUILT = {"chain20": chain, "loop50": loop, "parallel4": parallel, "approval": approval}


def shared_available() -> bool:
    return SHARED_WORKLOADS.is_dir()


def source() -> str:
    """Where the workloads come from, for the benchmark's report."""
    return str(SHARED_WORKLOADS) if shared_available() else "bench/workloads.py (../shared/bench is absent)"


def workload(name: str) -> dict[str, Any]:
    """The CKP document of workload ``name`` (one of :data:`NAMES`)."""
    path = SHARED_WORKLOADS / f"{name}.ckp.json"
    if path.is_file():
        loaded: dict[str, Any] = json.loads(path.read_text())
        return loaded
    return _BUILT[name]()
