"""Fixtures for service tests: ``db_url`` runs a test on SQLite and on PostgreSQL, ``sessions``
opens the database behind it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from langorch.store.db import make_engine, make_sessionmaker
from tests.worker.conftest import db_url, worker_template  # noqa: F401  (the same migrated databases)


@pytest_asyncio.fixture
async def engine(db_url: str) -> AsyncIterator[AsyncEngine]:  # noqa: F811 (the imported fixture)
    engine = make_engine(db_url)
    yield engine
    await engine.dispose()


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return make_sessionmaker(engine)
