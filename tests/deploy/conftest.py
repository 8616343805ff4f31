"""Fixtures of the deploy tests: ``pg_url``, a fresh migrated PostgreSQL database."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.worker.databases import fresh_pg_database


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A new, migrated PostgreSQL database (``postgresql://`` URL), dropped afterwards; skipped
    without PostgreSQL unless LANGORCH_REQUIRE_PG=1."""
    yield from fresh_pg_database()
