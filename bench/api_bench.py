"""End-to-end figures through the HTTP API with the embedded worker on SQLite.

1. Throughput: POST N runs of the ``chain20`` workload (bench/workloads.py) and wait until
   every one is completed; runs/s from the first POST to the last completion
   (the reference system manages ~3 runs/s; first target ≥ 15).
2. Approval latency: for the ``approval`` workload, from POSTing the decision to the run's
   ``run_completed`` arriving on its SSE stream; p50/p95 over N runs
   (reference 0.12–5 s; target p95 ≤ 100 ms).

The server is ``langorch serve`` in a subprocess on a free port with a fresh SQLite file,
so client and server do not share a GIL. Prints figures; never fails the build.

    python bench/api_bench.py [--runs 200] [--approvals 50]

From another script: ``api_figures(runs=..., approvals=...)`` returns the figures as a dict
and ``print_figures(figures)`` prints them.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from workloads import workload

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """``langorch serve`` on a fresh SQLite file, in a subprocess."""

    def __init__(self, workdir: str, concurrency: int = 4) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        db = os.path.join(workdir, "bench.db")
        # No rate limit: the benchmark is one client doing as much as it can.
        env = {**os.environ, "LANGORCH_DB__URL": f"sqlite+aiosqlite:///{db}",
               "LANGORCH_WORKER__CONCURRENCY": str(concurrency), "LANGORCH_WORKER__EMBEDDED": "true",
               "LANGORCH_AUTH__RATE_LIMIT_PER_MINUTE": "0"}
        exe = Path(sys.executable).with_name("langorch")
        langorch = str(exe) if exe.exists() else "langorch"
        # Every API call needs an identity: an admin key minted into the fresh database first.
        self.key = subprocess.run([langorch, "keys", "create", "--name", "bench", "--role", "admin"], env=env,
                                  cwd=workdir, capture_output=True, text=True, check=True).stdout.strip()
        self.headers = {"Authorization": f"Bearer {self.key}"}
        cmd = [langorch, "serve", "--port", str(self.port), "--log-level", "warning"]
        self.proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                     cwd=workdir)

    def wait_ready(self, timeout_s: float = 60) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                err = self.proc.stderr.read().decode() if self.proc.stderr else ""
                raise RuntimeError(f"langorch serve exited: {err[-2000:]}")
            try:
                if httpx.get(f"{self.url}/api/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError("langorch serve did not become ready")

    def cpu_seconds(self) -> float | None:
        """CPU time the server process has used (user + system), from /proc; None elsewhere."""
        try:
            fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return None
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


async def _import(client: httpx.AsyncClient, name: str) -> str:
    doc = workload(name)
    response = await client.post("/api/procedures", json={"ckp_json": doc})
    if response.status_code not in (200, 201):
        raise RuntimeError(f"importing {name}: {response.status_code} {response.text}")
    return str(doc["procedure_id"])


async def _wait_all_done(client: httpx.AsyncClient, procedure_id: str, expected: int, timeout_s: float) -> int:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        response = await client.get("/api/runs", params={"procedure_id": procedure_id,
                                                          "status": "completed,failed,canceled", "limit": 1})
        done = int(response.headers.get("x-total-count", "0"))
        if done >= expected:
            return done
        await asyncio.sleep(0.02)
    raise TimeoutError(f"only {done} of {expected} runs finished")


async def throughput(client: httpx.AsyncClient, runs: int, server: Server, warmup: int = 10) -> dict[str, Any]:
    procedure_id = await _import(client, "chain20")
    for _ in range(warmup):
        await client.post("/api/runs", json={"procedure_id": procedure_id})
    await _wait_all_done(client, procedure_id, warmup, 120)
    cpu_before = server.cpu_seconds()
    started = time.perf_counter()
    gate = asyncio.Semaphore(16)

    async def post() -> None:
        async with gate:
            response = await client.post("/api/runs", json={"procedure_id": procedure_id, "input_vars": {"trail": "b"}})
            response.raise_for_status()

    await asyncio.gather(*(post() for _ in range(runs)))
    posted = time.perf_counter() - started
    await _wait_all_done(client, procedure_id, warmup + runs, 600)
    elapsed = time.perf_counter() - started
    cpu_after = server.cpu_seconds()
    cpu = (cpu_after - cpu_before) if cpu_before is not None and cpu_after is not None else None
    failed = (await client.get("/api/runs", params={"procedure_id": procedure_id, "status": "failed",
                                                    "limit": 1})).headers.get("x-total-count")
    return {"runs": runs, "seconds": elapsed, "runs_per_s": runs / elapsed, "post_seconds": posted,
            "failed": int(failed or 0), "server_cpu_ms_per_run": cpu / runs * 1e3 if cpu else None,
            "runs_per_cpu_s": runs / cpu if cpu else None}


async def _sse_until_end(client: httpx.AsyncClient, run_id: str, after: int, ready: asyncio.Event) -> float:
    headers = {"Last-Event-ID": str(after)} if after else {}
    async with client.stream("GET", f"/api/runs/{run_id}/stream", headers=headers, timeout=60) as response:
        ready.set()
        async for line in response.aiter_lines():
            if line.startswith("event: end"):
                return time.perf_counter()
    raise RuntimeError("stream closed without an end event")


async def approval_latency(client: httpx.AsyncClient, runs: int, warmup: int = 5) -> dict[str, Any]:
    procedure_id = await _import(client, "approval")
    latencies: list[float] = []
    for i in range(warmup + runs):
        run = (await client.post("/api/runs", json={"procedure_id": procedure_id})).json()
        run_id = run["run_id"]
        approval = None
        for _ in range(2000):
            items = (await client.get("/api/approvals", params={"run_id": run_id, "status": "pending"})).json()
            if items:
                approval = items[0]
                break
            await asyncio.sleep(0.005)
        if approval is None:
            raise TimeoutError(f"run {run_id} never asked for approval")
        events = (await client.get(f"/api/runs/{run_id}/events")).json()
        after = events[-1]["seq"] if events else 0
        ready = asyncio.Event()
        watcher = asyncio.create_task(_sse_until_end(client, run_id, after, ready))
        await ready.wait()
        started = time.perf_counter()
        response = await client.post(f"/api/approvals/{approval['approval_id']}/decision",
                                     json={"decision": "approve", "decided_by": "bench"})
        response.raise_for_status()
        ended = await watcher
        if i >= warmup:
            latencies.append(ended - started)
    latencies.sort()
    return {"runs": runs, "p50_ms": statistics.median(latencies) * 1e3,
            "p95_ms": latencies[max(0, int(len(latencies) * 0.95) - 1)] * 1e3, "max_ms": latencies[-1] * 1e3}


async def _measure(server: Server, runs: int, approvals: int) -> dict[str, Any]:
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=32)
    async with httpx.AsyncClient(base_url=server.url, timeout=60, limits=limits, headers=server.headers) as client:
        return {"throughput": await throughput(client, runs, server),
                "approval": await approval_latency(client, approvals),
                "load_average": os.getloadavg()[0], "cpus": os.cpu_count()}


def api_figures(runs: int = 200, approvals: int = 50, concurrency: int = 4) -> dict[str, Any]:
    """Start a server, measure both figures, stop it; returns ``{"throughput", "approval"}``."""
    with tempfile.TemporaryDirectory() as workdir:
        server = Server(workdir, concurrency=concurrency)
        try:
            server.wait_ready()
            return asyncio.run(_measure(server, runs, approvals))
        finally:
            server.stop()


def print_figures(figures: dict[str, Any]) -> None:
    t, a = figures["throughput"], figures["approval"]
    print(f"\nThrough the API, embedded worker, SQLite (load average {figures['load_average']:.1f} on "
          f"{figures['cpus']} CPUs)")
    print(f"  chain20 throughput   {t['runs_per_s']:.1f} runs/s  ({t['runs']} runs in {t['seconds']:.2f} s, "
          f"{t['failed']} failed; target ≥ 15, reference ~3)")
    if t.get("server_cpu_ms_per_run"):
        print(f"  server CPU           {t['server_cpu_ms_per_run']:.1f} ms per run = {t['runs_per_cpu_s']:.1f} runs "
              "per CPU-second (the ceiling when the server has a core to itself)")
    print(f"  approval → completed p50 {a['p50_ms']:.1f} ms  p95 {a['p95_ms']:.1f} ms  max {a['max_ms']:.1f} ms "
          f"({a['runs']} runs; target p95 ≤ 100 ms, reference 120–5000 ms)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--approvals", type=int, default=50)
    parser.add_argument("--concurrency", type=int, default=4, help="embedded worker concurrency")
    args = parser.parse_args()
    print_figures(api_figures(args.runs, args.approvals, args.concurrency))
    return 0


if __name__ == "__main__":
    sys.exit(main())
