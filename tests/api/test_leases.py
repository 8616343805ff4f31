"""/api/leases: list active (or all) and force-release."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from langorch.services import leases
from langorch.store.models import ResourceLease, utcnow
from tests.api.conftest import assert_error

pytestmark = pytest.mark.asyncio


async def _lease(sessions: async_sessionmaker[AsyncSession], key: str, **fields: object) -> str:
    async with sessions() as session:
        row = ResourceLease(resource_key=key, run_id="run-1", node_id="n", step_id="s", **fields)
        session.add(row)
        await session.commit()
        return row.lease_id


async def test_list_shows_active_leases_by_default(client: httpx.AsyncClient,
                                                   sessions: async_sessionmaker[AsyncSession]) -> None:
    now = utcnow()
    live = await _lease(sessions, "printer", expires_at=now + timedelta(minutes=5))
    forever = await _lease(sessions, "desk")
    await _lease(sessions, "old", expires_at=now - timedelta(minutes=5))
    await _lease(sessions, "done", released_at=now)

    response = await client.get("/api/leases")

    assert response.status_code == 200
    assert {lease["lease_id"] for lease in response.json()} == {live, forever}
    assert response.headers["x-total-count"] == "2"
    first = response.json()[0]
    assert set(first) == {"lease_id", "resource_key", "run_id", "node_id", "step_id", "acquired_at", "expires_at",
                          "released_at", "active"}
    assert all(lease["active"] for lease in response.json())
    everything = await client.get("/api/leases", params={"all": "true"})
    assert everything.headers["x-total-count"] == "4"
    assert sorted(lease["active"] for lease in everything.json()) == [False, False, True, True]
    by_key = await client.get("/api/leases", params={"resource_key": "printer"})
    assert [lease["lease_id"] for lease in by_key.json()] == [live]


async def test_force_release_sets_released_at(client: httpx.AsyncClient,
                                              sessions: async_sessionmaker[AsyncSession]) -> None:
    lease_id = await _lease(sessions, "printer")

    response = await client.delete(f"/api/leases/{lease_id}")

    assert response.status_code == 204
    assert (await client.get("/api/leases")).json() == []
    released = (await client.get("/api/leases", params={"all": "true"})).json()[0]
    assert released["released_at"] is not None and released["active"] is False
    assert (await client.delete(f"/api/leases/{lease_id}")).status_code == 204  # already released: no-op


async def test_force_release_of_an_unknown_lease_is_404(client: httpx.AsyncClient) -> None:
    assert_error(await client.delete("/api/leases/nope"), 404, "not_found")


async def test_try_acquire_respects_max_holders_and_expiry(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as session:
        first = await leases.try_acquire(session, "scanner", run_id="r1", ttl_s=60)
        second = await leases.try_acquire(session, "scanner", run_id="r2", ttl_s=60)
        shared = await leases.try_acquire(session, "scanner", run_id="r2", max_holders=2)
    assert first is not None and second is None and shared is not None
    async with sessions() as session:
        await leases.release(session, first.lease_id)
        await leases.release(session, shared.lease_id)
        again = await leases.try_acquire(session, "scanner", run_id="r3", ttl_s=0.001)
    assert again is not None
    async with sessions() as session:
        after_expiry = await leases.try_acquire(session, "scanner", run_id="r4")
    assert after_expiry is not None
