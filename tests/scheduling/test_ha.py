"""Two `langorch serve` processes on the real PostgreSQL share one schedule: exactly one run
per scheduled instant while both are up, and when the leader is killed (SIGKILL) the other
takes over within the lease TTL and fires every instant — none lost, none doubled.
Shortened TTL and period: an RRULE every 2 s, a 3 s lease."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from langorch.services import procedures, triggers
from langorch.store.db import make_engine, make_sessionmaker
from langorch.store.migrations import upgrade
from langorch.store.models import LeaderLease, TriggerFire
from tests.api.conftest import ckp, free_port, pg_admin, pg_schema_url

LANGORCH = Path(__file__).resolve().parents[2] / ".venv" / "bin" / "langorch"
PERIOD_S = 2


@pytest.fixture
def pg_schema() -> Iterator[str]:
    admin = pg_admin()
    schema = f"lo_ha_{uuid.uuid4().hex[:10]}"
    with admin:
        admin.execute(f'CREATE SCHEMA "{schema}"')
        try:
            url = pg_schema_url(schema)
            upgrade(url)
            yield url
        finally:
            admin.execute(f'DROP SCHEMA "{schema}" CASCADE')


def _serve(url: str, folder: Path, name: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "LANGORCH_DB__URL": url, "LANGORCH_SCHEDULER__LEASE_TTL_S": "3",
           "LANGORCH_SCHEDULER__LEASE_RENEW_S": "0.5", "LANGORCH_SCHEDULER__TICK_S": "0.5",
           "LANGORCH_WORKER__POLL_INTERVAL_S": "0.5", "LANGORCH_AUTH__SECRET_FILE": str(folder / "auth.key")}
    log = (folder / f"{name}.log").open("wb")
    return subprocess.Popen([str(LANGORCH), "serve", "--port", str(free_port()), "--no-migrate",
                             "--log-level", "warning"], env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)


async def _arrange(url: str, start: datetime) -> str:
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    async with sessions() as session:
        await procedures.import_document(session, ckp("ha_tick"), status="active")
        made = await triggers.create(session, None, {
            "procedure_id": "ha_tick", "trigger_type": "scheduled", "coalesce": False, "misfire_grace_s": 60,
            "rrule": f"FREQ=SECONDLY;INTERVAL={PERIOD_S}"})
        made.trigger.next_fire_at = start
        await session.commit()
        trigger_id = made.trigger.id
    await engine.dispose()
    return trigger_id


async def _leader_pid(url: str) -> int | None:
    engine = make_engine(url)
    try:
        async with make_sessionmaker(engine)() as session:
            lease = await session.scalar(select(LeaderLease))
    finally:
        await engine.dispose()
    if lease is None or lease.expires_at < datetime.now(UTC):
        return None
    return int(lease.holder.split(":")[1])


async def _fires(url: str, trigger_id: str) -> list[TriggerFire]:
    engine = make_engine(url)
    try:
        async with make_sessionmaker(engine)() as session:
            return list(await session.scalars(select(TriggerFire).where(TriggerFire.trigger_id == trigger_id)))
    finally:
        await engine.dispose()


def test_two_servers_fire_each_instant_once_and_a_killed_leader_loses_no_fire(pg_schema: str,
                                                                             tmp_path: Path) -> None:
    start = (datetime.now(UTC) + timedelta(seconds=8)).replace(microsecond=0)
    trigger_id = asyncio.run(_arrange(pg_schema, start))
    servers = [_serve(pg_schema, tmp_path, "a"), _serve(pg_schema, tmp_path, "b")]
    try:
        deadline = time.monotonic() + 40
        leader = None
        while leader is None and time.monotonic() < deadline:
            leader = asyncio.run(_leader_pid(pg_schema))
            time.sleep(0.3)
        assert leader in {p.pid for p in servers}, "no leader elected"
        time.sleep(max(0.0, (start - datetime.now(UTC)).total_seconds()) + 3 * PERIOD_S + 0.5)
        os.killpg(leader, signal.SIGKILL)  # no clean release: the lease must expire
        killed_at = datetime.now(UTC)
        survivor = next(p for p in servers if p.pid != leader)
        time.sleep(3 + 4 * PERIOD_S + 1)
        assert survivor.poll() is None
        assert asyncio.run(_leader_pid(pg_schema)) == survivor.pid
        end = datetime.now(UTC) - timedelta(seconds=PERIOD_S)
    finally:
        for proc in servers:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGINT)
                proc.wait(timeout=20)
    fires = asyncio.run(_fires(pg_schema, trigger_id))
    queued = sorted(f.scheduled_for for f in fires if f.outcome == "queued" and f.scheduled_for)
    expected = []
    at = start
    while at <= end:
        expected.append(at)
        at += timedelta(seconds=PERIOD_S)
    assert len(queued) == len(set(queued)), "an instant fired twice"
    assert [q for q in queued if q <= end] == expected, (queued, expected, killed_at)
    assert len({f.run_id for f in fires if f.outcome == "queued"}) == len(queued)
    assert not [f for f in fires if f.outcome == "missed"], "the handover lost a fire"
