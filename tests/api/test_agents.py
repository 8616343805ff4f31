"""/api/agents: registry CRUD, filters, pools (with their leases and capacity, and the docs' example) and the
health probe against a real loopback agent."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from langorch.api.app import create_app
from langorch.services import leases
from langorch.services.agent_dispatch import lease_key
from langorch.settings import Settings
from tests.api.conftest import LiveServer, assert_error, free_port
from tests.auth_support import token
from tests.docs_commands import REPO, shell_blocks
from tests.fakes.agent_server import FakeAgentServer

pytestmark = pytest.mark.asyncio

AGENT_FIELDS = {"agent_id", "name", "channel", "base_url", "capabilities", "pool_id", "status", "concurrency_limit",
                "circuit_state", "consecutive_failures", "circuit_open_until", "last_heartbeat_at", "created_at",
                "updated_at"}


async def _agent(client: httpx.AsyncClient, **fields: Any) -> dict[str, Any]:
    body = {"name": "web bot", "channel": "web", "base_url": "http://127.0.0.1:9", **fields}
    response = await client.post("/api/agents", json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def test_register_then_get(client: httpx.AsyncClient) -> None:
    created = await _agent(client, capabilities=["navigate", "click"], pool_id="web-pool", concurrency_limit=3)

    assert set(created) == AGENT_FIELDS
    assert created["channel"] == "WEB"
    assert created["status"] == "online" and created["circuit_state"] == "closed"
    assert created["consecutive_failures"] == 0 and created["capabilities"] == ["navigate", "click"]
    assert (await client.get(f"/api/agents/{created['agent_id']}")).json() == created


async def test_a_chosen_agent_id_must_be_unique(client: httpx.AsyncClient) -> None:
    await _agent(client, agent_id="web-1")

    response = await client.post("/api/agents", json={"agent_id": "web-1", "name": "again", "channel": "WEB",
                                                      "base_url": "http://127.0.0.1:9"})
    assert_error(response, 409, "duplicate_agent")


@pytest.mark.parametrize("payload", [
    {"name": "x", "channel": "WEB", "base_url": "ftp://nope"},
    {"name": "x", "channel": "", "base_url": "http://a"},
    {"name": "x", "channel": "WEB", "base_url": "http://a", "status": "sleeping"},
    {"name": "x", "channel": "WEB", "base_url": "http://a", "concurrency_limit": 0},
    {"channel": "WEB", "base_url": "http://a"},
    {"name": "x", "channel": "WEB", "base_url": "http://[::1"},
])
async def test_register_rejects_bad_bodies(client: httpx.AsyncClient, payload: dict[str, Any]) -> None:
    assert_error(await client.post("/api/agents", json=payload), 422, "invalid_request")


async def test_list_filters_by_channel_status_and_pool(client: httpx.AsyncClient) -> None:
    await _agent(client, agent_id="w1", pool_id="p1")
    await _agent(client, agent_id="w2", status="offline", pool_id="p1")
    await _agent(client, agent_id="e1", channel="EMAIL")

    everything = await client.get("/api/agents")
    assert everything.headers["x-total-count"] == "3"
    assert [a["agent_id"] for a in everything.json()] == ["e1", "w1", "w2"]

    async def ids(**params: str) -> list[str]:
        return [a["agent_id"] for a in (await client.get("/api/agents", params=params)).json()]

    assert await ids(channel="web") == ["w1", "w2"]
    assert await ids(status="offline") == ["w2"]
    assert await ids(pool_id="p1", status="online") == ["w1"]
    assert await ids(limit="1", offset="2") == ["w2"]


async def test_update_changes_the_fields_sent_and_closing_the_circuit_resets_it(client: httpx.AsyncClient) -> None:
    await _agent(client, agent_id="w1", capabilities=["click"])

    opened = (await client.put("/api/agents/w1", json={"circuit_state": "open", "status": "degraded"})).json()
    assert opened["circuit_state"] == "open" and opened["status"] == "degraded"
    assert opened["capabilities"] == ["click"]
    changed = (await client.put("/api/agents/w1", json={"circuit_state": "closed", "base_url": "http://b:1",
                                                        "capabilities": "a,b"})).json()
    assert changed["circuit_state"] == "closed" and changed["consecutive_failures"] == 0
    assert changed["base_url"] == "http://b:1" and changed["capabilities"] == ["a", "b"]
    assert_error(await client.put("/api/agents/w1", json={"status": "nope"}), 422)
    assert_error(await client.put("/api/agents/nope", json={"status": "online"}), 404, "not_found")


async def test_delete_answers_204_then_404(client: httpx.AsyncClient) -> None:
    await _agent(client, agent_id="w1")

    response = await client.delete("/api/agents/w1")

    assert response.status_code == 204 and response.content == b""
    assert_error(await client.get("/api/agents/w1"), 404, "not_found")
    assert_error(await client.delete("/api/agents/w1"), 404, "not_found")


async def test_pools_group_members_with_their_channel(client: httpx.AsyncClient) -> None:
    await _agent(client, agent_id="w1", pool_id="web", concurrency_limit=2)
    await _agent(client, agent_id="w2", pool_id="web", status="offline", concurrency_limit=3)
    await _agent(client, agent_id="m1", pool_id="mixed")
    await _agent(client, agent_id="m2", pool_id="mixed", channel="EMAIL")
    await _agent(client, agent_id="solo")

    pools = {p["pool_id"]: p for p in (await client.get("/api/agents/pools")).json()}

    assert set(pools) == {"web", "mixed"}
    web = pools["web"]
    assert (web["channel"], web["size"], web["online"], web["concurrency_limit"]) == ("WEB", 2, 1, 5)
    assert [m["agent_id"] for m in web["members"]] == ["w1", "w2"]
    assert pools["mixed"]["channel"] is None and pools["mixed"]["channels"] == ["EMAIL", "WEB"]


async def test_pools_show_active_leases_available_capacity_and_open_circuits(
        client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]) -> None:
    await _agent(client, agent_id="w1", pool_id="web", concurrency_limit=3)
    await _agent(client, agent_id="w2", pool_id="web", concurrency_limit=2)
    await _agent(client, agent_id="w3", pool_id="web", concurrency_limit=4)
    await _agent(client, agent_id="w4", pool_id="web", concurrency_limit=5, status="offline")
    await _agent(client, agent_id="e1", pool_id="mail", channel="EMAIL")
    async with sessions() as session:
        for agent_id, count in (("w1", 2), ("w2", 3), ("w3", 1)):  # w2 over its limit (lowered meanwhile)
            for _ in range(count):
                assert await leases.try_acquire(session, lease_key(agent_id), max_holders=10) is not None
        gone = await leases.try_acquire(session, lease_key("e1"), ttl_s=0.001)
        assert gone is not None
    assert (await client.put("/api/agents/w3", json={"circuit_state": "open"})).status_code == 200

    pools = {p["pool_id"]: p for p in (await client.get("/api/agents/pools")).json()}

    web = pools["web"]
    assert (web["concurrency_limit"], web["active_leases"], web["circuit_open"]) == (14, 6, 1)
    assert web["available"] == 1, "w1 has 1 free; w2 is full; w3's circuit is open; w4 is offline"
    assert (pools["mail"]["active_leases"], pools["mail"]["available"], pools["mail"]["circuit_open"]) == (0, 1, 0)
    await client.put("/api/agents/w3", json={"circuit_state": "closed"})
    web = {p["pool_id"]: p for p in (await client.get("/api/agents/pools")).json()}["web"]
    assert (web["available"], web["circuit_open"]) == (4, 0)


def _pools_example() -> str:
    """The bash block docs/agents.md shows for registering pools and reading their capacity."""
    for _, before, body in shell_blocks(REPO / "docs" / "agents.md"):
        if before.startswith("<!-- pools-example"):
            return "\n".join(body)
    raise LookupError("docs/agents.md has no pools example")


@pytest.mark.skipif(not shutil.which("curl"), reason="needs curl")
async def test_the_documented_pools_example_prints_what_the_docs_show(settings: Settings) -> None:
    script = _pools_example()
    doc = (REPO / "docs" / "agents.md").read_text()
    shown = doc.split(script, 1)[1].split("```text\n", 1)[1].split("```", 1)[0]
    with LiveServer(create_app(settings)) as server:
        env = {"PATH": os.environ["PATH"], "KEY": token("admin")}
        done = await asyncio.to_thread(subprocess.run, ["bash", "-o", "pipefail", "-c",
                                                        script.replace("localhost:8000", server.url)],
                                       capture_output=True, text=True, env=env, timeout=60)

    assert done.returncode == 0, done.stderr
    assert done.stdout == shown


async def test_health_probe_marks_a_live_agent_online(client: httpx.AsyncClient,
                                                      fake_agent: FakeAgentServer) -> None:
    await _agent(client, agent_id="w1", base_url=fake_agent.url, status="offline")

    response = await client.post("/api/agents/w1/health")

    assert response.status_code == 200
    body = response.json()
    assert body["ok"] is True and body["status_code"] == 200 and body["error"] is None
    assert "body" not in body, "the probe reports reachability, never what the URL answered"
    assert body["agent"]["status"] == "online" and body["agent"]["last_heartbeat_at"] is not None
    assert (await client.get("/api/agents/w1")).json()["status"] == "online"


async def test_health_probe_marks_a_failing_or_absent_agent_offline(client: httpx.AsyncClient,
                                                                    fake_agent: FakeAgentServer) -> None:
    fake_agent.health_status = 503
    await _agent(client, agent_id="sick", base_url=fake_agent.url)
    await _agent(client, agent_id="gone", base_url=f"http://127.0.0.1:{free_port()}")

    sick = (await client.post("/api/agents/sick/health")).json()
    gone = (await client.post("/api/agents/gone/health")).json()

    assert sick["ok"] is False and sick["status_code"] == 503 and sick["agent"]["status"] == "offline"
    assert gone["ok"] is False and gone["status_code"] is None and gone["error"]
    assert gone["agent"]["status"] == "offline" and gone["agent"]["last_heartbeat_at"] is None


async def test_health_probe_keeps_a_disabled_agent_disabled(client: httpx.AsyncClient,
                                                            fake_agent: FakeAgentServer) -> None:
    await _agent(client, agent_id="w1", base_url=fake_agent.url, status="disabled")

    body = (await client.post("/api/agents/w1/health")).json()

    assert body["ok"] is True and body["agent"]["status"] == "disabled"
    assert_error(await client.post("/api/agents/nope/health"), 404, "not_found")


@pytest.mark.parametrize("base_url", ["http://127.0.0.1:9/admin?x=", "http://127.0.0.1:9/#frag",
                                      "http://user:pw@127.0.0.1:9"])
async def test_an_agent_url_with_a_query_fragment_or_credentials_is_422(client: httpx.AsyncClient,
                                                                        base_url: str) -> None:
    response = await client.post("/api/agents", json={"name": "a", "channel": "WEB", "base_url": base_url})

    assert response.status_code == 422, response.text
    assert "base_url" in response.text
