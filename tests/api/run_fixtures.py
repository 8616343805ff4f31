"""Fixtures of the run, approval, SSE and queue tests; test modules load them with
``pytest_plugins = ("tests.api.run_fixtures",)``.

The app runs for real: ``create_app`` on a migrated SQLite file (a copy of the session's
migrated template), served by uvicorn on a loopback port (SSE needs a real socket), with
the embedded worker and its loops on fast timings.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio

from langorch.api.app import create_app
from langorch.settings import Settings
from tests.api.conftest import LiveServer
from tests.api.run_support import worker_settings
from tests.auth_support import bearer


@pytest.fixture
def run_settings(db_path: Path) -> Settings:
    return worker_settings(db_path)


@pytest.fixture
def server(run_settings: Settings) -> Iterator[LiveServer]:
    with LiveServer(create_app(run_settings)) as live:
        yield live


@pytest_asyncio.fixture
async def api(server: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.url, timeout=30, headers=bearer("admin")) as client:
        yield client
