"""Agent dispatch over pools and concurrency leases, against real loopback agents on SQLite
and PostgreSQL: the first pool with room takes the call, round robin within it, an agent
at its concurrency_limit is passed over, a saturated channel waits (one pool_saturated
event) and gives up with PoolSaturated, and a dead caller's lease expires by itself."""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack
from typing import Any

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from langorch.runtime.errors import AgentError
from langorch.services import leases
from langorch.services.agent_dispatch import DbAgentClient, lease_key
from langorch.services.events import DbEventSink, list_events
from langorch.services.hub import Hub
from langorch.store.models import AgentInstance, ResourceLease, Run, RunJob, utcnow
from tests.fakes.agent_server import FakeAgentServer

pytestmark = pytest.mark.asyncio

RUN = "run-dispatch"
IDS = {"run_id": RUN, "node_id": "n1", "step_id": "s1"}


@pytest.fixture
def agents() -> Iterator[dict[str, FakeAgentServer]]:
    """Four loopback agents, by the name they are registered under."""
    with ExitStack() as stack:
        yield {name: stack.enter_context(FakeAgentServer(name=name)) for name in ("a1", "a2", "b1", "b2")}


@pytest_asyncio.fixture
async def sink(sessions: async_sessionmaker[AsyncSession]) -> DbEventSink:
    """The real event sink (not started: it writes through), and the run its events belong to."""
    async with sessions() as session:
        session.add(Run(run_id=RUN, procedure_id="p", procedure_version="1", ir_hash="h", thread_id=RUN,
                        status="running", input_vars={}))
        await session.commit()
    return DbEventSink(sessions, Hub())


@pytest_asyncio.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


async def register(sessions: async_sessionmaker[AsyncSession], agents: dict[str, FakeAgentServer],
                   **members: tuple[str | None, int]) -> None:
    """Register ``name=(pool_id, concurrency_limit)`` for channel WEB, in the order given."""
    async with sessions() as session:
        for name, (pool_id, limit) in members.items():
            session.add(AgentInstance(agent_id=name, name=name, channel="WEB", base_url=agents[name].url,
                                      pool_id=pool_id, concurrency_limit=limit))
            await session.commit()  # one at a time: created_at orders the members


def client(sessions: async_sessionmaker[AsyncSession], http: httpx.AsyncClient, **options: Any) -> DbAgentClient:
    return DbAgentClient(sessions, http=http, **options)


async def hold(sessions: async_sessionmaker[AsyncSession], agent_id: str, ttl_s: float | None = None,
               run_id: str = "other-run") -> str:
    """Take a lease on an agent as another caller would (None: never expires by itself)."""
    async with sessions() as session:
        lease = await leases.try_acquire(session, lease_key(agent_id), run_id=run_id, ttl_s=ttl_s,
                                         max_holders=100)
    assert lease is not None
    return lease.lease_id


async def release(sessions: async_sessionmaker[AsyncSession], lease_id: str) -> None:
    async with sessions() as session:
        await leases.release(session, lease_id)


async def active(sessions: async_sessionmaker[AsyncSession], agent_id: str) -> list[ResourceLease]:
    async with sessions() as session:
        rows, _ = await leases.list_leases(session, resource_key=lease_key(agent_id))
    return rows


async def saturation_events(sessions: async_sessionmaker[AsyncSession]) -> list[dict[str, Any]]:
    async with sessions() as session:
        return [e for e in await list_events(session, RUN) if e["event_type"] == "pool_saturated"]


def served(agents: dict[str, FakeAgentServer]) -> dict[str, int]:
    return {name: len(agent.calls) for name, agent in agents.items()}


async def test_calls_go_round_robin_within_the_first_pool_only_while_it_is_healthy(
        sessions: async_sessionmaker[AsyncSession], http: httpx.AsyncClient,
        agents: dict[str, FakeAgentServer]) -> None:
    await register(sessions, agents, b1=("b", 1), a2=("a", 1), a1=("a", 1), b2=(None, 1))
    dispatch = client(sessions, http)

    for _ in range(6):
        await dispatch.execute("web", "click", {}, **IDS)

    assert served(agents) == {"a1": 3, "a2": 3, "b1": 0, "b2": 0}
    callers = [call["step_id"] for call in agents["a2"].calls + agents["a1"].calls]
    assert callers == ["s1"] * 6


async def test_when_the_first_pools_circuits_open_the_next_pool_takes_the_work(
        sessions: async_sessionmaker[AsyncSession], http: httpx.AsyncClient,
        agents: dict[str, FakeAgentServer]) -> None:
    await register(sessions, agents, a1=("a", 1), a2=("a", 1), b1=("b", 1))
    agents["a1"].fail_next(503, times=10)
    agents["a2"].fail_next(503, times=10)
    dispatch = client(sessions, http)

    for _ in range(2 * dispatch.failure_threshold):  # each of a1, a2 fails until its circuit opens
        with pytest.raises(AgentError):
            await dispatch.execute("WEB", "click", {}, **IDS)
    for _ in range(3):
        assert (await dispatch.execute("WEB", "click", {}, **IDS))["action"] == "click"

    assert served(agents) == {"a1": 3, "a2": 3, "b1": 3, "b2": 0}
    async with sessions() as session:
        rows = await session.execute(select(AgentInstance.agent_id, AgentInstance.circuit_state))
        states = {agent_id: state for agent_id, state in rows}
    assert states == {"a1": "open", "a2": "open", "b1": "closed"}


async def test_concurrency_limit_bounds_the_calls_in_flight_with_leases_while_they_run(
        sessions: async_sessionmaker[AsyncSession], http: httpx.AsyncClient,
        agents: dict[str, FakeAgentServer]) -> None:
    in_flight = 0
    most = 0
    lock = threading.Lock()

    def slow(params: dict[str, Any]) -> dict[str, Any]:
        nonlocal in_flight, most
        with lock:
            in_flight += 1
            most = max(most, in_flight)
        time.sleep(0.3)
        with lock:
            in_flight -= 1
        return {"n": params["n"]}

    agents["a1"].set_result("work", slow)
    await register(sessions, agents, a1=("a", 2))
    dispatch = client(sessions, http)
    calls = [asyncio.create_task(dispatch.execute("WEB", "work", {"n": n}, **IDS)) for n in range(5)]
    seen: list[int] = []
    while not all(c.done() for c in calls):
        seen.append(len(await active(sessions, "a1")))
        await asyncio.sleep(0.02)

    assert sorted(r["n"] for r in await asyncio.gather(*calls)) == [0, 1, 2, 3, 4]
    assert most == 2
    assert max(seen) == 2 and min(seen) >= 0
    assert await active(sessions, "a1") == []
    async with sessions() as session:
        taken, total = await leases.list_leases(session, include_inactive=True, resource_key="agent:a1")
    assert total == 5 and all(lease.released_at is not None for lease in taken)
    assert {(lease.run_id, lease.node_id, lease.step_id) for lease in taken} == {(RUN, "n1", "s1")}


async def test_calls_waiting_in_one_process_take_a_freed_slot_at_once(
        sessions: async_sessionmaker[AsyncSession], http: httpx.AsyncClient,
        agents: dict[str, FakeAgentServer]) -> None:
    agents["a1"].set_delay("work", 0.1)
    await register(sessions, agents, a1=("a", 1))
    dispatch = client(sessions, http)

    started = time.monotonic()
    await asyncio.gather(*(dispatch.execute("WEB", "work", {}, **IDS) for _ in range(8)))
    took = time.monotonic() - started

    # 8 x 0.1 s one at a time; polling alone (50 ms growing to 1 s) would leave gaps of seconds.
    assert took < 1.8, took
    starts = sorted(call["received_at"] for call in agents["a1"].calls)
    assert all(later - earlier >= 0.09 for earlier, later in itertools.pairwise(starts)), starts


async def test_a_full_agent_is_passed_over_for_the_next_member_then_the_next_pool(
        sessions: async_sessionmaker[AsyncSession], http: httpx.AsyncClient,
        agents: dict[str, FakeAgentServer]) -> None:
    await register(sessions, agents, a1=("a", 1), a2=("a", 1), b1=("b", 1))
    dispatch = client(sessions, http)

    first = await hold(sessions, "a1")
    await dispatch.execute("WEB", "click", {}, **IDS)
    await dispatch.execute("WEB", "click", {}, **IDS)
    assert served(agents) == {"a1": 0, "a2": 2, "b1": 0, "b2": 0}

    await hold(sessions, "a2")
    await dispatch.execute("WEB", "click", {}, **IDS)
    assert served(agents) == {"a1": 0, "a2": 2, "b1": 1, "b2": 0}

    await release(sessions, first)
    await dispatch.execute("WEB", "click", {}, **IDS)
    assert served(agents) == {"a1": 1, "a2": 2, "b1": 1, "b2": 0}


async def test_a_saturated_channel_emits_one_pool_saturated_event_and_proceeds_when_a_lease_frees(
        sessions: async_sessionmaker[AsyncSession], http: httpx.AsyncClient, sink: DbEventSink,
        agents: dict[str, FakeAgentServer]) -> None:
    await register(sessions, agents, a1=("a", 1), b1=("b", 2))
    dispatch = client(sessions, http, events=sink)
    held = [await hold(sessions, "a1"), await hold(sessions, "b1"), await hold(sessions, "b1")]

    call = asyncio.create_task(dispatch.execute("WEB", "click", {}, **IDS))
    await asyncio.sleep(1.5)  # several polls
    assert not call.done()
    await release(sessions, held[1])
    await asyncio.wait_for(call, 5)

    assert served(agents) == {"a1": 0, "a2": 0, "b1": 1, "b2": 0}
    [event] = await saturation_events(sessions)
    assert (event["node_id"], event["step_id"]) == ("n1", "s1")
    assert event["payload"] == {"channel": "WEB", "pool_ids": ["a", "b"], "agents": ["a1", "b1"],
                                "concurrency_limit": 3, "active_leases": 3, "wait_s": 300.0}


async def test_a_wait_that_runs_out_fails_with_pool_saturated(
        sessions: async_sessionmaker[AsyncSession], http: httpx.AsyncClient, sink: DbEventSink,
        agents: dict[str, FakeAgentServer]) -> None:
    await register(sessions, agents, a1=(None, 1))
    await hold(sessions, "a1")
    dispatch = client(sessions, http, events=sink, saturation_wait_s=0.4)

    started = time.monotonic()
    with pytest.raises(AgentError) as waited:
        await dispatch.execute("WEB", "click", {}, **IDS)
    assert 0.4 <= time.monotonic() - started < 2
    # A step's own timeout bounds the wait (and ends it a little before, saying why).
    with pytest.raises(AgentError) as timed:
        await asyncio.wait_for(dispatch.execute("WEB", "click", {}, **IDS, timeout_s=1.0), 1.0)

    for error in (waited.value, timed.value):
        assert error.error_type == "PoolSaturated" and error.retryable
        assert "concurrency limit" in error.message and "standalone" in error.message
        assert error.details["pool_ids"] == ["standalone"] and error.details["active_leases"] == 1
    assert served(agents)["a1"] == 0
    assert len(await saturation_events(sessions)) == 2  # one per waiting call


async def test_the_lease_of_a_caller_that_died_expires_by_its_ttl(
        sessions: async_sessionmaker[AsyncSession], http: httpx.AsyncClient,
        agents: dict[str, FakeAgentServer]) -> None:
    await register(sessions, agents, a1=("a", 1))
    await hold(sessions, "a1", ttl_s=0.5)  # taken, never released: its holder is gone
    dispatch = client(sessions, http, saturation_wait_s=10, lease_margin_s=7)

    started = time.monotonic()
    await dispatch.execute("WEB", "click", {}, **IDS, timeout_s=4)
    assert 0.4 <= time.monotonic() - started < 3
    assert len(agents["a1"].calls) == 1

    # The dispatcher's own leases live for the call's timeout plus the margin.
    agents["a1"].set_delay("slow", 0.5)
    call = asyncio.create_task(dispatch.execute("WEB", "slow", {}, **IDS, timeout_s=4))
    while not (taken := await active(sessions, "a1")):
        await asyncio.sleep(0.02)
    [lease] = taken
    assert lease.expires_at is not None
    assert (lease.expires_at - lease.acquired_at).total_seconds() == pytest.approx(11)
    await call


async def test_a_run_taken_over_after_its_worker_died_frees_the_leases_that_worker_left(
        sessions: async_sessionmaker[AsyncSession], http: httpx.AsyncClient, sink: DbEventSink,
        agents: dict[str, FakeAgentServer]) -> None:
    await register(sessions, agents, a1=("a", 1))
    left = await hold(sessions, "a1", run_id=RUN)  # the dead worker's call, never released
    await asyncio.sleep(0.01)
    async with sessions() as session:  # another worker claims the run again
        session.add(RunJob(run_id=RUN, status="running", worker_id="w2", attempts=2, claimed_at=utcnow()))
        await session.commit()
    dispatch = client(sessions, http, events=sink, saturation_wait_s=0.3)

    await dispatch.execute("WEB", "click", {}, **IDS)

    assert len(agents["a1"].calls) == 1 and await saturation_events(sessions) == []
    async with sessions() as session:
        orphan = await session.get(ResourceLease, left)
    assert orphan is not None and orphan.released_at is not None
    # A lease the run took since (say, in a parallel branch on this worker) is not touched.
    await hold(sessions, "a1", run_id=RUN)
    with pytest.raises(AgentError) as full:
        await dispatch.execute("WEB", "click", {}, **IDS)
    assert full.value.error_type == "PoolSaturated"


async def test_a_canceled_call_gives_its_lease_back(
        sessions: async_sessionmaker[AsyncSession], http: httpx.AsyncClient,
        agents: dict[str, FakeAgentServer]) -> None:
    agents["a1"].set_delay("slow", 2)
    await register(sessions, agents, a1=("a", 1))
    dispatch = client(sessions, http)

    call = asyncio.create_task(dispatch.execute("WEB", "slow", {}, **IDS))
    while not await active(sessions, "a1"):
        await asyncio.sleep(0.02)
    call.cancel()
    with pytest.raises(asyncio.CancelledError):
        await call
    for _ in range(100):
        if not await active(sessions, "a1"):
            break
        await asyncio.sleep(0.02)
    assert await active(sessions, "a1") == []


async def test_a_static_channel_takes_no_lease(sessions: async_sessionmaker[AsyncSession], http: httpx.AsyncClient,
                                               agents: dict[str, FakeAgentServer]) -> None:
    dispatch = client(sessions, http, static={"MAIL": agents["b2"].url})

    assert (await dispatch.execute("mail", "send", {}, **IDS))["action"] == "send"
    async with sessions() as session:
        assert (await leases.list_leases(session, include_inactive=True))[1] == 0


async def test_agents_out_of_service_are_not_chosen_and_none_left_is_no_agent_for_channel(
        sessions: async_sessionmaker[AsyncSession], http: httpx.AsyncClient,
        agents: dict[str, FakeAgentServer]) -> None:
    await register(sessions, agents, a1=("a", 1), b1=("b", 1))
    async with sessions() as session:
        await session.execute(update(AgentInstance).where(AgentInstance.agent_id == "a1").values(status="offline"))
        await session.commit()
    dispatch = client(sessions, http)

    await dispatch.execute("WEB", "click", {}, **IDS)
    assert served(agents)["b1"] == 1
    async with sessions() as session:
        await session.execute(update(AgentInstance).values(status="disabled"))
        await session.commit()
    dispatch = client(sessions, http)
    with pytest.raises(AgentError) as none:
        await dispatch.execute("WEB", "click", {}, **IDS)
    assert none.value.error_type == "NoAgentForChannel" and not none.value.retryable


async def test_a_connection_lost_while_taking_a_lease_is_retried(
        db_url: str, sessions: async_sessionmaker[AsyncSession], http: httpx.AsyncClient,
        agents: dict[str, FakeAgentServer]) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("terminates a PostgreSQL backend")
    import psycopg

    from langorch.services.liveness import pg_conninfo

    await register(sessions, agents, a1=("a", 1))
    dispatch = client(sessions, http)
    with psycopg.connect(pg_conninfo(db_url), autocommit=True) as admin:
        # Hold the key's lock, so the dispatcher's lease transaction waits inside it; then cut it off.
        admin.execute("SELECT pg_advisory_lock(hashtext('agent:a1'))")
        call = asyncio.create_task(dispatch.execute("WEB", "click", {}, **IDS))
        waiting: list[Any] = []
        for _ in range(200):
            waiting = admin.execute("SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND NOT granted").fetchall()
            if waiting:
                break
            await asyncio.sleep(0.02)
        assert waiting
        admin.execute("SELECT pg_terminate_backend(%s)", (waiting[0][0],))
        admin.execute("SELECT pg_advisory_unlock(hashtext('agent:a1'))")
        assert (await asyncio.wait_for(call, 10))["action"] == "click"

    assert len(agents["a1"].calls) == 1
    assert await active(sessions, "a1") == []
