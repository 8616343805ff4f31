"""The real app over a real database, migrated with Alembic, driven through httpx.

``settings`` is parametrized over a SQLite file and PostgreSQL (``LANGORCH_TEST_PG_URL``,
default postgresql://postgres@127.0.0.1:5432/test, in a schema of its own that is
emptied before every test and dropped at the end); the PostgreSQL half skips when the
server does not answer, unless ``LANGORCH_REQUIRE_PG=1``.
``client`` talks to ``create_app(settings)`` in-process (ASGITransport, lifespan run);
``live_server`` serves the same app with uvicorn on a free loopback port for tests that
need a real socket (chunked uploads, schemathesis).
"""

from __future__ import annotations

import asyncio
import copy
import os
import shutil
import socket
import sqlite3
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import psycopg
import pytest
import pytest_asyncio
import uvicorn
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from langorch.api.app import create_app
from langorch.settings import ApiSettings, DatabaseSettings, Settings, WorkerSettings
from langorch.store.migrations import async_url, upgrade
from langorch.store.models import Base, Run
from tests.auth_support import bearer

MAX_BODY = 256 * 1024
"""The body limit the test app runs with (413 above it)."""
PG_URL = os.environ.get("LANGORCH_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
REQUIRE_PG = os.environ.get("LANGORCH_REQUIRE_PG") == "1"


def ckp(procedure_id: str = "test_proc", version: str = "1.0.0", **root: Any) -> dict[str, Any]:
    """A small valid CKP: log one line, then end."""
    doc: dict[str, Any] = {
        "procedure_id": procedure_id,
        "version": version,
        "description": f"{procedure_id} for API tests",
        "workflow_graph": {
            "start_node": "greet",
            "nodes": {
                "greet": {"type": "sequence", "next_node": "end",
                          "steps": [{"step_id": "hello", "action": "log", "value": "hello"}]},
                "end": {"type": "terminate", "status": "success"},
            },
        },
    }
    doc.update(copy.deepcopy(root))
    return doc


def broken_ckp(procedure_id: str = "broken") -> dict[str, Any]:
    """A CKP whose next_node points nowhere (CKP202)."""
    doc = ckp(procedure_id)
    doc["workflow_graph"]["nodes"]["greet"]["next_node"] = "nowhere"
    return doc


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One SQLite file migrated to head; every test gets a copy (migrating per test is slow)."""
    path = tmp_path_factory.mktemp("template") / "langorch.db"
    upgrade(f"sqlite+aiosqlite:///{path}")
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.execute("PRAGMA journal_mode=DELETE")
    return path


@pytest.fixture
def db_path(tmp_path: Path, migrated_template: Path) -> Path:
    path = tmp_path / "langorch.db"
    shutil.copyfile(migrated_template, path)
    return path


def pg_admin() -> psycopg.Connection[Any]:
    """An autocommit connection to the test PostgreSQL, or skip (fail with LANGORCH_REQUIRE_PG=1)."""
    try:
        return psycopg.connect(PG_URL, connect_timeout=3, autocommit=True)
    except psycopg.OperationalError as exc:
        if REQUIRE_PG:
            pytest.fail(f"PostgreSQL at {PG_URL} is required (LANGORCH_REQUIRE_PG=1) but does not answer: {exc}")
        pytest.skip(f"PostgreSQL at {PG_URL} does not answer: {exc}")


def pg_schema_url(schema: str) -> str:
    """The async URL of the test PostgreSQL with ``search_path`` set to ``schema``."""
    separator = "&" if "?" in PG_URL else "?"
    return async_url(PG_URL) + f"{separator}options={quote(f'-csearch_path={schema}')}"


@pytest.fixture(scope="session")
def pg_migrated() -> Iterator[tuple[str, str]]:
    """A fresh schema migrated to head, shared by the PostgreSQL half of the API tests."""
    admin = pg_admin()
    schema = f"lo_api_{uuid.uuid4().hex[:10]}"
    with admin:
        admin.execute(f'CREATE SCHEMA "{schema}"')
        try:
            url = pg_schema_url(schema)
            upgrade(url)
            yield url, schema
        finally:
            admin.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture
def pg_url(pg_migrated: tuple[str, str]) -> str:
    """The shared schema, emptied."""
    url, schema = pg_migrated
    tables = ", ".join(f'"{schema}"."{name}"' for name in Base.metadata.tables)
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
    return url


@pytest.fixture(params=["sqlite", "postgres"])
def settings(request: pytest.FixtureRequest, db_path: Path) -> Settings:
    url = f"sqlite+aiosqlite:///{db_path}" if request.param == "sqlite" else request.getfixturevalue("pg_url")
    return Settings(db=DatabaseSettings(url=url), worker=WorkerSettings(embedded=False),
                    api=ApiSettings(max_body_bytes=MAX_BODY))


@pytest_asyncio.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest_asyncio.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://localhost", headers=bearer("admin")) as http:
        yield http


@pytest.fixture
def sessions(app: FastAPI) -> async_sessionmaker[AsyncSession]:
    """The app's own session factory, for arranging rows the API cannot create (runs)."""
    factory: async_sessionmaker[AsyncSession] = app.state.ctx.sessions
    return factory


async def add_run(sessions: async_sessionmaker[AsyncSession], procedure_id: str, version: str = "1.0.0",
                  **fields: Any) -> Run:
    """Insert a run row directly, as the run service would."""
    values: dict[str, Any] = {"procedure_id": procedure_id, "procedure_version": version, "ir_hash": "x" * 64,
                              "thread_id": "t", "status": "completed"}
    values.update(fields)
    run = Run(**values)
    async with sessions() as session:
        session.add(run)
        await session.commit()
    return run


async def create_procedure(client: httpx.AsyncClient, document: dict[str, Any] | None = None,
                           **body: Any) -> dict[str, Any]:
    response = await client.post("/api/procedures", json={"ckp_json": document or ckp(), **body})
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def assert_error(response: httpx.Response, status: int, code: str | None = None) -> dict[str, Any]:
    """The response has ``status`` and the error envelope (with ``code`` when given)."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    if code is not None:
        assert body["error"]["code"] == code
    error: dict[str, Any] = body["error"]
    return error


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LiveServer:
    """uvicorn serving an app on 127.0.0.1 in a background thread."""

    def __init__(self, application: FastAPI) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(application, host="127.0.0.1", port=self.port, log_level="warning", lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=lambda: asyncio.run(self.server.serve()), daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)


@pytest.fixture
def live_server(settings: Settings) -> Iterator[LiveServer]:
    with LiveServer(create_app(settings)) as server:
        yield server
