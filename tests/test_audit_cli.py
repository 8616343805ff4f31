"""``langorch audit verify | export`` as a real process against the configured database
(``LANGORCH_DB__URL``), no server: exit 0 with the head when the chain holds, 1 naming the
first edited, deleted or cut-off entry, 2 when there is nothing readable; export prints JSON
lines with the same filters as the API. The commands docs/security.md shows run as written."""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from langorch.services import audit
from langorch.services.audit import AuditRecord
from langorch.store.migrations import async_url, upgrade
from tests.docs_commands import REPO, commands
from tests.test_cli import COMMAND
from tests.worker.databases import fresh_pg_database


def run(*args: str, db_url: str | None = None, cwd: Path | None = None,
        shell: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LANGORCH_DB")}
    env["PYTHONWARNINGS"] = "ignore"
    if db_url:
        env["LANGORCH_DB__URL"] = db_url
    argv = ["bash", "-o", "pipefail", "-c", shell] if shell else [*COMMAND, *args]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120, cwd=cwd or REPO, env=env,
                          check=False, stdin=subprocess.DEVNULL)
    assert "Traceback" not in done.stderr, done.stderr
    return done


def fill(url: str, count: int, *, old: int = 0) -> None:
    """``count`` entries, the first ``old`` of them dated 2020."""

    async def go() -> None:
        async with audit.open_database(url) as sessions:
            for n in range(1, count + 1):
                entry = AuditRecord(actor=f"user{n}", actor_kind="user", role="admin",
                                    action="run.cancel" if n % 2 else "approval.decide",
                                    subject_type="run", subject_id=f"r{n}", outcome=200)
                if n <= old:
                    async with sessions() as session:
                        await audit.append(session, entry, at=datetime(2020, 1, 1, tzinfo=UTC) + timedelta(n))
                        await session.commit()
                else:
                    await audit.record(sessions, entry)

    asyncio.run(go())


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("audit-cli") / "langorch.db"
    upgrade(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture
def db(tmp_path: Path, template: Path) -> Iterator[tuple[Path, str]]:
    """A migrated SQLite file and its URL."""
    path = tmp_path / "langorch.db"
    path.write_bytes(template.read_bytes())
    yield path, f"sqlite+aiosqlite:///{path}"


def test_verify_says_an_intact_chain_is_intact_and_prints_its_head(db: tuple[Path, str]) -> None:
    path, url = db
    fill(url, 3)
    with sqlite3.connect(path) as conn:
        head = conn.execute("SELECT hash FROM audit_log WHERE seq = 3").fetchone()[0]

    done = run("audit", "verify", db_url=url)

    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == "audit chain intact: 3 entries"
    assert f"head: 3:{head}" in done.stdout


def test_verify_of_an_empty_log(db: tuple[Path, str]) -> None:
    done = run("audit", "verify", db_url=db[1])
    assert (done.returncode, done.stdout.strip()) == (0, "audit chain intact: 0 entries")


@pytest.mark.parametrize(("tamper", "bad", "words"), [
    ("UPDATE audit_log SET actor = 'mallory' WHERE seq = 2", 2, "edited"),
    ("DELETE FROM audit_log WHERE seq = 3", 3, "deleted"),
    ("UPDATE audit_log SET prev_hash = hash WHERE seq = 4", 4, "inserted"),
], ids=["edited", "deleted", "relinked"])
def test_verify_exits_1_naming_the_first_bad_entry(db: tuple[Path, str], tamper: str, bad: int, words: str) -> None:
    path, url = db
    fill(url, 5)
    with sqlite3.connect(path) as conn:
        conn.execute(tamper)

    done = run("audit", "verify", db_url=url)

    assert done.returncode == 1
    first = done.stdout.splitlines()[0]
    assert first.startswith(f"audit chain BROKEN at entry {bad}: ") and words in first


def test_verify_with_an_anchor_catches_a_cut_off_tail(db: tuple[Path, str]) -> None:
    path, url = db
    fill(url, 4)
    head = run("audit", "verify", db_url=url).stdout.split("head: ", 1)[1].split()[0]
    with sqlite3.connect(path) as conn:
        conn.execute("DELETE FROM audit_log WHERE seq >= 3")

    assert run("audit", "verify", db_url=url).returncode == 0
    done = run("audit", "verify", "--anchor", head, db_url=url)

    assert done.returncode == 1
    assert "BROKEN at entry 3" in done.stdout and "truncated" in done.stdout


def test_verify_refuses_a_malformed_anchor(db: tuple[Path, str]) -> None:
    done = run("audit", "verify", "--anchor", "4:nothex", db_url=db[1])
    assert done.returncode == 2 and "--anchor" in done.stderr


def test_without_a_database_verify_says_so_and_creates_none(tmp_path: Path) -> None:
    missing = tmp_path / "var" / "nothing.db"

    done = run("audit", "verify", db_url=f"sqlite+aiosqlite:///{missing}")

    assert done.returncode == 2 and "no database" in done.stderr
    assert not missing.exists()


def test_an_unmigrated_database_is_unreadable_not_a_crash(tmp_path: Path) -> None:
    empty = tmp_path / "empty.db"
    sqlite3.connect(empty).close()

    done = run("audit", "export", db_url=f"sqlite+aiosqlite:///{empty}")

    assert done.returncode == 2 and "langorch migrate" in done.stderr


def test_export_prints_json_lines_with_filters(db: tuple[Path, str], tmp_path: Path) -> None:
    _, url = db
    fill(url, 6, old=2)

    everything = run("audit", "export", db_url=url)
    recent = run("audit", "export", "--since", "2021-01-01", db_url=url)
    old = run("audit", "export", "--until", "2021-01-01T00:00:00Z", db_url=url)
    decisions = run("audit", "export", "--action", "approval.decide", "--output", str(tmp_path / "out.ndjson"),
                    db_url=url)

    lines = [json.loads(line) for line in everything.stdout.splitlines()]
    assert [e["seq"] for e in lines] == [1, 2, 3, 4, 5, 6]
    assert set(lines[0]) == {"seq", "at", "actor", "actor_kind", "role", "action", "subject_type", "subject_id",
                             "project_id", "request_id", "outcome", "details", "prev_hash", "hash"}
    assert lines[1]["prev_hash"] == lines[0]["hash"]
    assert "exported 6 entries" in everything.stderr
    assert [json.loads(line)["seq"] for line in recent.stdout.splitlines()] == [3, 4, 5, 6]
    assert [json.loads(line)["seq"] for line in old.stdout.splitlines()] == [1, 2]
    assert decisions.returncode == 0 and decisions.stdout == ""
    written = (tmp_path / "out.ndjson").read_text().splitlines()
    assert [json.loads(line)["seq"] for line in written] == [2, 4, 6]
    assert run("audit", "export", "--since", "last tuesday", db_url=url).returncode == 2


def test_verify_and_export_on_postgresql() -> None:
    for url in fresh_pg_database():
        fill(async_url(url), 3)
        done = run("audit", "verify", db_url=url)
        assert done.returncode == 0 and "audit chain intact: 3 entries" in done.stdout, done.stderr
        exported = run("audit", "export", "--db", url)
        assert [json.loads(line)["seq"] for line in exported.stdout.splitlines()] == [1, 2, 3]


def test_the_commands_the_security_guide_shows_run_as_written(db: tuple[Path, str], tmp_path: Path) -> None:
    _, url = db
    fill(url, 3)
    shown = [c.text for c in commands(REPO / "docs" / "security.md")
             if c.text.startswith("langorch audit") and "[" not in c.text]
    assert len(shown) >= 3, shown
    for text in shown:
        done = run(db_url=url, cwd=tmp_path, shell=text.replace("langorch ", " ".join(COMMAND) + " ", 1))
        assert done.returncode == 0, f"{text}: {done.stdout}{done.stderr}"
