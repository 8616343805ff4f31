"""Set-up checks a fresh clone relies on: the npm lock file npm accepts."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CHECK = REPO / "frontend" / "scripts" / "check-lock.mjs"
needs_node = pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")


@needs_node
def test_the_committed_npm_lock_has_a_version_for_every_entry() -> None:
    done = subprocess.run(["node", str(CHECK)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


@needs_node
def test_a_lock_entry_without_a_version_is_refused_with_its_location(tmp_path: Path) -> None:
    lock = json.loads((REPO / "frontend" / "package-lock.json").read_text())
    lock["packages"]["node_modules/@next/swc-darwin-arm64"] = {"version": "", "optional": True}
    bad = tmp_path / "package-lock.json"
    bad.write_text(json.dumps(lock))

    done = subprocess.run(["node", str(CHECK), str(bad)], capture_output=True, text=True, timeout=60)

    assert done.returncode == 1
    assert "1 entry without a version" in done.stderr
    assert "node_modules/@next/swc-darwin-arm64" in done.stderr
    assert "npm install" in done.stderr
