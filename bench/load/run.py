"""Load, streaming and recovery figures on loopback (`make bench` runs it; PostgreSQL needed).

1. **Load**: N runs (default 1,000) of the ``chain20`` workload (20 nodes) through one API
   process and M ``langorch worker`` processes (default 4) on a fresh PostgreSQL database.
   Every run must complete, and none may run twice (one ``run_started`` and one
   ``run_completed`` event each, one job attempt). Throughput, and p50/p95/p99 of each
   run's time from its creation to its end.
2. **SSE**: K clients (default 200) each following one live run's stream (a run that waits
   3 s between two steps) until its end; how long after the run ended in the database its
   ``run_completed`` reached the client (p50/p95/max) — a stalled stream shows there.
3. **Recovery**: ``langorch serve`` on SQLite killed with kill -9 2 s into an 8 s wait and
   started again; seconds from the restart to the run's completion.
4. **Soak** (``--soak-minutes``, not in `make bench`): runs submitted at a steady rate; the
   API process's resident memory sampled every 30 s, first, last and largest.

Figures are printed and written to ``bench/results/load-<time>.json``. A figure, never a
pass/fail: the machine sets it.

    python bench/load/run.py [--runs 1000] [--workers 4] [--sse 200] [--soak-minutes 20]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import psycopg

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))
from workloads import workload  # noqa: E402

RESULTS = ROOT / "bench" / "results"
PG_URL = os.environ.get("LANGORCH_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
LANGORCH = str(Path(sys.executable).with_name("langorch"))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def _summary(values: list[float]) -> dict[str, float]:
    if not values:
        return {"p50": float("nan"), "p95": float("nan"), "p99": float("nan"), "max": float("nan")}
    return {"p50": round(statistics.median(values), 3), "p95": round(_quantile(values, 0.95), 3),
            "p99": round(_quantile(values, 0.99), 3), "max": round(max(values), 3)}


@contextmanager
def fresh_database() -> Iterator[str]:
    """A new PostgreSQL database (libpq URL), dropped afterwards."""
    name = f"langorch_load_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = PG_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        yield url
    finally:
        with psycopg.connect(PG_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class Cluster:
    """One API process (no embedded worker) and ``workers`` worker processes on one database."""

    def __init__(self, db_url: str, workdir: Path, workers: int, concurrency: int = 8) -> None:
        self.url_db = db_url.replace("postgresql://", "postgresql+psycopg://", 1)
        self.env = {**os.environ, "LANGORCH_DB__URL": self.url_db, "LANGORCH_AUTH__RATE_LIMIT_PER_MINUTE": "0",
                    "LANGORCH_WORKER__EMBEDDED": "false", "LANGORCH_WORKER__CONCURRENCY": str(concurrency),
                    "LANGORCH_WORKER__POLL_INTERVAL_S": "0.5"}
        self.workdir = workdir
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        subprocess.run([LANGORCH, "migrate"], env=self.env, cwd=workdir, check=True, capture_output=True)
        key = subprocess.run([LANGORCH, "keys", "create", "--name", "load", "--role", "admin"], env=self.env,
                             cwd=workdir, check=True, capture_output=True, text=True).stdout.strip()
        self.headers = {"Authorization": f"Bearer {key}"}
        self.procs: list[subprocess.Popen[bytes]] = []
        self.api = self._spawn("api", [LANGORCH, "serve", "--no-worker", "--no-migrate", "--port", str(self.port),
                                       "--log-level", "warning"])
        for i in range(workers):
            self._spawn(f"worker{i}", [LANGORCH, "worker", "--worker-id", f"load-{i}", "--log-level", "WARNING"])
        self._wait_ready()

    def _spawn(self, name: str, cmd: list[str]) -> subprocess.Popen[bytes]:
        log = (self.workdir / f"{name}.log").open("wb")
        proc = subprocess.Popen(cmd, env=self.env, cwd=self.workdir, stdout=log, stderr=subprocess.STDOUT)
        self.procs.append(proc)
        return proc

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/api/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError("the API did not start: " + (self.workdir / "api.log").read_text()[-2000:])

    def rss_mb(self, proc: subprocess.Popen[bytes] | None = None) -> float:
        """A process's resident memory (MB), from /proc: the API's unless ``proc`` is given."""
        for line in Path(f"/proc/{(proc or self.api).pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def worker_rss_mb(self) -> float:
        """The largest resident memory (MB) of the worker processes."""
        return max((self.rss_mb(p) for p in self.procs if p is not self.api), default=float("nan"))

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


async def _import(client: httpx.AsyncClient, doc: dict[str, Any]) -> str:
    answer = await client.post("/api/procedures", json={"ckp_json": doc})
    if answer.status_code not in (200, 201):
        raise RuntimeError(f"import: {answer.status_code} {answer.text[:500]}")
    return str(doc["procedure_id"])


async def _submit(client: httpx.AsyncClient, procedure_id: str, count: int, parallel: int = 32) -> list[str]:
    gate = asyncio.Semaphore(parallel)

    async def one() -> str:
        async with gate:
            answer = await client.post("/api/runs", json={"procedure_id": procedure_id})
            answer.raise_for_status()
            return str(answer.json()["run_id"])

    return list(await asyncio.gather(*(one() for _ in range(count))))


def _finished(db_url: str, run_ids: list[str]) -> int:
    with psycopg.connect(db_url) as conn:
        row = conn.execute("SELECT count(*) FROM runs WHERE run_id = ANY(%s) AND status IN "
                           "('completed', 'failed', 'canceled')", (run_ids,)).fetchone()
    return int(row[0]) if row else 0


async def load_figures(cluster: Cluster, db_url: str, runs: int) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=cluster.url, headers=cluster.headers, timeout=60) as client:
        procedure_id = await _import(client, workload("chain20"))
        warm = await _submit(client, procedure_id, 20)  # warm-up: every worker has compiled and connected
        deadline = time.monotonic() + 120
        while _finished(db_url, warm) < len(warm) and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
        started = time.monotonic()
        run_ids = await _submit(client, procedure_id, runs)
        posted_s = time.monotonic() - started
        deadline = time.monotonic() + 1800
        while _finished(db_url, run_ids) < runs:
            if time.monotonic() > deadline:
                raise TimeoutError(f"only {_finished(db_url, run_ids)} of {runs} runs finished")
            await asyncio.sleep(0.25)
    with psycopg.connect(db_url) as conn:
        rows = conn.execute("SELECT status, created_at, ended_at FROM runs WHERE run_id = ANY(%s)",
                            (run_ids,)).fetchall()
        starts = dict(conn.execute(
            "SELECT run_id, count(*) FILTER (WHERE type = 'run_started') FROM run_events WHERE run_id = ANY(%s) "
            "GROUP BY run_id", (run_ids,)).fetchall())
        ends = dict(conn.execute(
            "SELECT run_id, count(*) FILTER (WHERE type = 'run_completed') FROM run_events "
            "WHERE run_id = ANY(%s) GROUP BY run_id", (run_ids,)).fetchall())
        attempts = dict(conn.execute("SELECT run_id, max(attempts) FROM run_jobs WHERE run_id = ANY(%s) "
                                     "GROUP BY run_id", (run_ids,)).fetchall())
    completed = [r for r in rows if r[0] == "completed"]
    latencies = [(ended - created).total_seconds() for _s, created, ended in completed if ended]
    first, last = min(r[1] for r in rows), max(r[2] for r in completed if r[2])
    twice = [rid for rid in run_ids if starts.get(rid, 0) != 1 or ends.get(rid, 0) != 1 or attempts.get(rid, 1) != 1]
    return {"runs": runs, "nodes_per_run": 20, "workers": len(cluster.procs) - 1, "completed": len(completed),
            "ran_twice_or_not_once": len(twice), "submit_s": round(posted_s, 2),
            "throughput_runs_per_s": round(len(completed) / (last - first).total_seconds(), 1),
            "run_latency_s": _summary(latencies)}


def _live_doc() -> dict[str, Any]:
    return {"procedure_id": "bench_live", "version": "1.0.0", "status": "active",
            "workflow_graph": {"start_node": "a", "nodes": {
                "a": {"type": "sequence", "next_node": "b", "steps": [
                    {"step_id": "hello", "action": "log", "value": "start"},
                    {"step_id": "pause", "action": "wait", "duration_ms": 3000}]},
                "b": {"type": "sequence", "next_node": "done", "steps": [
                    {"step_id": "bye", "action": "log", "value": "end"}]},
                "done": {"type": "terminate", "status": "success"}}}}


async def sse_figures(cluster: Cluster, db_url: str, clients: int) -> dict[str, Any]:
    limits = httpx.Limits(max_connections=clients + 40, max_keepalive_connections=clients + 40)
    async with httpx.AsyncClient(base_url=cluster.url, headers=cluster.headers, timeout=120,
                                 limits=limits) as client:
        procedure_id = await _import(client, _live_doc())
        run_ids = await _submit(client, procedure_id, clients)

        async def follow(run_id: str) -> tuple[str, float | None, int]:
            received = 0
            async with client.stream("GET", f"/api/runs/{run_id}/stream") as stream:
                async for line in stream.aiter_lines():
                    if line.startswith("id:"):
                        received += 1
                    elif line.startswith("data:") and '"run_completed"' in line:
                        if json.loads(line[5:]).get("event_type") == "run_completed":
                            return run_id, time.time(), received
                    elif line.startswith("event: end"):
                        return run_id, None, received
            return run_id, None, received

        results = await asyncio.wait_for(asyncio.gather(*(follow(r) for r in run_ids)), 300)
    with psycopg.connect(db_url) as conn:
        ended = dict(conn.execute("SELECT run_id, ended_at FROM runs WHERE run_id = ANY(%s)",
                                  (run_ids,)).fetchall())
    delays = [got - ended[rid].replace(tzinfo=ended[rid].tzinfo or UTC).timestamp()
              for rid, got, _n in results if got is not None and ended.get(rid)]
    return {"clients": clients, "streams_that_saw_the_end": len(delays),
            "events_per_stream": round(statistics.mean(n for _r, _g, n in results), 1),
            "end_delivery_delay_ms": {k: round(v * 1000, 1) for k, v in _summary(delays).items()}}


async def soak_figures(cluster: Cluster, db_url: str, minutes: float, rate_per_s: float = 5.0) -> dict[str, Any]:
    """Runs submitted at ``rate_per_s`` for ``minutes``; every 30 s the API's and the largest
    worker's resident memory; at the end, how the runs ended and how many were still queued."""
    samples: list[tuple[float, float, float]] = []

    def sample(started: float) -> None:
        samples.append((round(time.monotonic() - started), round(cluster.rss_mb(), 1),
                        round(cluster.worker_rss_mb(), 1)))

    async with httpx.AsyncClient(base_url=cluster.url, headers=cluster.headers, timeout=60) as client:
        procedure_id = await _import(client, workload("chain20"))
        started = time.monotonic()
        next_sample = started
        submitted = 0
        while time.monotonic() - started < minutes * 60:
            if time.monotonic() >= next_sample:
                sample(started)
                next_sample += 30
            await client.post("/api/runs", json={"procedure_id": procedure_id})
            submitted += 1
            await asyncio.sleep(1 / rate_per_s)
    sample(started)
    with psycopg.connect(db_url) as conn:
        statuses = dict(conn.execute("SELECT status, count(*) FROM runs GROUP BY status").fetchall())
    return {"minutes": minutes, "runs_submitted": submitted, "runs_by_status_at_end": statuses,
            "api_rss_mb_first": samples[0][1], "api_rss_mb_last": samples[-1][1],
            "api_rss_mb_max": max(s[1] for s in samples), "worker_rss_mb_first": samples[0][2],
            "worker_rss_mb_last": samples[-1][2], "worker_rss_mb_max": max(s[2] for s in samples),
            "samples": [{"at_s": t, "api_rss_mb": a, "worker_rss_mb": w} for t, a, w in samples]}


def recovery_figure(workdir: Path) -> dict[str, Any]:
    """kill -9 of `langorch serve` 2 s into an 8 s wait; seconds from the restart to completion."""
    db = workdir / "recovery.db"
    env = {**os.environ, "LANGORCH_DB__URL": f"sqlite+aiosqlite:///{db}", "LANGORCH_WORKER__POLL_INTERVAL_S": "0.5",
           "LANGORCH_AUTH__RATE_LIMIT_PER_MINUTE": "0"}
    subprocess.run([LANGORCH, "migrate"], env=env, cwd=workdir, check=True, capture_output=True)
    key = subprocess.run([LANGORCH, "keys", "create", "--name", "recovery", "--role", "admin"], env=env, cwd=workdir,
                         check=True, capture_output=True, text=True).stdout.strip()
    headers = {"Authorization": f"Bearer {key}"}
    port = _free_port()
    url = f"http://127.0.0.1:{port}"

    def serve() -> subprocess.Popen[bytes]:
        proc = subprocess.Popen([LANGORCH, "serve", "--port", str(port), "--no-migrate", "--log-level", "warning"],
                                env=env, cwd=workdir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                start_new_session=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/api/health", timeout=1).status_code == 200:
                    return proc
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError("langorch serve did not start")

    doc = {"procedure_id": "bench_recovery", "version": "1.0.0", "status": "active",
           "workflow_graph": {"start_node": "w", "nodes": {
               "w": {"type": "sequence", "next_node": "done",
                     "steps": [{"step_id": "pause", "action": "wait", "duration_ms": 8000}]},
               "done": {"type": "terminate", "status": "success"}}}}
    proc = serve()
    try:
        with httpx.Client(base_url=url, headers=headers, timeout=10) as http:
            http.post("/api/procedures", json={"ckp_json": doc}).raise_for_status()
            run_id = http.post("/api/runs", json={"procedure_id": "bench_recovery"}).json()["run_id"]
            while not any(e["event_type"] == "step_started" for e in http.get(f"/api/runs/{run_id}/events").json()):
                time.sleep(0.05)
        time.sleep(2)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)
        restarted = time.monotonic()
        proc = serve()
        ready_s = time.monotonic() - restarted
        with httpx.Client(base_url=url, headers=headers, timeout=10) as http:
            while http.get(f"/api/runs/{run_id}").json()["status"] not in ("completed", "failed"):
                if time.monotonic() - restarted > 120:
                    raise TimeoutError("the run did not finish after the restart")
                time.sleep(0.05)
        return {"wait_s": 8, "killed_after_s": 2, "server_ready_after_restart_s": round(ready_s, 2),
                "completed_after_restart_s": round(time.monotonic() - restarted, 2)}
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        proc.wait(20)


def print_figures(figures: dict[str, Any]) -> None:
    load = figures.get("load")
    if load:
        lat = load["run_latency_s"]
        print(f"Load: {load['runs']} runs of a {load['nodes_per_run']}-node procedure on PostgreSQL, "
              f"{load['workers']} workers: {load['completed']} completed, {load['ran_twice_or_not_once']} ran twice "
              f"(or not once); {load['throughput_runs_per_s']} runs/s; run latency p50 {lat['p50']} s, "
              f"p95 {lat['p95']} s, p99 {lat['p99']} s")
    sse = figures.get("sse")
    if sse:
        d = sse["end_delivery_delay_ms"]
        print(f"SSE: {sse['clients']} clients on live runs, {sse['streams_that_saw_the_end']} saw their run end; "
              f"run_completed delivered p50 {d['p50']} ms, p95 {d['p95']} ms, max {d['max']} ms after the run ended")
    rec = figures.get("recovery")
    if rec:
        print(f"Recovery: kill -9 of langorch serve {rec['killed_after_s']} s into an {rec['wait_s']} s wait; "
              f"server answering {rec['server_ready_after_restart_s']} s after the restart, run completed "
              f"{rec['completed_after_restart_s']} s after it")
    soak = figures.get("soak")
    if soak:
        print(f"Soak: {soak['minutes']} min, {soak['runs_submitted']} runs (at the end: "
              f"{soak['runs_by_status_at_end']}); API memory {soak['api_rss_mb_first']} MB → "
              f"{soak['api_rss_mb_last']} MB (max {soak['api_rss_mb_max']} MB); largest worker "
              f"{soak['worker_rss_mb_first']} MB → {soak['worker_rss_mb_last']} MB "
              f"(max {soak['worker_rss_mb_max']} MB)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--sse", type=int, default=200)
    parser.add_argument("--soak-minutes", type=float, default=0)
    parser.add_argument("--skip-recovery", action="store_true")
    args = parser.parse_args(argv)

    figures: dict[str, Any] = {"at": datetime.now(UTC).isoformat(timespec="seconds"),
                               "cpus": os.cpu_count(), "load_average": os.getloadavg()[0]}
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        try:
            psycopg.connect(PG_URL, connect_timeout=3).close()
        except psycopg.OperationalError as exc:
            print(f"Load and SSE skipped: PostgreSQL at {PG_URL} does not answer ({exc})")
        else:
            with fresh_database() as db_url:
                cluster = Cluster(db_url, workdir, args.workers)
                try:
                    if args.runs:
                        figures["load"] = asyncio.run(load_figures(cluster, db_url, args.runs))
                    if args.sse:
                        figures["sse"] = asyncio.run(sse_figures(cluster, db_url, args.sse))
                    if args.soak_minutes:
                        figures["soak"] = asyncio.run(soak_figures(cluster, db_url, args.soak_minutes))
                finally:
                    cluster.stop()
        if not args.skip_recovery:
            figures["recovery"] = recovery_figure(workdir)
    print_figures(figures)
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"load-{datetime.now(UTC).strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps(figures, indent=2, default=str) + "\n")
    print(f"Written to {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
