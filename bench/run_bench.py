"""`make bench`: LangOrch measured against the bare-LangGraph floor in the same run.

1. Runtime overhead: the shared chain20 workload through our Runner on AsyncSqliteSaver,
   per node, as a ratio of ``../shared/bench/langgraph_floor.py`` (same checkpointer,
   same durability mode, same machine, same run). Target ≤ 2.0. Without ``../shared``
   the ratio is skipped (the report says so) and LangOrch's own figures are printed.
2. Other shared workloads (loop50, parallel4, approval resume) as absolute figures.
3. Compiler: a generated 1,000-node CKP, as a ratio of json.loads + Pydantic validation
   (bench/compile_bench.py). Target ≤ 3.0.
4. Through the API: chain20 runs/s with the embedded worker on SQLite (target ≥ 15) and
   approval decision → run completed latency (target p95 ≤ 100 ms) (bench/api_bench.py).
5. Scheduler lag: 100 schedules due at the same instant → runs queued, p50/p99 (target
   p99 < 1 s) (bench/scheduler_bench.py).
6. Load, SSE and recovery: 1,000 runs of a 20-node procedure over 4 workers on PostgreSQL
   (none may run twice), 200 SSE clients on live runs, and kill -9 of the server during a
   wait (bench/load/run.py; figures also in bench/results/).
Workloads come from bench/workloads.py (the shared files when present).
Prints figures; never fails the build (single figures drift ±30% on this machine).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiosqlite
from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

from langorch.ckp import compile_text
from langorch.ckp.ir import ProcedureIR
from langorch.runtime.context import Services
from langorch.runtime.ports import RunEvent
from langorch.runtime.runner import Runner

sys.path.insert(0, str(Path(__file__).resolve().parent))
from workloads import SHARED_BENCH, source, workload

ROOT = Path(__file__).resolve().parent.parent
FLOOR = SHARED_BENCH / "langgraph_floor.py"


class CountingSink:
    """Keeps the last events only: the cost of producing events is measured, not of storing them."""

    def __init__(self) -> None:
        self.count = 0

    async def emit(self, event: RunEvent) -> None:
        self.count += 1


def _load(name: str) -> ProcedureIR:
    ir = compile_text(json.dumps(workload(name))).ir
    assert ir is not None, name
    return ir


async def _saver(path: str) -> tuple[aiosqlite.Connection, AsyncSqliteSaver]:
    for suffix in ("", "-wal", "-shm"):
        Path(path + suffix).unlink(missing_ok=True)
    conn = await aiosqlite.connect(path)
    await conn.execute("PRAGMA journal_mode=WAL")  # the floor's settings exactly
    saver = AsyncSqliteSaver(conn)
    await saver.setup()
    return conn, saver


async def _time_runs(runner: Runner, ir: ProcedureIR, runs: int, warmup: int, prefix: str,
                     approve: bool = False) -> list[float]:
    times = []
    for i in range(warmup + runs):
        run_id = f"{prefix}-{i}"
        started = time.perf_counter()
        outcome = await runner.start(ir, run_id, {})
        if approve:
            first = time.perf_counter()
            outcome = await runner.resume(ir, run_id, {"decision": "approve"})
            started = first
        assert outcome.status == "completed", (ir.procedure_id, outcome.status, outcome.error)
        if i >= warmup:
            times.append(time.perf_counter() - started)
    return times


async def engine(runs: int, workdir: str) -> dict[str, Any]:
    results: dict[str, Any] = {}
    conn, saver = await _saver(os.path.join(workdir, "engine.sqlite"))
    try:
        chain = _load("chain20")
        nodes = len(chain.nodes)
        for mode in ("sync", "async", "exit"):
            runner = Runner(Services(events=CountingSink()), saver, durability=mode)
            times = await _time_runs(runner, chain, runs, max(10, runs // 10), f"chain-{mode}")
            med = statistics.median(times)
            results[f"chain20/{mode}"] = {"median_ms": med * 1e3, "per_node_us": med / nodes * 1e6,
                                          "nodes": nodes}
        runner = Runner(Services(events=CountingSink()), saver, durability="async")
        for name, label, approve in (("loop50", "loop50", False),
                                     ("parallel4", "parallel4", False),
                                     ("approval", "approval resume", True)):
            ir = _load(name)
            times = await _time_runs(runner, ir, max(20, runs // 4), 5, label, approve=approve)
            results[label] = {"median_ms": statistics.median(times) * 1e3,
                              "p95_ms": sorted(times)[int(len(times) * 0.95) - 1] * 1e3}
    finally:
        await conn.close()
    return results


def floor(runs: int, workdir: str) -> dict[str, Any]:
    out = os.path.join(workdir, "floor.json")
    cmd = [sys.executable, str(FLOOR), "--nodes", "21", "--runs", str(runs),
           "--dir", workdir, "--parse-reps", "0", "--interrupt-runs", str(max(20, runs // 4)), "--out", out]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    data = json.loads(Path(out).read_text())
    return {r["config"]: r for r in data["results"]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--skip-compile", action="store_true")
    parser.add_argument("--skip-api", action="store_true")
    parser.add_argument("--skip-scheduler", action="store_true")
    parser.add_argument("--skip-load", action="store_true")
    args = parser.parse_args()
    skipped: list[str] = []
    with tempfile.TemporaryDirectory() as workdir:
        base: dict[str, Any] = {}
        if FLOOR.is_file():
            print("measuring the LangGraph floor (21-node chain, same machine, same run)…", file=sys.stderr)
            base = floor(args.runs, workdir)
        else:
            skipped.append(f"runtime overhead ratio against bare LangGraph ({FLOOR} is absent)")
        print(f"measuring LangOrch on chain20 (20 processing nodes + terminate; workloads from {source()})…",
              file=sys.stderr)
        ours = asyncio.run(engine(args.runs, workdir))
    if base:
        print("\nRuntime overhead per node: LangOrch chain20 vs bare LangGraph, AsyncSqliteSaver (target ≤ 2.0)")
        print(f"{'durability':<11}{'floor µs/node':>15}{'ours µs/node':>14}{'ratio':>8}{'ours ms/run':>13}")
        for mode in ("sync", "async", "exit"):
            f = base[f"sqlite/{mode}"]["per_node_us"]
            o = ours[f"chain20/{mode}"]["per_node_us"]
            print(f"{mode:<11}{f:>15.0f}{o:>14.0f}{o / f:>8.2f}{ours[f'chain20/{mode}']['median_ms']:>13.1f}")
    else:
        print("\nRuntime per node: LangOrch chain20, AsyncSqliteSaver (no floor to compare with)")
        print(f"{'durability':<11}{'ours µs/node':>14}{'ours ms/run':>13}")
        for mode in ("sync", "async", "exit"):
            r = ours[f"chain20/{mode}"]
            print(f"{mode:<11}{r['per_node_us']:>14.0f}{r['median_ms']:>13.1f}")
    print("\nOther workloads (AsyncSqliteSaver, durability=async)")
    for label in ("loop50", "parallel4", "approval resume"):
        r = ours[label]
        print(f"  {label:<16} median {r['median_ms']:.1f} ms   p95 {r['p95_ms']:.1f} ms")
    resume_floor = base.get("resume sqlite/async")
    if resume_floor:
        print(f"  floor resume     median {resume_floor['median_ms']:.1f} ms (3-node interrupt graph)")
    if not args.skip_compile:
        print()
        sys.stdout.flush()
        subprocess.run([sys.executable, str(ROOT / "bench" / "compile_bench.py")], check=False)
    if not args.skip_api:
        print("\nThrough the API (embedded worker, SQLite)", flush=True)
        sys.path.insert(0, str(ROOT / "bench"))
        from api_bench import api_figures, print_figures

        print_figures(api_figures(runs=200, approvals=50))
    if not args.skip_scheduler:
        sys.stdout.flush()
        subprocess.run([sys.executable, str(ROOT / "bench" / "scheduler_bench.py")], check=False)
    if not args.skip_load:
        print("\nLoad, streaming and recovery (bench/load/run.py)", flush=True)
        subprocess.run([sys.executable, str(ROOT / "bench" / "load" / "run.py")], check=False)
    if skipped:
        print("\nSkipped: " + "; ".join(skipped))
    return 0


if __name__ == "__main__":
    sys.exit(main())
