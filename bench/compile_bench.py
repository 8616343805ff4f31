"""How much the CKP compiler costs over merely reading the document.

Generates a realistic 1,000-node procedure (a chain of sequence, processing and logic
nodes that read and write variables through ``{{templates}}`` and conditions), then
times, best and median of N rounds:

* ``compile_text``: parse, validate, bind, build the IR and hash it;
* the floor: ``json.loads`` + ``Procedure.model_validate`` of the same text (what any
  Pydantic-based reader pays).

``compile_text`` is measured warm (the same document again: templates, conditions and
action bindings are parsed once per distinct text and cached, as when an editor
recompiles on every keystroke) and cold (those caches cleared before each round, as for
a document seen for the first time). It prints the figures and their ratios to the
floor (the target is at most 3×). It is a report: the exit status is always 0.

    .venv/bin/python bench/compile_bench.py [--nodes 1000] [--rounds 15] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

from langorch.ckp import compile_text, native
from langorch.ckp.binder import resolve_action
from langorch.ckp.dataflow import _condition_refs, _template_refs
from langorch.ckp.expressions import parse_expression
from langorch.ckp.nodes import Procedure
from langorch.ckp.templates import _references

TARGET_RATIO = 3.0


def generate(count: int) -> dict[str, Any]:
    """A chain of ``count`` nodes (the last one terminates) that reads what it writes."""
    nodes: dict[str, Any] = {}
    ids = [f"n{i:04d}" for i in range(count)]
    for i, node_id in enumerate(ids[:-1]):
        nxt = ids[i + 1]
        prev_total = f"total_{i - 1}" if i >= 1 and (i - 1) % 3 == 1 else "amount"
        kind = i % 3
        if kind == 0:
            nodes[node_id] = {
                "type": "sequence",
                "description": f"Stage {i}: record progress for {{{{customer_name}}}}",
                "steps": [
                    {"step_id": "log_progress", "action": "log",
                     "value": f"Order {{{{order_id}}}} reached stage {i} for {{{{customer_name}}}}"},
                    {"step_id": "remember", "action": "set_variable", "variable": f"stage_{i}",
                     "value": "{{order_id}}-" + str(i)},
                    {"step_id": "pause", "action": "wait", "wait_ms": 1},
                ],
                "next_node": nxt,
            }
        elif kind == 1:
            nodes[node_id] = {
                "type": "processing",
                "description": f"Stage {i}: running total",
                "operations": [
                    {"action": "calculate", "expression": f"{{{{{prev_total}}}}} + {{{{amount}}}} * 2",
                     "output_variable": f"total_{i}"},
                    {"action": "format_string", "template": f"Total after stage {i}: {{{{total_{i}}}}}",
                     "output_variable": f"summary_{i}"},
                    {"action": "log", "message": f"{{{{summary_{i}}}}} (stage {{{{stage_{i - 1}}}}})",
                     "level": "INFO"},
                ],
                "next_node": nxt,
            }
        else:
            nodes[node_id] = {
                "type": "logic",
                "description": f"Stage {i}: route large orders",
                "rules": [
                    {"condition": f"{{{{total_{i - 1}}}}} > 10000 and {{{{priority}}}} == 'high'",
                     "next_node": nxt},
                    {"condition": f"{{{{total_{i - 1}}}}} < 0", "next_node": nxt},
                ],
                "default_next_node": nxt,
            }
    nodes[ids[-1]] = {"type": "terminate", "status": "success",
                      "outputs": {"order": "{{order_id}}", "customer": "{{customer_name}}"}}
    return {
        "procedure_id": f"chain_{count}",
        "version": "1.0.0",
        "description": f"Benchmark chain of {count} nodes",
        "global_config": {"max_retries": 2, "retry_delay_ms": 100, "timeout_ms": 60000},
        "variables_schema": {
            "required": {
                "order_id": {"type": "string", "description": "Order number",
                             "validation": {"regex": "^[A-Z]{2}-\\d+$"}},
                "amount": {"type": "number", "validation": {"min": 0}},
            },
            "optional": {
                "customer_name": {"type": "string", "default": "ACME"},
                "priority": {"type": "string", "default": "normal",
                             "validation": {"allowed_values": ["low", "normal", "high"]}},
            },
        },
        "workflow_graph": {"start_node": ids[0], "nodes": nodes},
    }


def clear_caches() -> None:
    """Forget every parsed template, condition and action binding (a cold compile)."""
    _template_refs.cache_clear()
    _condition_refs.cache_clear()
    parse_expression.cache_clear()
    resolve_action.cache_clear()
    _references.cache_clear()


def timed_pair(first: Callable[[], object], second: Callable[[], object], rounds: int,
               before_second: Callable[[], None] | None = None) -> tuple[list[float], list[float]]:
    """Wall times of ``first`` and ``second``, alternated round by round after one warm-up,
    so that both see the same machine load (figures here drift by ±30% otherwise)."""
    first()
    second()
    a: list[float] = []
    b: list[float] = []
    for _ in range(rounds):
        start = time.perf_counter()
        first()
        a.append(time.perf_counter() - start)
        if before_second is not None:
            before_second()
        start = time.perf_counter()
        second()
        b.append(time.perf_counter() - start)
    return a, b


def _line(label: str, times: list[float]) -> str:
    return f"{label:<48} best {min(times) * 1000:8.2f} ms  median {statistics.median(times) * 1000:8.2f} ms"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--nodes", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--profile", action="store_true", help="print a cProfile of compile_text")
    args = parser.parse_args(argv)

    text = json.dumps(generate(args.nodes))
    result = compile_text(text)
    if not result.ok:
        for d in result.errors[:10]:
            print(d.format("generated"), file=sys.stderr)
        print("the generated procedure does not compile; figures below are not meaningful", file=sys.stderr)

    def floor() -> object:
        return Procedure.model_validate(json.loads(text))

    def compiler() -> object:
        return compile_text(text)

    floor_times, warm_times = timed_pair(floor, compiler, args.rounds)
    _, cold_times = timed_pair(floor, compiler, args.rounds, before_second=clear_caches)
    floor_best, floor_median = min(floor_times), statistics.median(floor_times)
    print(f"compiler: {native.status}")
    print(f"document: {args.nodes} nodes, {len(text) / 1024:.0f} KiB, "
          f"{len(result.diagnostics)} diagnostic(s), ir {result.ir.ir_hash[:12] if result.ir else '-'}")
    print(_line("floor (json.loads + Procedure.model_validate)", floor_times))
    print(_line("compile_text, warm (templates/conditions cached)", warm_times))
    print(_line("compile_text, cold (caches cleared each round)", cold_times))
    for label, times in (("warm", warm_times), ("cold", cold_times)):
        ratio_best = min(times) / floor_best
        ratio_median = statistics.median(times) / floor_median
        verdict = "within" if ratio_median <= TARGET_RATIO else "ABOVE"
        print(f"ratio {label}: best {ratio_best:.2f}x  median {ratio_median:.2f}x  "
              f"({verdict} the {TARGET_RATIO:g}x target)")

    if args.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(5):
            compile_text(text)
        profiler.disable()
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
