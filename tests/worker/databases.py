"""Databases for worker tests: a migrated SQLite file, or a fresh PostgreSQL database.

PostgreSQL is ``LANGORCH_TEST_PG_URL`` (default ``postgresql://postgres@127.0.0.1:5432/test``);
each test gets ``CREATE DATABASE langorch_test_<random>``, dropped afterwards. When the
server does not answer the test is skipped, unless ``LANGORCH_REQUIRE_PG=1`` (CI), where
it fails.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

from langorch.store.migrations import async_url, upgrade

PG_URL = os.environ.get("LANGORCH_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")


def _pg_error() -> str | None:
    try:
        import psycopg

        with psycopg.connect(PG_URL, connect_timeout=3):
            return None
    except Exception as exc:  # any failure means "not here"
        return f"{type(exc).__name__}: {exc}"


def require_pg() -> None:
    problem = _pg_error()
    if problem is None:
        return
    message = f"PostgreSQL at {PG_URL} is not answering ({problem})"
    if os.environ.get("LANGORCH_REQUIRE_PG") == "1":
        pytest.fail(message)
    pytest.skip(message)


def _with_database(url: str, name: str) -> str:
    base, _, query = url.partition("?")
    root = base.rsplit("/", 1)[0]
    return f"{root}/{name}" + (f"?{query}" if query else "")


def fresh_pg_database() -> Iterator[str]:
    """Yield the URL (postgresql://) of a new, migrated database; drop it afterwards."""
    import psycopg

    require_pg()
    name = f"langorch_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = _with_database(PG_URL, name)
    try:
        upgrade(async_url(url))
        yield url
    finally:
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
