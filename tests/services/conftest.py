"""Fixtures for service tests: ``db_url`` runs a test on SQLite and on PostgreSQL, ``sessions``
opens the database behind it."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from langorch.store.db import make_engine, make_sessionmaker
from langorch.store.migrations import async_url, upgrade
from tests.worker.databases import fresh_pg_database


@pytest.fixture(scope="session")
def services_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("services-template") / "langorch.db"
    upgrade(f"sqlite+aiosqlite:///{path}")
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.execute("PRAGMA journal_mode=DELETE")
    return path


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path, services_template: Path) -> Iterator[str]:
    """An async SQLAlchemy URL of a migrated, empty database."""
    if request.param == "sqlite":
        path = tmp_path / "langorch.db"
        path.write_bytes(services_template.read_bytes())
        yield f"sqlite+aiosqlite:///{path}"
        return
    for url in fresh_pg_database():
        yield async_url(url)


@pytest_asyncio.fixture
async def engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(db_url)
    yield engine
    await engine.dispose()


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return make_sessionmaker(engine)
