"""A fault on the real PostgreSQL, against a real ``langorch serve``: every database
connection of the server (its SQLAlchemy pool, the checkpointer's, the hub's
LISTEN/NOTIFY and the worker's liveness lock) is terminated twice a second for 5 s while
four runs go through 16 nodes each (log, set_variable, a 300 ms wait; every fourth node
also calls a loopback agent).

The runs recover and complete; each run's timeline is seq 1..N with no gap and no
duplicate, with one run_started and one run_completed; no agent call acts twice; the API
answers no 5xx but 503 ("the database is busy; retry") while connections are being
dropped, and none afterwards; the server does not crash, and its worker holds its
liveness lock again (without it, another worker's reaper would take its runs).

Three smaller tests pin the parts one at a time: the checkpointer carries on after its
connection is dropped; a worker takes its liveness lock again the moment that lock's
connection is dropped; and a process never judges its own worker dead meanwhile."""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from langgraph.checkpoint.base import empty_checkpoint

from langorch.runtime.checkpointer import open_checkpointer
from langorch.services import liveness
from langorch.services.liveness import LIVENESS_NS, key
from langorch.store.db import make_engine, make_sessionmaker
from langorch.store.migrations import async_url
from tests.auth_support import bearer
from tests.fakes.agent_server import FakeAgentServer
from tests.serve_process import Serve
from tests.worker.databases import PG_URL

ADMIN = bearer("admin")
NODES = 16
AGENT_EVERY = 4
RUNS = 4
DROP_FOR_S = 5.0
DROP_EVERY_S = 0.5
FINISH_WITHIN_S = 20.0
TAG = "{{tag}}"


def _procedure() -> dict[str, Any]:
    nodes: dict[str, Any] = {}
    for i in range(NODES):
        steps: list[dict[str, Any]] = [
            {"step_id": f"log{i}", "action": "log", "message": f"run {TAG} at node {i}"},
            {"step_id": f"set{i}", "action": "set_variable", "variable": f"v{i}", "value": f"{TAG}-{i}"},
            {"step_id": f"wait{i}", "action": "wait", "duration_ms": 300},
        ]
        node: dict[str, Any] = {"type": "sequence", "steps": steps,
                                "next_node": f"n{i + 1}" if i + 1 < NODES else "done"}
        if i % AGENT_EVERY == AGENT_EVERY - 1:
            node["agent"] = "LEDGER"
            steps.append({"step_id": f"record{i}", "action": "record", "tag": TAG, "node": f"n{i}"})
        nodes[f"n{i}"] = node
    nodes["done"] = {"type": "terminate", "status": "success", "outputs": {"last": "{{" + f"v{NODES - 1}" + "}}"}}
    return {"procedure_id": "long_walk", "version": "1.0.0", "status": "active",
            "global_config": {"max_retries": 3, "retry_delay_ms": 100},
            "variables_schema": {"tag": {"type": "string", "required": True}},
            "workflow_graph": {"start_node": "n0", "nodes": nodes}}


AGENT_CALLS = {(f"r{n}", f"n{i}") for n in range(RUNS) for i in range(NODES) if i % AGENT_EVERY == AGENT_EVERY - 1}


@pytest.fixture
def pg_server(tmp_path: Path, pg_url: str) -> Iterator[tuple[Serve, str]]:
    """The server and the name of its database (a fresh one: only the server connects to it)."""
    # No rate limit: the test reads the runs through the API several times a second.
    server = Serve(tmp_path, {"LANGORCH_DB__URL": async_url(pg_url), "LANGORCH_AUTH__RATE_LIMIT_PER_MINUTE": "0"})
    server.start()
    try:
        yield server, pg_url.rsplit("/", 1)[-1].split("?", 1)[0]
    finally:
        server.stop()


class ConnectionKiller(threading.Thread):
    """Every ``every_s`` until stopped, terminates every backend connected to ``database``
    (the test's own database: no other test's connections), counting them by application name."""

    def __init__(self, database: str, every_s: float) -> None:
        super().__init__(name="connection-killer", daemon=True)
        self.database = database
        self.every_s = every_s
        self.halt = threading.Event()
        self.ended: Counter[str] = Counter()
        self.rounds = 0
        self.last_round = 0.0

    def run(self) -> None:
        with psycopg.connect(PG_URL, autocommit=True) as admin:
            while not self.halt.is_set():
                rows = admin.execute(
                    "SELECT application_name, pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = %s AND pid <> pg_backend_pid()", (self.database,)).fetchall()
                self.ended.update(name or "(unnamed)" for name, ended in rows if ended)
                self.rounds += 1
                self.last_round = time.monotonic()
                self.halt.wait(self.every_s)


class ApiWatch(threading.Thread):
    """Reads the runs and their events through the API until stopped; keeps every answer's
    status and each 5xx or transport error with its time."""

    def __init__(self, url: str, run_ids: list[str]) -> None:
        super().__init__(name="api-watch", daemon=True)
        self.url = url
        self.run_ids = run_ids
        self.halt = threading.Event()
        self.statuses: Counter[int] = Counter()
        self.failures: list[tuple[float, int, str]] = []
        """(monotonic time, status or 0 for a transport error, text)"""

    def run(self) -> None:
        with httpx.Client(base_url=self.url, headers=ADMIN, timeout=10) as http:
            while not self.halt.is_set():
                for run_id in self.run_ids:
                    for path in (f"/api/runs/{run_id}", f"/api/runs/{run_id}/events"):
                        try:
                            answer = http.get(path)
                        except httpx.HTTPError as exc:
                            self.failures.append((time.monotonic(), 0, f"{path}: {exc!r}"))
                            continue
                        self.statuses[answer.status_code] += 1
                        if answer.status_code >= 500:
                            self.failures.append((time.monotonic(), answer.status_code,
                                                  f"{path}: {answer.text[:300]}"))
                self.halt.wait(0.2)


def _until_finished(http: httpx.Client, run_ids: list[str], timeout: float) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while True:
        answers = [http.get(f"/api/runs/{run_id}") for run_id in run_ids]
        assert all(a.status_code == 200 for a in answers), [(a.status_code, a.text[:300]) for a in answers]
        runs = [a.json() for a in answers]
        if all(r["status"] in ("completed", "failed", "canceled") for r in runs):
            return runs
        assert time.monotonic() < deadline, [(r["run_id"], r["status"]) for r in runs]
        time.sleep(0.2)


def _liveness_held(database: str, worker_id: str) -> bool:
    """Whether some session holds the worker's liveness lock (tried in a transaction of our
    own: a free lock is taken and let go at its end)."""
    with psycopg.connect(f"{PG_URL.rsplit('/', 1)[0]}/{database}") as conn:
        row = conn.execute("SELECT pg_try_advisory_xact_lock(%s, %s)", (LIVENESS_NS, key(worker_id))).fetchone()
        conn.rollback()
    return not (row and row[0])


def test_runs_survive_every_database_connection_being_dropped_repeatedly(
        pg_server: tuple[Serve, str]) -> None:
    server, database = pg_server
    with FakeAgentServer(name="ledger") as agent, \
            httpx.Client(base_url=server.url, headers=ADMIN, timeout=10) as http:
        http.post("/api/agents", json={"agent_id": "ledger", "name": "ledger", "channel": "LEDGER",
                                       "base_url": agent.url, "concurrency_limit": 8}).raise_for_status()
        http.post("/api/procedures", json={"ckp_json": _procedure()}).raise_for_status()
        worker_id = http.get("/api/health").json()["worker"]["worker_id"]
        assert _liveness_held(database, worker_id)
        run_ids = [http.post("/api/runs", json={"procedure_id": "long_walk", "input_vars": {"tag": f"r{n}"}})
                   .json()["run_id"] for n in range(RUNS)]

        watch = ApiWatch(server.url, run_ids)
        killer = ConnectionKiller(database, DROP_EVERY_S)
        watch.start()
        deadline = time.monotonic() + 10
        while {http.get(f"/api/runs/{run_id}").json()["status"] for run_id in run_ids} != {"running"}:
            assert time.monotonic() < deadline
            time.sleep(0.1)
        killer.start()
        time.sleep(DROP_FOR_S)
        killer.halt.set()
        killer.join(10)
        try:
            runs = _until_finished(http, run_ids, timeout=FINISH_WITHIN_S)
        finally:
            watch.halt.set()
            watch.join(10)
        events = {run_id: http.get(f"/api/runs/{run_id}/events", params={"limit": 1000}).json()
                  for run_id in run_ids}
        # The worker takes its lock again as soon as the lock's connection drops.
        deadline = time.monotonic() + 2
        while not _liveness_held(database, worker_id) and time.monotonic() < deadline:
            time.sleep(0.1)
        lock_held = _liveness_held(database, worker_id)
        health = http.get("/api/health")
        performed = agent.performed

    log = server.log_path.read_text(errors="replace")
    assert server.proc is not None and server.proc.poll() is None, log[-3000:]
    assert health.status_code == 200 and health.json()["worker"]["worker_id"] == worker_id
    assert lock_held, log[-3000:]
    # The drops were real: every round ended the server's connections, the lock's included.
    assert killer.rounds >= DROP_FOR_S / DROP_EVERY_S - 1
    assert any(name.startswith("langorch liveness") for name in killer.ended), killer.ended
    assert sum(killer.ended.values()) >= 2 * killer.rounds, killer.ended

    for run in runs:
        timeline = events[run["run_id"]]
        seqs = [e["seq"] for e in timeline]
        assert seqs == list(range(1, len(seqs) + 1)), (run["run_id"], seqs)
        types = Counter(e["event_type"] for e in timeline)
        ended = "run_completed" if run["status"] == "completed" else "run_failed"
        assert types["run_started"] == 1 and types[ended] == 1, (run["run_id"], types)
        assert types["run_completed"] + types["run_failed"] + types["run_canceled"] == 1, (run["run_id"], types)
    # No agent call acted twice (one performed call per run and node, one per delivery key).
    acted = Counter((c["params"]["tag"], c["params"]["node"]) for c in performed if c["action"] == "record")
    assert set(acted) <= AGENT_CALLS and max(acted.values(), default=1) == 1, acted
    assert max(Counter(c["idempotency_key_header"] for c in performed).values(), default=1) == 1
    # 503 "retry" while connections were being dropped (a request whose connection went);
    # no other 5xx, no broken answer, and nothing after the drops.
    failures = [(round(at - killer.last_round, 2), status, text) for at, status, text in watch.failures]
    assert all(status == 503 and '"unavailable"' in text for _, status, text in failures), failures
    assert not [f for f in failures if f[0] > 0.5], failures
    assert watch.statuses[200] > 0

    failed = [r for r in runs if r["status"] != "completed"]
    assert [(r["run_id"], r["status"]) for r in runs] == [(run_id, "completed") for run_id in run_ids], \
        [r.get("error") for r in failed]
    assert sorted(r["output_vars"]["last"] for r in runs) == [f"r{n}-{NODES - 1}" for n in range(RUNS)]
    assert acted == Counter(dict.fromkeys(AGENT_CALLS, 1)), acted


def _terminate(database: str, application_name: str | None = None) -> int:
    """Terminate the backends connected to ``database`` (those of one application name)."""
    with psycopg.connect(PG_URL, autocommit=True) as admin:
        rows = admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()"
            " AND (%s::text IS NULL OR application_name = %s)", (database, application_name, application_name),
        ).fetchall()
    return sum(1 for (ended,) in rows if ended)


def _database(pg_url: str) -> str:
    return pg_url.rsplit("/", 1)[-1].split("?", 1)[0]


@pytest.mark.asyncio
async def test_the_checkpointer_carries_on_after_its_connection_is_dropped(pg_url: str) -> None:
    config: Any = {"configurable": {"thread_id": "t-drop", "checkpoint_ns": ""}}
    async with open_checkpointer(pg_url) as saver:
        first = await saver.aput(config, empty_checkpoint(), {"step": 1}, {})
        assert _terminate(_database(pg_url)) >= 1
        found = await saver.aget_tuple(first)
        second = await saver.aput(first, empty_checkpoint(), {"step": 2}, {})
        assert _terminate(_database(pg_url)) >= 1
        listed = [t.metadata.get("step") async for t in saver.alist(config)]
    assert found is not None and found.metadata.get("step") == 1
    assert second["configurable"]["checkpoint_id"] != first["configurable"]["checkpoint_id"]
    assert listed == [2, 1]


@pytest.mark.asyncio
async def test_a_worker_takes_its_liveness_lock_again_the_moment_its_connection_is_dropped(pg_url: str) -> None:
    lock = liveness.for_worker(async_url(pg_url), "w-drop")
    assert lock is not None
    await lock.hold()
    try:
        watching = asyncio.create_task(lock.check(within_s=10))
        await asyncio.sleep(0.2)
        assert await asyncio.to_thread(_terminate, _database(pg_url), "langorch liveness w-drop") == 1
        started = time.monotonic()
        assert await watching  # the lock is held again ...
        assert time.monotonic() - started < 2  # ... at once, not at the end of the 10 s wait
        assert await asyncio.to_thread(_liveness_held, _database(pg_url), "w-drop")
    finally:
        await lock.release()


@pytest.mark.asyncio
async def test_a_process_never_judges_its_own_worker_dead_while_its_lock_is_taken_again(pg_url: str) -> None:
    db_url = async_url(pg_url)
    lock = liveness.for_worker(db_url, "w-own")
    assert lock is not None
    await lock.hold()
    engine = make_engine(db_url)
    try:
        assert await asyncio.to_thread(_terminate, _database(pg_url), "langorch liveness w-own") == 1
        # The lock is free until the worker's next check takes it again: other processes
        # would judge the worker dead in that moment, its own process does not.
        assert not await asyncio.to_thread(_liveness_held, _database(pg_url), "w-own")
        async with make_sessionmaker(engine)() as session:
            assert await liveness.dead(session, [("w-own", lock.kind)], db_url=db_url) == set()
        await lock.release()
        async with make_sessionmaker(engine)() as session:
            assert await liveness.dead(session, [("w-own", lock.kind)], db_url=db_url) == {"w-own"}
    finally:
        await lock.release()
        await engine.dispose()
