"""``langorch serve`` in a subprocess, for tests that restart or kill -9 a real server."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import httpx
import pytest

LANGORCH = Path(sys.executable).with_name("langorch")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Serve:
    """``langorch serve`` on ``folder`` (SQLite database, checkpoints, work files, log), with
    fast worker polling; ``extra_env`` adds or overrides settings."""

    def __init__(self, folder: Path, extra_env: Mapping[str, str] | None = None) -> None:
        self.folder = folder
        self.log_path = folder / "serve.log"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, "LANGORCH_DB__URL": f"sqlite+aiosqlite:///{folder / 'langorch.db'}",
                    "LANGORCH_SANDBOX__ALLOWED_HOSTS": "127.0.0.1",
                    "LANGORCH_SANDBOX__FILES_DIR": str(folder / "files"),
                    "LANGORCH_WORKER__POLL_INTERVAL_S": "0.5", "LANGORCH_WORKER__HEARTBEAT_S": "0.5",
                    "PYTHONUNBUFFERED": "1", **(extra_env or {})}
        self.env.pop("LANGORCH_API__STATIC_DIR", None)
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen([str(LANGORCH), "serve", "--port", str(self.port), "--log-level", "info"],
                                     cwd=self.folder, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        log.close()
        deadline = time.monotonic() + 90
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.url}/api/health", timeout=2).status_code == 200:
                    return
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                pytest.fail(f"langorch serve did not start:\n{self.log_path.read_text()[-3000:]}")
            time.sleep(0.2)

    def kill(self) -> None:
        """kill -9 of the server and everything it started."""
        assert self.proc is not None
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, signal.SIGINT)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
