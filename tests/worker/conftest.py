"""Fixtures for worker tests: ``db_url`` runs a test on SQLite and on PostgreSQL."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from langorch.store.migrations import async_url, upgrade
from tests.worker.databases import fresh_pg_database


@pytest.fixture(scope="session")
def worker_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("worker-template") / "langorch.db"
    upgrade(f"sqlite+aiosqlite:///{path}")
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.execute("PRAGMA journal_mode=DELETE")
    return path


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path, worker_template: Path) -> Iterator[str]:
    """An async SQLAlchemy URL of a migrated, empty database."""
    if request.param == "sqlite":
        path = tmp_path / "langorch.db"
        path.write_bytes(worker_template.read_bytes())
        yield f"sqlite+aiosqlite:///{path}"
        return
    for url in fresh_pg_database():
        yield async_url(url)


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh migrated PostgreSQL database (postgresql:// URL)."""
    yield from fresh_pg_database()
