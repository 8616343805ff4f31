"""What the deploy tests share: the entries of ``deploy/Procfile``, processes started the way a
Procfile runner starts them (``sh -c`` with the environment), empty PostgreSQL databases,
and the marked shell blocks of ``docs/operations.md`` that the tests run as written."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.docs_commands import REPO, shell_blocks
from tests.worker.databases import PG_URL, require_pg

DEPLOY = REPO / "deploy"
OPERATIONS = REPO / "docs" / "operations.md"
BIN = Path(sys.executable).parent
"""The virtualenv's bin folder: ``langorch`` and ``alembic`` are found on PATH there, as in the image."""

# The line format Heroku, foreman and honcho read; other lines (comments) are ignored.
_PROCFILE_LINE = re.compile(r"^([A-Za-z0-9_-]+):\s*(.+)$")


def procfile(path: Path = DEPLOY / "Procfile") -> dict[str, str]:
    """Process type → command."""
    entries: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        match = _PROCFILE_LINE.match(line)
        if match:
            entries[match.group(1)] = match.group(2).strip()
    return entries


def process_env(extra: Mapping[str, str]) -> dict[str, str]:
    """This environment with the virtualenv first on PATH; no built UI, no database setting
    inherited from the developer's shell."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LANGORCH_DB__", "LANGORCH_API__STATIC_DIR"))}
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


def sh(command: str, env: Mapping[str, str], cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run ``command`` through ``sh -c`` as a Procfile runner does, and wait for it."""
    return subprocess.run(["sh", "-c", command], env=dict(env), cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL)


class Process:
    """A long-running Procfile entry: ``sh -c "exec <command>"`` (``exec`` so that the signal a
    platform sends on shutdown reaches LangOrch itself), its output in ``<name>.log``."""

    def __init__(self, name: str, command: str, env: Mapping[str, str], cwd: Path) -> None:
        self.name = name
        self.command = command
        self.log_path = cwd / f"{name}.log"
        with self.log_path.open("wb") as log:
            self.proc = subprocess.Popen(["sh", "-c", f"exec {command}"], env=dict(env), cwd=cwd, stdout=log,
                                         stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_for(self, ready: Callable[[], Any], timeout: float = 90) -> Any:
        """Poll ``ready()`` until it returns something true; fail with the log if the process
        exits or the time runs out."""
        deadline = time.monotonic() + timeout
        while True:
            with contextlib.suppress(httpx.HTTPError):
                found = ready()
                if found:
                    return found
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                pytest.fail(f"{self.name} ({self.command}) did not get ready:\n{self.log()[-4000:]}")
            time.sleep(0.2)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> int | None:
        """Send ``sig`` to the process group and return the exit code (None if it had to be killed)."""
        if self.proc.poll() is not None:
            return self.proc.returncode
        os.killpg(self.proc.pid, sig)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
            return None


def with_database(url: str, name: str) -> str:
    """``url`` naming another database on the same server."""
    base, _, query = url.partition("?")
    return f"{base.rsplit('/', 1)[0]}/{name}" + (f"?{query}" if query else "")


def server_root(url: str = PG_URL) -> str:
    """``postgresql://user@host:port`` (no database), as the docs' ``$PGURL``."""
    return url.partition("?")[0].rsplit("/", 1)[0]


def new_database_name() -> str:
    return f"langorch_test_{uuid.uuid4().hex[:12]}"


def drop_database(name: str) -> None:
    import psycopg

    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def empty_pg_database() -> Iterator[str]:
    """A new database with nothing in it (not migrated): its ``postgresql://`` URL; dropped after.
    Skips without PostgreSQL, fails instead with ``LANGORCH_REQUIRE_PG=1``."""
    import psycopg

    require_pg()
    name = new_database_name()
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield with_database(PG_URL, name)
    finally:
        drop_database(name)


def marked_block(mark: str, path: Path = OPERATIONS) -> list[str]:
    """The lines of the shell block right after the ``<!-- {mark}: … -->`` comment."""
    for _, before, body in shell_blocks(path):
        if before.startswith(f"<!-- {mark}:"):
            return body
    raise LookupError(f"{path.name} has no shell block after <!-- {mark}: ... -->")


def http_until(http: httpx.Client, run_ids: list[str], status: str, timeout: float = 60) -> list[dict[str, Any]]:
    """The runs, once every one has ``status`` (fails naming the statuses seen)."""
    deadline = time.monotonic() + timeout
    while True:
        runs = [http.get(f"/api/runs/{run_id}").json() for run_id in run_ids]
        if all(r["status"] == status for r in runs):
            return runs
        assert time.monotonic() < deadline, [(r["run_id"], r["status"], r.get("error")) for r in runs]
        time.sleep(0.2)
