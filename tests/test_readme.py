"""The README's curl walkthrough, run as a user runs it, against a live `langorch serve`
with the examples loaded (so the README cannot drift from the product again)."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests.docs_commands import REPO, walkthrough

LANGORCH = REPO / ".venv" / "bin" / "langorch"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def server_env(tmp_path: Path) -> dict[str, str]:
    """What `make run` and the reader's shell share: the database (and the HS256 key file)."""
    env = {**os.environ, "LANGORCH_DB__URL": f"sqlite+aiosqlite:///{tmp_path / 'readme.db'}"}
    env.pop("LANGORCH_AUTH__JWT_SECRET", None)
    env["LANGORCH_AUTH__SECRET_FILE"] = str(tmp_path / "auth.key")
    return env


@pytest.fixture
def server(tmp_path: Path, server_env: dict[str, str]) -> str:
    port = _free_port()
    env = dict(server_env)
    env.pop("LANGORCH_API__STATIC_DIR", None)
    log = (tmp_path / "serve.log").open("w")
    proc = subprocess.Popen([str(LANGORCH), "serve", "--port", str(port), "--load-examples", "ckp_examples"],
                            cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if httpx.get(f"{url}/api/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"langorch serve did not start:\n{(tmp_path / 'serve.log').read_text()[-3000:]}")
            time.sleep(0.2)
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()


def test_readme_walkthrough_runs_against_a_live_server(server: str, server_env: dict[str, str]) -> None:
    lines = walkthrough()
    assert lines[0] == "API=http://127.0.0.1:8000", "the walkthrough starts by naming the server make run starts"
    script = "\n".join([f"API={server}", *lines[1:]])
    done = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=REPO, capture_output=True, text=True,
                          timeout=180, stdin=subprocess.DEVNULL, env=server_env)
    assert done.returncode == 0, f"stdout:\n{done.stdout[-3000:]}\nstderr:\n{done.stderr[-3000:]}"
    out = done.stdout.strip().splitlines()
    assert out[-1] == "completed test 5100004471", done.stdout
    assert "invoice_processing 1.0.0 unchanged" in out, "re-importing a loaded example answers unchanged"
    assert re.search(r"^run [0-9a-f]{32}$", done.stdout, re.M), done.stdout
    assert "approval_requested manager_review" in done.stdout
    readme = (REPO / "README.md").read_text()
    assert "`completed test 5100004471`" in readme, "the README says what the last line prints"
