"""The schedule loop and the leader lease with a controllable clock, on SQLite and PostgreSQL:
one run per scheduled instant however many schedulers look, a restart that neither skips
nor repeats, coalesced catch-up after downtime, and leadership that moves when the leader
stops renewing — with the deposed leader fenced off."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from langorch.scheduling.leader import Lease
from langorch.scheduling.scheduler import SchedulerLoop
from langorch.services import triggers
from langorch.services.runtime_wiring import ServerRuntime
from langorch.store.models import Run, RunEvent, TriggerFire, TriggerRegistration
from tests.api.conftest import ckp, create_procedure

pytestmark = pytest.mark.asyncio
T0 = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)


def _rt(app: FastAPI) -> ServerRuntime:
    rt: ServerRuntime = app.state.ctx.extras["runtime"]
    return rt


async def _schedule(app: FastAPI, client: httpx.AsyncClient, cron: str = "* * * * *", **fields: Any) -> str:
    await create_procedure(client, ckp("tick"), status="active")
    async with _rt(app).sessions() as session:
        made = await triggers.create(session, None, {"procedure_id": "tick", "trigger_type": "scheduled",
                                                     "cron": cron, **fields})
        made.trigger.next_fire_at = T0
        await session.commit()
        return made.trigger.id


async def _runs(app: FastAPI) -> list[Run]:
    async with _rt(app).sessions() as session:
        return list(await session.scalars(select(Run).order_by(Run.created_at)))


async def test_each_instant_starts_one_run_however_many_schedulers_look(app: FastAPI,
                                                                        client: httpx.AsyncClient) -> None:
    trigger_id = await _schedule(app, client)
    one, two = SchedulerLoop(_rt(app), None), SchedulerLoop(_rt(app), None)
    for minute in range(3):
        at = T0 + timedelta(minutes=minute, seconds=1)
        assert len(await one.run_once(at)) == 1
        assert await two.run_once(at) == []
    runs = await _runs(app)
    assert len(runs) == 3 and {r.trigger_id for r in runs} == {trigger_id}
    assert {r.trigger_type for r in runs} == {"scheduled"} and {r.triggered_by for r in runs} == {"schedule"}
    async with _rt(app).sessions() as session:
        first = await session.scalar(select(RunEvent).where(RunEvent.run_id == runs[0].run_id, RunEvent.seq == 1))
        reg = await session.get(TriggerRegistration, trigger_id)
    assert first is not None and first.type == "trigger_fired"
    assert first.payload["scheduled_for"] == T0.isoformat() and first.payload["trigger_id"] == trigger_id
    assert reg is not None and reg.fire_count == 3 and reg.next_fire_at == T0 + timedelta(minutes=3)


async def test_a_restart_neither_skips_nor_repeats(app: FastAPI, client: httpx.AsyncClient) -> None:
    await _schedule(app, client)
    await SchedulerLoop(_rt(app), None).run_once(T0 + timedelta(seconds=2))
    restarted = SchedulerLoop(_rt(app), None)  # a new process: only the database remembers
    assert await restarted.run_once(T0 + timedelta(seconds=30)) == []
    assert len(await restarted.run_once(T0 + timedelta(minutes=1, seconds=3))) == 1
    assert len(await _runs(app)) == 2


async def test_downtime_beyond_the_grace_fires_once_when_coalescing(app: FastAPI, client: httpx.AsyncClient) -> None:
    trigger_id = await _schedule(app, client, misfire_grace_s=30, coalesce=True)
    started = await SchedulerLoop(_rt(app), None).run_once(T0 + timedelta(minutes=10, seconds=5))
    assert len(started) == 1
    async with _rt(app).sessions() as session:
        missed = await session.scalar(select(func.count()).select_from(TriggerFire).where(
            TriggerFire.trigger_id == trigger_id, TriggerFire.outcome == "missed"))
    assert missed == 10


async def test_downtime_beyond_the_grace_fires_nothing_without_coalescing(app: FastAPI,
                                                                         client: httpx.AsyncClient) -> None:
    await _schedule(app, client, misfire_grace_s=30, coalesce=False)
    assert await SchedulerLoop(_rt(app), None).run_once(T0 + timedelta(minutes=10, seconds=45)) == []
    assert await _runs(app) == []


async def test_overlap_skip_fires_nothing_while_the_last_run_is_unfinished(app: FastAPI,
                                                                          client: httpx.AsyncClient) -> None:
    trigger_id = await _schedule(app, client, overlap="skip")
    loop = SchedulerLoop(_rt(app), None)
    assert len(await loop.run_once(T0 + timedelta(seconds=1))) == 1  # queued, never picked up (no worker)
    assert await loop.run_once(T0 + timedelta(minutes=1, seconds=1)) == []
    async with _rt(app).sessions() as session:
        outcomes = list(await session.scalars(select(TriggerFire.outcome).where(TriggerFire.trigger_id == trigger_id)
                                              .order_by(TriggerFire.id)))
    assert outcomes == ["queued", "skipped_overlap"]


async def test_the_lease_moves_when_the_leader_stops_renewing_and_fences_the_old_one(app: FastAPI) -> None:
    sessions = _rt(app).sessions
    first, second = Lease(sessions, "t", "a", ttl_s=10), Lease(sessions, "t", "b", ttl_s=10)
    assert await first.acquire(T0) and not await second.acquire(T0 + timedelta(seconds=1))
    assert await first.acquire(T0 + timedelta(seconds=5))  # renewed until T0+15
    assert not await second.acquire(T0 + timedelta(seconds=14))
    assert await second.acquire(T0 + timedelta(seconds=16))  # a took too long: b leads
    assert second.token == (first.token or 0) + 1
    async with sessions() as session:
        assert not await first.held(session, T0 + timedelta(seconds=16))  # a's token is stale
        assert await second.held(session, T0 + timedelta(seconds=16))
    assert not await first.acquire(T0 + timedelta(seconds=17))
    await second.release()
    assert await first.acquire(T0 + timedelta(seconds=18))


async def test_a_deposed_leader_fires_nothing(app: FastAPI, client: httpx.AsyncClient) -> None:
    await _schedule(app, client)
    sessions = _rt(app).sessions
    old, new = Lease(sessions, "s", "old", ttl_s=10), Lease(sessions, "s", "new", ttl_s=10)
    assert await old.acquire(T0 - timedelta(seconds=30))
    assert await new.acquire(T0)
    assert await SchedulerLoop(_rt(app), old).run_once(T0 + timedelta(seconds=1)) == []
    assert len(await SchedulerLoop(_rt(app), new).run_once(T0 + timedelta(seconds=1))) == 1


async def test_activating_a_version_with_a_schedule_registers_it_and_deprecating_removes_it(
        app: FastAPI, client: httpx.AsyncClient) -> None:
    await create_procedure(client, ckp("nightly", trigger={"type": "scheduled", "schedule": "30 2 * * *",
                                                           "timezone": "Europe/Berlin"}), status="draft")
    async with _rt(app).sessions() as session:
        assert (await triggers.list_triggers(session, procedure_id="nightly"))[1] == 0
    assert (await client.post("/api/procedures/nightly/1.0.0/status", json={"status": "active"})).status_code == 200
    async with _rt(app).sessions() as session:
        [reg], _ = await triggers.list_triggers(session, procedure_id="nightly")
    assert (reg.source, reg.cron, reg.timezone, reg.version) == ("ckp", "30 2 * * *", "Europe/Berlin", "1.0.0")
    assert reg.next_fire_at is not None and reg.next_fire_at.astimezone(ZoneInfo("Europe/Berlin")).hour == 2
    assert (await client.post("/api/procedures/nightly/1.0.0/status",
                              json={"status": "deprecated"})).status_code == 200
    async with _rt(app).sessions() as session:
        assert (await triggers.list_triggers(session, procedure_id="nightly"))[1] == 0


async def test_a_version_whose_trigger_cannot_be_registered_does_not_become_active(
        app: FastAPI, client: httpx.AsyncClient) -> None:
    watcher = {"type": "file_watch", "file_watch_config": {"path": "/etc", "pattern": "*.csv"}}
    await create_procedure(client, ckp("outside", trigger=watcher), status="draft")
    answer = await client.post("/api/procedures/outside/1.0.0/status", json={"status": "active"})
    assert answer.status_code == 422, answer.text
    assert "cannot be active" in answer.json()["error"]["message"]
    assert (await client.get("/api/procedures/outside/1.0.0")).json()["status"] == "draft"
    async with _rt(app).sessions() as session:
        assert (await triggers.list_triggers(session, procedure_id="outside"))[1] == 0
