"""`make bench` on a plain clone: without ../shared it still measures and says what it skipped."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_bench_without_the_shared_floor_measures_what_it_can_and_names_what_it_skipped(tmp_path: Path) -> None:
    env = {**os.environ, "LANGORCH_BENCH_SHARED": str(tmp_path / "absent")}
    done = subprocess.run([sys.executable, str(REPO / "bench" / "run_bench.py"), "--runs", "3", "--skip-compile",
                           "--skip-api", "--skip-scheduler", "--skip-load"], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Runtime per node: LangOrch chain20" in done.stdout
    assert "approval resume" in done.stdout
    assert done.stdout.strip().splitlines()[-1].startswith("Skipped: runtime overhead ratio against bare LangGraph")
    assert "bench/workloads.py" in done.stderr


def test_the_scheduler_benchmark_fires_every_schedule_and_prints_its_lag() -> None:
    done = subprocess.run([sys.executable, str(REPO / "bench" / "scheduler_bench.py"), "--schedules", "20"],
                          cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Scheduler lag: 20 schedules due at the same instant" in done.stdout
    assert "p99" in done.stdout and "only" not in done.stdout, done.stdout


def test_the_load_benchmark_runs_every_run_once_streams_their_ends_and_times_a_recovery() -> None:
    done = subprocess.run([sys.executable, str(REPO / "bench" / "load" / "run.py"), "--runs", "30", "--workers", "2",
                           "--sse", "10"], cwd=REPO, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    out = done.stdout
    assert "30 completed, 0 ran twice (or not once)" in out, out
    assert "10 saw their run end" in out, out
    assert "run completed" in out and "Recovery: kill -9" in out, out
    written = out.strip().splitlines()[-1].removeprefix("Written to ").strip()
    figures = (REPO / written).read_text()
    (REPO / written).unlink()
    assert '"load"' in figures and '"recovery"' in figures
