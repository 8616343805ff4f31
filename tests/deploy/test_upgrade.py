"""The "Upgrades" commands of docs/operations.md, run as written from the repository's root
against PostgreSQL (only the database URL is the test's): ``alembic current`` and
``alembic heads`` say where a database stands, ``langorch migrate`` brings it to head, and
the downgrade the doc shows goes one revision back, after which ``langorch migrate``
upgrades it again."""

from __future__ import annotations

import subprocess

from langorch.store.migrations import async_url
from tests.deploy.support import REPO, marked_block, process_env


def _run(lines: list[str], url: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(["bash", "-euo", "pipefail", "-c", "\n".join(lines)], cwd=REPO, capture_output=True,
                          text=True, timeout=180, stdin=subprocess.DEVNULL,
                          env=process_env({"LANGORCH_DB__URL": async_url(url)}))
    assert done.returncode == 0, f"{lines}\nstdout:\n{done.stdout[-3000:]}\nstderr:\n{done.stderr[-3000:]}"
    return done


def _head() -> str:
    versions = sorted(p.name for p in (REPO / "alembic" / "versions").glob("[0-9]*.py"))
    return versions[-1].split("_", 1)[0]


def test_the_upgrade_and_downgrade_commands_of_the_docs(pg_url: str) -> None:
    head = _head()
    upgrade = marked_block("upgrade")
    assert upgrade[0].startswith("export LANGORCH_DB__URL=postgresql+psycopg://")
    script = upgrade[1:]  # the URL is the test database's, from the environment
    assert [line.split()[:2] for line in script] == [["alembic", "current"], ["alembic", "heads"],
                                                     ["langorch", "migrate"]]
    out = _run(script, pg_url).stdout.splitlines()
    assert out[0] == f"{head} (head)" and out[1] == f"{head} (head)", out
    assert out[2].startswith("database is at the latest schema")

    downgrade = marked_block("downgrade")
    assert [line.split()[:3] for line in downgrade] == [["alembic", "downgrade", "-1"]]
    _run(downgrade, pg_url)
    current = _run(["alembic current"], pg_url).stdout.split()
    assert current and current[0] != head and "(head)" not in current, current
    again = _run(["langorch migrate", "alembic current"], pg_url).stdout.splitlines()
    assert again[-1] == f"{head} (head)"

