"""The backup and restore commands of docs/operations.md, run as written (only database
names and the server's address are the test's): a database with a completed run and a
stored secret is backed up, restored into another database (PostgreSQL) or in place of the
lost files (SQLite), and a server started on the restored data still has the run, and
decrypts the secret for a new run — with the same master key. With another key the
secret's value is gone and a run reading it fails, as the doc says."""

from __future__ import annotations

import base64
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from langorch.store.migrations import async_url
from tests.deploy.support import (
    drop_database,
    http_until,
    marked_block,
    new_database_name,
    server_root,
    with_database,
)
from tests.fakes.agent_server import FakeAgentServer
from tests.serve_process import Serve
from tests.worker.databases import PG_URL

ROOT = Path(__file__).resolve().parents[2]
SECRET_VALUE = "crm-token-" + base64.b32encode(os.urandom(10)).decode().lower()

# A procedure that hands the stored secret to an agent: the agent sees the decrypted value.
CRM = {
    "procedure_id": "crm_sync", "version": "1.0.0", "status": "active",
    "global_config": {"max_retries": 0,
                      "secrets_config": {"provider": "langorch", "secret_references": {"crm": "crm_token"}}},
    "workflow_graph": {"start_node": "sync", "nodes": {
        "sync": {"type": "sequence", "agent": "CRM", "next_node": "done",
                 "steps": [{"step_id": "push", "action": "push", "token": "{{secrets.crm}}",
                            "output_variable": "pushed"}]},
        "done": {"type": "terminate", "status": "success", "outputs": {"ok": "{{pushed.ok}}"}}}},
}


@pytest.fixture
def agent() -> Iterator[FakeAgentServer]:
    with FakeAgentServer({"push": {"ok": True}}, name="crm") as server:
        yield server


def _tokens(agent: FakeAgentServer) -> list[str]:
    return [call["params"]["token"] for call in agent.calls if call["action"] == "push"]


def _admin(server: Serve) -> httpx.Client:
    from tests.auth_support import bearer

    return httpx.Client(base_url=server.url, headers=bearer("admin"), timeout=10)


def _make_data(server: Serve, agent: FakeAgentServer) -> str:
    """A stored secret, an agent, the procedure and one completed run that read the secret."""
    with _admin(server) as http:
        assert http.post("/api/secrets", json={"name": "crm_token", "value": SECRET_VALUE}).status_code == 201
        http.post("/api/agents", json={"agent_id": "crm", "name": "crm", "channel": "CRM",
                                       "base_url": agent.url}).raise_for_status()
        http.post("/api/procedures", json={"ckp_json": CRM}).raise_for_status()
        run_id: str = http.post("/api/runs", json={"procedure_id": "crm_sync"}).json()["run_id"]
        http_until(http, [run_id], "completed")
    assert _tokens(agent) == [SECRET_VALUE]
    return run_id


def _check_restored(server: Serve, agent: FakeAgentServer, run_id: str) -> None:
    """The old run is there, the secret's metadata too, and a new run gets its value."""
    with _admin(server) as http:
        old = http.get(f"/api/runs/{run_id}").json()
        assert (old["status"], old["output_vars"]) == ("completed", {"ok": True})
        assert [e["event_type"] for e in http.get(f"/api/runs/{run_id}/events").json()][-1] == "run_completed"
        assert [s["name"] for s in http.get("/api/secrets").json()] == ["crm_token"]
        new = http.post("/api/runs", json={"procedure_id": "crm_sync"}).json()["run_id"]
        http_until(http, [new], "completed")
    assert _tokens(agent) == [SECRET_VALUE, SECRET_VALUE]


def _fails_without_the_key(server: Serve, agent: FakeAgentServer) -> None:
    calls = len(agent.calls)
    with _admin(server) as http:
        run_id = http.post("/api/runs", json={"procedure_id": "crm_sync"}).json()["run_id"]
        run: dict[str, Any] = http_until(http, [run_id], "failed")[0]
    assert run["error"]["type"] == "SecretsConfigError", run["error"]
    assert "was encrypted with a master key this server does not have" in run["error"]["message"], run["error"]
    assert len(agent.calls) == calls, "the agent was not called without the secret"


def _bash(lines: list[str], cwd: Path, env: dict[str, str] | None = None) -> None:
    import subprocess

    done = subprocess.run(["bash", "-euo", "pipefail", "-c", "\n".join(lines)], cwd=cwd, capture_output=True,
                          text=True, timeout=180, stdin=subprocess.DEVNULL, env=env)
    assert done.returncode == 0, f"{lines}\nstdout:\n{done.stdout[-3000:]}\nstderr:\n{done.stderr[-3000:]}"


def _pg_bin(name: str) -> str:
    """``name`` of the server's major version: the PATH one if it matches, else the server's own."""
    with psycopg.connect(PG_URL) as conn:
        major = conn.info.server_version // 10000
    own = Path(f"/usr/lib/postgresql/{major}/bin/{name}")
    found = shutil.which(name)
    if found and own.exists() and Path(found).resolve() != own.resolve():
        import subprocess

        version = subprocess.run([found, "--version"], capture_output=True, text=True).stdout
        if not re.search(rf"\b{major}\.", version):
            return str(own)
    if found is None and not own.exists():
        pytest.skip(f"{name} is not installed")
    return found or str(own)


def test_the_postgresql_backup_and_restore_of_the_docs(tmp_path: Path, pg_url: str, agent: FakeAgentServer) -> None:
    source = pg_url.rsplit("/", 1)[1]
    restored = new_database_name()
    server = Serve(tmp_path / "before", {"LANGORCH_DB__URL": async_url(pg_url)})
    server.folder.mkdir()
    server.start()
    try:
        run_id = _make_data(server, agent)
        backup = marked_block("backup-pg")
        restore = marked_block("restore-pg")
        assert backup[0].startswith("export PGURL=postgresql://") and '"$PGURL/langorch"' in backup[1]
        assert all("langorch_restored" in line for line in restore)
        tools = {name: _pg_bin(name) for name in ("pg_dump", "createdb", "pg_restore")}
        script = [f"export PGURL={server_root()}",
                  *(line.replace('"$PGURL/langorch"', f'"$PGURL/{source}"') for line in backup[1:]),
                  *(line.replace("langorch_restored", restored) for line in restore)]
        script = [re.sub(r"^(pg_dump|createdb|pg_restore)\b", lambda m: tools[m.group(1)], line) for line in script]
        # Taken while the server runs, as the doc says it may be.
        _bash(script, tmp_path)
    finally:
        server.stop()
    try:
        assert (tmp_path / "langorch.dump").stat().st_size > 0
        after = Serve(tmp_path / "after", {"LANGORCH_DB__URL": async_url(with_database(pg_url, restored))})
        after.folder.mkdir()
        after.start()
        try:
            _check_restored(after, agent, run_id)
        finally:
            after.stop()
        # The same restored database with another master key: the secret is not readable.
        other_key = base64.b64encode(os.urandom(32)).decode()
        lost = Serve(tmp_path / "lost", {"LANGORCH_DB__URL": async_url(with_database(pg_url, restored)),
                                         "LANGORCH_SECRET_KEY": other_key})
        lost.folder.mkdir()
        lost.start()
        try:
            _fails_without_the_key(lost, agent)
        finally:
            lost.stop()
    finally:
        drop_database(restored)


def _sqlite_server(folder: Path) -> Serve:
    """``langorch serve`` with the defaults: ./var/langorch.db, its checkpoints beside it, and
    the secret store's key in ./var/secret.key (no LANGORCH_SECRET_KEY)."""
    server = Serve(folder, {"LANGORCH_DB__URL": "sqlite+aiosqlite:///./var/langorch.db"})
    server.env.pop("LANGORCH_SECRET_KEY", None)
    server.env.pop("LANGORCH_SECRETS__KEY_FILE", None)
    return server


@pytest.mark.parametrize("tool", ["backup-sqlite", "backup-sqlite-python"])
def test_the_sqlite_backup_and_restore_of_the_docs(tmp_path: Path, agent: FakeAgentServer, tool: str) -> None:
    if tool == "backup-sqlite" and shutil.which("sqlite3") is None:
        pytest.skip("the sqlite3 program is not installed (the Python variant is tested)")
    (tmp_path / "var").mkdir()
    server = _sqlite_server(tmp_path)
    server.start()
    try:
        run_id = _make_data(server, agent)
        assert (tmp_path / "var" / "secret.key").is_file()
        _bash(marked_block(tool), tmp_path)  # while the server runs
    finally:
        server.stop()
    for name in ("langorch.db", "langorch-checkpoints.db"):
        assert (tmp_path / "var" / "backup" / name).stat().st_size > 0
    # The database files are lost (the key file is not); the doc's restore puts the copies back.
    for lost in (tmp_path / "var").glob("langorch*.db*"):
        if lost.is_file():  # not langorch.db.workers/, the workers' liveness locks
            lost.unlink()
    _bash(marked_block("restore-sqlite"), tmp_path)
    server = _sqlite_server(tmp_path)
    server.start()
    try:
        _check_restored(server, agent, run_id)
    finally:
        server.stop()
    if tool != "backup-sqlite-python":
        return  # once is enough; the Python variant runs wherever the suite does
    # The same data with the key file lost: a new key is made, the stored secret is unreadable.
    (tmp_path / "var" / "secret.key").unlink()
    server = _sqlite_server(tmp_path)
    server.start()
    try:
        _fails_without_the_key(server, agent)
    finally:
        server.stop()


def test_the_docs_back_up_the_files_the_settings_name() -> None:
    """The SQLite commands copy the database and the checkpoint file the defaults use."""
    from langorch.settings import DatabaseSettings

    checkpoints = Path(DatabaseSettings().checkpoint_target()).name
    block = "\n".join(marked_block("backup-sqlite"))
    assert f"var/{checkpoints}" in block and "var/langorch.db" in block
    assert DatabaseSettings().url.endswith("/var/langorch.db")

