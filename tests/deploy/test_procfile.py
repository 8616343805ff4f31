"""``deploy/Procfile`` run for real on PostgreSQL, the way a Procfile platform runs it: the
``release`` line migrates an empty database, then one ``web`` process (started with
``--no-worker``) and two ``worker`` processes start; a procedure imported and started
through the API is run by the workers, and everything stops cleanly on SIGTERM.

The commands are the Procfile's own, through ``sh -c`` with the environment; only
``--host 0.0.0.0`` becomes ``127.0.0.1`` and ``$PORT`` a free port.
"""

from __future__ import annotations

import json
import re
import shlex
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import psycopg
import pytest
import yaml

from langorch.cli import build_parser
from langorch.store.migrations import async_url
from tests.deploy.support import DEPLOY, REPO, Process, empty_pg_database, http_until, process_env, procfile, sh
from tests.serve_process import free_port

GREET = json.loads((REPO / "docs" / "greet.ckp.json").read_text())


def test_the_procfile_has_a_release_a_web_and_a_worker_entry_that_the_cli_accepts() -> None:
    entries = procfile()
    assert set(entries) == {"release", "web", "worker"}
    parser = build_parser()
    for name, command in entries.items():
        argv = shlex.split(command.replace("${PORT:-8000}", "8000"))
        assert argv[0] == "langorch", (name, command)
        parser.parse_args(argv[1:])  # SystemExit (a test error) for an unknown flag
    web = parser.parse_args(shlex.split(entries["web"].replace("${PORT:-8000}", "8000"))[1:])
    assert (web.command, web.no_worker, web.no_migrate) == ("serve", True, True)
    assert parser.parse_args(shlex.split(entries["release"])[1:]).command == "migrate"
    assert parser.parse_args(shlex.split(entries["worker"])[1:]).command == "worker"


def _compose_api_healthcheck(port: int) -> list[str]:
    """The api service's healthcheck of deploy/compose.yaml, aimed at ``port``, run by this Python."""
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    test = compose["services"]["api"]["healthcheck"]["test"]
    assert test[:2] == ["CMD", "python"], test
    return [sys.executable, *(arg.replace("127.0.0.1:8000", f"127.0.0.1:{port}") for arg in test[2:])]


def test_the_procfile_runs_api_and_two_workers_on_postgresql(tmp_path: Path) -> None:
    entries = procfile()
    port = free_port()
    with empty_pg_database() as url:
        env = process_env({
            "LANGORCH_DB__URL": async_url(url), "PORT": str(port),
            # fast wake-ups for the test; the defaults are for production
            "LANGORCH_WORKER__POLL_INTERVAL_S": "0.5", "LANGORCH_WORKER__HEARTBEAT_S": "0.5",
            "LANGORCH_SANDBOX__FILES_DIR": str(tmp_path / "files"),
        })

        release = sh(entries["release"], env, tmp_path)
        assert release.returncode == 0, release.stderr
        assert "database is at the latest schema" in release.stdout
        with psycopg.connect(url) as conn:
            assert conn.execute("SELECT count(*) FROM procedures").fetchone() == (0,)  # migrated, empty

        made = sh("langorch keys create --name deploy-test --role admin", env, tmp_path)
        assert made.returncode == 0, made.stderr
        headers = {"Authorization": f"Bearer {made.stdout.strip()}"}

        web_command = entries["web"].replace("--host 0.0.0.0", "--host 127.0.0.1")
        assert web_command != entries["web"], "the web entry binds 0.0.0.0 (a container or a PaaS needs it)"
        web = Process("web", web_command, env, tmp_path)
        workers = [Process(f"worker{i}", entries["worker"], env, tmp_path) for i in (1, 2)]
        processes = [web, *workers]
        try:
            base = f"http://127.0.0.1:{port}"
            health = web.wait_for(lambda: (r := httpx.get(f"{base}/api/health", timeout=2)).status_code == 200
                                  and r.json())
            assert health["db"] == "ok" and health["worker"] is None, health  # --no-worker: no embedded worker
            worker_ids = {w.wait_for(lambda w=w: re.search(r"worker (\S+) ready", w.log())).group(1)
                          for w in workers}
            assert len(worker_ids) == 2

            # The compose file's healthcheck command answers 0 against a live API.
            check = subprocess.run(_compose_api_healthcheck(port), capture_output=True, text=True, timeout=30)
            assert check.returncode == 0, check.stderr

            with httpx.Client(base_url=base, headers=headers, timeout=10) as http:
                created = http.post("/api/procedures", json={"ckp_json": GREET, "status": "active"})
                assert created.status_code == 201, created.text
                run_ids = [http.post("/api/runs", json={"procedure_id": "greet_customer",
                                                        "input_vars": {"customer_name": f"N{i}"}}).json()["run_id"]
                           for i in range(6)]
                runs = http_until(http, run_ids, "completed")
                assert sorted(r["output_vars"]["greeting"] for r in runs) == [f"Hello, N{i}!" for i in range(6)]
                seen = {w["worker_id"]: w for w in http.get("/api/queue/stats").json()["workers"]}
            assert worker_ids <= set(seen), seen
            assert not any(w["embedded"] for w in seen.values()), seen
            with psycopg.connect(url) as conn:
                ran_by = {row[0] for row in conn.execute("SELECT worker_id FROM run_jobs WHERE run_id = ANY(%s)",
                                                         (run_ids,))}
            assert ran_by and ran_by <= worker_ids, (ran_by, worker_ids)

            # SIGTERM, as a platform stops a process. The API shuts down cleanly and uvicorn then
            # re-raises the signal (exit status -15); the workers hand back their jobs and exit 0.
            assert web.stop() in (0, -signal.SIGTERM), web.log()[-3000:]
            assert "Application shutdown complete" in web.log()
            for worker in workers:
                assert worker.stop() == 0, f"{worker.name}:\n{worker.log()[-3000:]}"
            failed = subprocess.run(_compose_api_healthcheck(port), capture_output=True, text=True, timeout=30)
            assert failed.returncode != 0, "the healthcheck fails when the API does not answer"
        finally:
            for process in processes:
                process.stop()


def test_the_web_entry_takes_its_port_from_the_platform(tmp_path: Path) -> None:
    """``${PORT:-8000}``: the platform's PORT, else 8000, as the shell expands it."""
    web = procfile()["web"]
    shown = web.replace("exec ", "").replace("langorch serve", "echo", 1)
    assert sh(shown, process_env({"PORT": "5123"}), tmp_path).stdout.split()[-1] == "5123"
    env = process_env({})
    env.pop("PORT", None)
    assert sh(shown, env, tmp_path).stdout.split()[-1] == "8000"


@pytest.mark.parametrize("name", ["release", "web", "worker"])
def test_a_procfile_entry_is_a_langorch_command_on_path(name: str) -> None:
    assert shlex.split(procfile()[name])[0] == "langorch"
    assert (Path(sys.executable).parent / "langorch").exists()


def test_the_docs_show_the_procfile_as_it_is() -> None:
    doc = (REPO / "docs" / "operations.md").read_text()
    shown = doc.split("## Deploying with a Procfile", 1)[1].split("```text\n", 1)[1].split("```", 1)[0]
    assert shown == (DEPLOY / "Procfile").read_text()
