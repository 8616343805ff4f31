"""Alembic: upgrade → downgrade → upgrade is clean on SQLite and PostgreSQL, and the models
match the migrations (``alembic check`` finds no drift).

PostgreSQL tests use ``LANGORCH_TEST_PG_URL`` (default postgresql://postgres@127.0.0.1:5432/test)
in a fresh schema they drop afterwards; they skip when the server does not answer, unless
``LANGORCH_REQUIRE_PG=1``.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from alembic.script import ScriptDirectory

from langorch.store.migrations import alembic_config, async_url, check, downgrade, upgrade
from langorch.store.models import Base
from tests.api.conftest import PG_URL, pg_admin, pg_schema_url

EXPECTED_TABLES = set(Base.metadata.tables)


def _sqlite_tables(path: Path) -> set[str]:
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    return {name for (name,) in rows} - {"alembic_version", "sqlite_sequence"}


def test_sqlite_upgrade_downgrade_upgrade_and_no_drift(tmp_path: Path) -> None:
    path = tmp_path / "m.db"
    url = f"sqlite+aiosqlite:///{path}"

    upgrade(url)
    assert _sqlite_tables(path) == EXPECTED_TABLES
    check(url)
    downgrade(url, "base")
    assert _sqlite_tables(path) == set()
    upgrade(url)
    assert _sqlite_tables(path) == EXPECTED_TABLES
    check(url)


def test_every_revision_steps_down_and_up_one_at_a_time_on_sqlite(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'steps.db'}"
    revisions = [rev.revision for rev in ScriptDirectory.from_config(alembic_config(url)).walk_revisions()]

    upgrade(url)
    for _ in revisions:
        downgrade(url, "-1")
    for _ in revisions:
        upgrade(url, "+1")
    check(url)


@pytest.fixture
def fresh_pg_schema() -> Iterator[tuple[str, str]]:
    """A new, empty PostgreSQL schema and an async URL whose search_path points at it."""
    admin = pg_admin()
    schema = f"lo_mig_{uuid.uuid4().hex[:10]}"
    with admin:
        admin.execute(f'CREATE SCHEMA "{schema}"')
        try:
            yield pg_schema_url(schema), schema
        finally:
            admin.execute(f'DROP SCHEMA "{schema}" CASCADE')


def _pg_tables(schema: str) -> set[str]:
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        rows = conn.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
                            (schema,)).fetchall()
    return {name for (name,) in rows} - {"alembic_version"}


def test_postgres_upgrade_downgrade_upgrade_and_no_drift(fresh_pg_schema: tuple[str, str]) -> None:
    url, schema = fresh_pg_schema

    upgrade(url)
    assert _pg_tables(schema) == EXPECTED_TABLES
    check(url)
    downgrade(url, "base")
    assert _pg_tables(schema) == set()
    upgrade(url)
    assert _pg_tables(schema) == EXPECTED_TABLES
    check(url)


def test_async_url_adds_the_async_drivers() -> None:
    assert async_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert async_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert async_url("sqlite:///./x.db") == "sqlite+aiosqlite:///./x.db"
    assert async_url("postgresql+asyncpg://u@h/db") == "postgresql+asyncpg://u@h/db"
