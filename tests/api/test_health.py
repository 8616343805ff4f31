"""/api/health, /api/metrics and the action catalog."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from langorch import __version__
from langorch.ckp.catalog import CHANNEL_CATALOG, INTERNAL_ACTIONS
from langorch.store.db import make_engine
from tests.api.conftest import add_run, create_procedure, free_port

pytestmark = pytest.mark.asyncio


async def test_health_reports_version_and_database(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/health")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok" and body["db"] == "ok" and body["version"] == __version__
    assert "worker" in body


async def test_health_is_503_when_the_database_does_not_answer(client: httpx.AsyncClient, app: FastAPI) -> None:
    ctx = app.state.ctx
    working = ctx.sessions
    broken = make_engine(f"postgresql+psycopg://nobody@127.0.0.1:{free_port()}/none")  # nothing listens there
    ctx.sessions = async_sessionmaker(broken)
    try:
        response = await client.get("/api/health")
    finally:
        ctx.sessions = working
        await broken.dispose()

    assert response.status_code == 503
    body = response.json()
    assert body["db"] == "error" and body["status"] == "degraded" and body["db_error"]


async def test_metrics_are_prometheus_text_with_db_gauges(client: httpx.AsyncClient,
                                                          sessions: async_sessionmaker[AsyncSession]) -> None:
    await create_procedure(client)
    await add_run(sessions, "test_proc", status="completed")
    await add_run(sessions, "test_proc", status="completed")
    await add_run(sessions, "test_proc", status="failed")

    response = await client.get("/api/metrics")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert 'langorch_runs{status="completed"} 2.0' in text
    assert 'langorch_runs{status="failed"} 1.0' in text
    assert "langorch_procedures 1.0" in text and "langorch_procedure_versions 1.0" in text
    assert f'langorch_info{{version="{__version__}"}} 1.0' in text


async def test_action_catalog_merges_builtin_channels_and_agent_capabilities(client: httpx.AsyncClient) -> None:
    await client.post("/api/agents", json={"agent_id": "erp-1", "name": "ERP", "channel": "erp",
                                           "base_url": "http://127.0.0.1:9", "capabilities": ["post_invoice"]})
    await client.post("/api/agents", json={"agent_id": "web-1", "name": "Web", "channel": "WEB",
                                           "base_url": "http://127.0.0.1:9", "capabilities": "navigate, solve_captcha"})

    response = await client.get("/api/actions")

    assert response.status_code == 200
    body = response.json()
    assert body["internal_actions"] == sorted(INTERNAL_ACTIONS)
    channels = {c["channel"]: c for c in body["channels"]}
    assert set(CHANNEL_CATALOG) | {"ERP"} == set(channels)
    assert channels["ERP"] == {"channel": "ERP", "builtin_actions": [], "agent_actions": ["post_invoice"],
                               "actions": ["post_invoice"], "agents": ["erp-1"]}
    assert "solve_captcha" in channels["WEB"]["actions"] and "navigate" in channels["WEB"]["builtin_actions"]
    assert channels["EMAIL"]["agents"] == []
