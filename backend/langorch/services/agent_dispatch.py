"""Agent dispatch: which registered agent takes a step's call, and how many calls it holds.

:class:`DbAgentClient` is the runtime's AgentClient port over ``agent_instances``:

1. **Eligible**: agents of the channel (case-insensitive), status ``online``, circuit not
   open (or its open period over); when some declare capabilities, those offering the
   action (or ``*``) are preferred.
2. **Pools**: the eligible agents grouped by ``pool_id`` (no pool: the implicit pool
   ``standalone``), pools taken in alphabetical order.
3. **Round robin** within a pool, one counter per channel and pool.
4. **Concurrency**: a call holds a resource lease ``agent:<agent_id>`` (at most the agent's
   ``concurrency_limit`` at once, across every process) for its duration. An agent at its
   limit is passed over for the next member of its pool, then for the next pool (spill-over).
   When every eligible agent is at its limit the channel is *saturated*: the call emits one
   ``pool_saturated`` event and waits for a lease to free, up to the step's timeout (else
   ``saturation_wait_s``), then fails with ``PoolSaturated`` (retryable).

A lease lives for the call's timeout plus ``lease_margin_s``, so the lease of a worker that
died mid-call frees itself; sooner, when the run is taken over by another worker, the
leases the run took before its current job was claimed are released as it calls again.
Static channels (settings, no table row) take no lease.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from langorch.connectors.agents import HttpAgentClient
from langorch.runtime.errors import AgentError, StepTimeout
from langorch.runtime.ports import EventSink
from langorch.runtime.ports import RunEvent as PortEvent
from langorch.services import leases
from langorch.services.db_retry import again_on_lost_connection
from langorch.store.models import AgentInstance, ResourceLease, RunJob, utcnow

__all__ = ["STANDALONE_POOL", "DbAgentClient", "capability_names", "lease_key", "pool_key"]

log = logging.getLogger(__name__)

STANDALONE_POOL = "standalone"
"""The pool of agents registered without a ``pool_id``."""
_FIRST_PAUSE_S = 0.05
_LONGEST_PAUSE_S = 1.0


def lease_key(agent_id: str) -> str:
    """The resource key of an agent's call leases (as the Leases page shows it)."""
    return f"agent:{agent_id}"


def pool_key(agent: AgentInstance) -> str:
    return agent.pool_id or STANDALONE_POOL


def capability_names(capabilities: Sequence[Any]) -> set[str]:
    """Action names an agent declares: strings, or objects with ``name`` or ``action``."""
    names: set[str] = set()
    for item in capabilities:
        if isinstance(item, str):
            names.add(item)
        elif isinstance(item, Mapping) and isinstance(item.get("name") or item.get("action"), str):
            names.add(str(item.get("name") or item.get("action")))
    return names


class DbAgentClient:
    """The AgentClient port: a channel's call goes to an agent of its first pool with room.

    ``events`` receives the ``pool_saturated`` events; ``saturation_wait_s`` bounds the wait
    of a call with no timeout of its own. The agent list is re-read at most every
    ``refresh_s`` seconds. ``static`` channels (settings, tests) serve a channel the table
    has no agent for.
    """

    failure_threshold = 3
    """Consecutive unavailable answers (connect errors, timeouts, 5xx) that open an agent's circuit."""
    open_for_s = 30.0
    """How long an open circuit keeps the agent out of rotation before it is tried again."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], *, http: httpx.AsyncClient,
                 events: EventSink | None = None, refresh_s: float = 1.0, static: Mapping[str, str] | None = None,
                 saturation_wait_s: float = 300.0, default_timeout_s: float = 30.0,
                 lease_margin_s: float = 15.0) -> None:
        self.sessions = sessions
        self.http = http
        self.events = events
        self.refresh_s = refresh_s
        self.static = {k.casefold(): v for k, v in (static or {}).items()}
        self.saturation_wait_s = saturation_wait_s
        self.default_timeout_s = default_timeout_s
        """The timeout of a call that names none (the HTTP connector's)."""
        self.lease_margin_s = lease_margin_s
        """A lease outlives its call's timeout by this much: a crashed caller's lease then expires."""
        self._clients: dict[str, HttpAgentClient] = {}
        self._agents: list[AgentInstance] = []
        self._loaded_at = 0.0
        self._turns: dict[tuple[str, str], int] = {}
        self._unsteady: set[str] = set()
        """Agents whose failure count this process raised since the list was read."""
        self._waiters: list[tuple[frozenset[str], asyncio.Future[None]]] = []
        """Calls of this process waiting for a slot, oldest first, with the agents they can use."""

    # -- eligibility -----------------------------------------------------------------------

    async def _eligible(self, channel: str, action: str) -> list[AgentInstance]:
        found = await self._from_cache(channel, action, stale_after=self.refresh_s)
        if not found:  # an agent registered or re-enabled a moment ago must not wait for the refresh
            found = await self._from_cache(channel, action, stale_after=0.0)
        return found

    async def _from_cache(self, channel: str, action: str, *, stale_after: float) -> list[AgentInstance]:
        if time.monotonic() - self._loaded_at >= stale_after:
            self._agents = await again_on_lost_connection(self._read_agents)
            self._loaded_at = time.monotonic()
            self._unsteady.clear()
        mine = [a for a in self._agents if a.channel.casefold() == channel.strip().casefold()]
        capable = [a for a in mine if a.capabilities and ({action, "*"} & capability_names(a.capabilities))]
        return capable or [a for a in mine if not a.capabilities] or mine

    async def _read_agents(self) -> list[AgentInstance]:
        now = datetime.now(UTC)
        async with self.sessions() as session:
            return list((await session.scalars(
                select(AgentInstance).where(AgentInstance.status == "online",
                                            or_(AgentInstance.circuit_state != "open",
                                                AgentInstance.circuit_open_until <= now))
                .order_by(AgentInstance.created_at, AgentInstance.agent_id))).all())

    def _candidates(self, channel: str, agents: list[AgentInstance], turns: dict[str, int]) -> Iterator[AgentInstance]:
        """Pools in alphabetical order; each pool's members in round-robin order. A pool's
        turn is taken (and its counter moved on) when the pool is first reached by this call."""
        pools: dict[str, list[AgentInstance]] = {}
        for agent in agents:
            pools.setdefault(pool_key(agent), []).append(agent)
        for name in sorted(pools):
            members = pools[name]
            if name not in turns:
                counter = (channel.casefold(), name)
                turns[name] = self._turns.get(counter, 0)
                self._turns[counter] = turns[name] + 1
            start = turns[name] % len(members)
            yield from members[start:] + members[:start]

    # -- leases ----------------------------------------------------------------------------

    async def _try_lease(self, agent: AgentInstance, ttl_s: float, ids: Mapping[str, str]) -> str | None:
        async def take() -> str | None:
            async with self.sessions() as session:
                lease = await leases.try_acquire(session, lease_key(agent.agent_id), run_id=ids["run_id"],
                                                 node_id=ids["node_id"], step_id=ids["step_id"], ttl_s=ttl_s,
                                                 max_holders=max(1, agent.concurrency_limit))
                return lease.lease_id if lease is not None else None

        # A commit whose answer was lost and is then repeated leaves a second lease; its TTL ends it.
        return await again_on_lost_connection(take)

    async def _held(self, agents: Sequence[AgentInstance], *, orphans_of: str | None = None) -> dict[str, int]:
        """Active leases per agent, in one transaction. With ``orphans_of`` (a run id), first
        release the leases on these agents that the run took before its current job was
        claimed: they were left by a worker that died (or lost the run) mid-call, and the
        run, now on this worker, is about to make those calls again."""
        keys = {lease_key(a.agent_id): a.agent_id for a in agents}

        async def count() -> list[Any]:
            async with self.sessions() as session:
                now = utcnow()
                if orphans_of is not None:
                    claimed = (select(func.max(RunJob.claimed_at))
                               .where(RunJob.run_id == orphans_of, RunJob.status == "running").scalar_subquery())
                    await session.execute(update(ResourceLease).where(
                        ResourceLease.resource_key.in_(keys), ResourceLease.run_id == orphans_of,
                        ResourceLease.released_at.is_(None), ResourceLease.acquired_at < claimed)
                        .values(released_at=now))
                rows = list((await session.execute(
                    select(ResourceLease.resource_key, func.count()).where(ResourceLease.resource_key.in_(keys),
                                                                          leases.active_clause(now))
                    .group_by(ResourceLease.resource_key))).all())
                await session.commit()
                return rows

        return {keys[key]: int(n) for key, n in await again_on_lost_connection(count)}

    async def _acquire(self, channel: str, action: str, ids: Mapping[str, str], *, ttl_s: float,
                       wait_s: float) -> tuple[AgentInstance, str] | None:
        """An agent and the lease taken on it; None when the channel has no eligible agent.
        Waits while every eligible agent is at its limit (raises PoolSaturated after ``wait_s``)."""
        turns: dict[str, int] = {}
        started = time.monotonic()
        announced = False
        pause = _FIRST_PAUSE_S
        first = True
        while True:
            agents = await self._eligible(channel, action)
            if not agents:
                return None
            order = list(self._candidates(channel, agents, turns))
            if first:  # the usual case: the round-robin choice has room, one transaction
                first = False
                lease_id = await self._try_lease(order[0], ttl_s, ids)
                if lease_id is not None:
                    return order[0], lease_id
            held = await self._held(order, orphans_of=ids["run_id"] if not announced else None)
            for agent in order:
                if held.get(agent.agent_id, 0) < agent.concurrency_limit:
                    lease_id = await self._try_lease(agent, ttl_s, ids)
                    if lease_id is not None:
                        return agent, lease_id
            waited = time.monotonic() - started
            if not announced:
                announced = True
                await self._announce(channel, agents, held, ids, wait_s)
            if waited >= wait_s:
                raise AgentError(
                    f"every agent of channel {channel!r} is at its concurrency limit "
                    f"({_describe(agents, held)}); gave up after waiting {waited:.1f}s for a free slot",
                    error_type="PoolSaturated", retryable=True,
                    details={**_saturation(channel, agents, held), "waited_s": round(waited, 3)})
            await self._until_released(frozenset(a.agent_id for a in agents), min(pause, wait_s - waited))
            pause = min(pause * 2, _LONGEST_PAUSE_S)

    async def _until_released(self, agent_ids: frozenset[str], timeout_s: float) -> None:
        """Until a call of this process releases one of ``agent_ids`` (each release wakes the
        oldest waiter that can use it, not all of them), or ``timeout_s``: leases freed by
        other processes (or by their TTL) are found by polling."""
        woken: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        entry = (agent_ids, woken)
        self._waiters.append(entry)
        try:
            await asyncio.wait([woken], timeout=timeout_s)
        finally:
            woken.cancel()
            with contextlib.suppress(ValueError):
                self._waiters.remove(entry)

    def _wake_one(self, agent_id: str) -> None:
        for entry in self._waiters:
            agent_ids, woken = entry
            if agent_id in agent_ids and not woken.done():
                woken.set_result(None)
                self._waiters.remove(entry)
                return

    async def _announce(self, channel: str, agents: Sequence[AgentInstance], held: Mapping[str, int],
                        ids: Mapping[str, str], wait_s: float) -> None:
        if self.events is None:
            return
        payload = {**_saturation(channel, agents, held), "wait_s": round(wait_s, 3)}
        await self.events.emit(PortEvent(ids["run_id"], "pool_saturated", payload, node_id=ids["node_id"],
                                         step_id=ids["step_id"], ts=time.time()))

    # -- the port --------------------------------------------------------------------------

    async def execute(self, channel: str, action: str, params: Mapping[str, Any], *, run_id: str, node_id: str,
                      step_id: str, timeout_s: float | None = None, idempotency_key: str | None = None,
                      attempt: int = 1) -> Any:
        call_timeout = self.default_timeout_s if timeout_s is None else timeout_s
        # A step's timeout bounds its wait too; give up a little before it so the step
        # fails with PoolSaturated (which says why) rather than a bare timeout.
        wait_s = self.saturation_wait_s if timeout_s is None else max(0.0, timeout_s - min(1.0, timeout_s / 10))
        ids = {"run_id": run_id, "node_id": node_id, "step_id": step_id}
        try:
            chosen = await self._acquire(channel, action, ids, ttl_s=call_timeout + self.lease_margin_s,
                                         wait_s=wait_s)
        except SQLAlchemyError as exc:
            raise AgentError(f"could not choose an agent for channel {channel!r}: the database did not answer "
                             f"({type(exc).__name__})", error_type="AgentDispatchUnavailable", retryable=True,
                             details={"channel": channel}) from exc
        agent_id: str | None = None
        lease_id: str | None = None
        if chosen is not None:
            agent, lease_id = chosen
            agent_id, base_url = agent.agent_id, agent.base_url
        elif channel.casefold() in self.static:
            base_url = self.static[channel.casefold()]
        else:
            raise AgentError(f"no online agent serves channel {channel!r}; register one with POST /api/agents",
                             error_type="NoAgentForChannel", retryable=False, details={"channel": channel})
        outcome: bool | None = None  # True: answered; False: unavailable; None: any other end
        try:
            client = self._clients.get(base_url)
            if client is None:
                client = self._clients[base_url] = HttpAgentClient(http_client=self.http,
                                                                   timeout_s=self.default_timeout_s)
            client.register(channel, base_url)
            try:
                result = await client.execute(channel, action, params, run_id=run_id, node_id=node_id,
                                              step_id=step_id, timeout_s=timeout_s,
                                              idempotency_key=idempotency_key, attempt=attempt)
            except (AgentError, StepTimeout) as exc:
                unavailable = isinstance(exc, StepTimeout) or exc.error_type == "AgentUnavailable" or (
                    exc.status_code is not None and exc.status_code >= 500)
                outcome = False if unavailable else None
                raise
            outcome = True
            return result
        finally:
            if agent_id is not None:
                # Shielded: a canceled step still gives its slot back (else the TTL would).
                await asyncio.shield(self._finish(agent_id, lease_id, outcome))

    async def _finish(self, agent_id: str, lease_id: str | None, outcome: bool | None) -> None:
        """Release the call's lease and count the outcome for the circuit breaker, in one transaction.

        Consecutive failures open the circuit at the threshold; a success closes it."""
        cached = next((a for a in self._agents if a.agent_id == agent_id), None)
        steady = (cached is not None and agent_id not in self._unsteady and cached.consecutive_failures == 0
                  and cached.circuit_state == "closed")

        async def write() -> None:
            async with self.sessions() as session:
                if lease_id is not None:
                    await session.execute(update(ResourceLease).where(ResourceLease.lease_id == lease_id,
                                                                      ResourceLease.released_at.is_(None))
                                          .values(released_at=utcnow()))
                if outcome is False or (outcome is True and not steady):
                    await self._record(session, agent_id, failed=outcome is False)
                await session.commit()

        try:
            await again_on_lost_connection(write, attempts=5)
        except SQLAlchemyError:
            log.warning("could not release lease %s of agent %s (it expires by itself)", lease_id, agent_id,
                        exc_info=True)
        finally:
            if lease_id is not None:
                self._wake_one(agent_id)

    async def _record(self, session: AsyncSession, agent_id: str, *, failed: bool) -> None:
        row = await session.get(AgentInstance, agent_id)
        if row is None:
            return
        if not failed:
            if row.consecutive_failures == 0 and row.circuit_state == "closed":
                self._unsteady.discard(agent_id)
                return
            row.consecutive_failures, row.circuit_state, row.circuit_open_until = 0, "closed", None
            self._unsteady.discard(agent_id)
            return
        row.consecutive_failures += 1
        self._unsteady.add(agent_id)
        if row.consecutive_failures >= self.failure_threshold:
            row.circuit_state = "open"
            row.circuit_open_until = datetime.now(UTC) + timedelta(seconds=self.open_for_s)
            self._loaded_at = 0.0  # re-read eligibility now


def _saturation(channel: str, agents: Sequence[AgentInstance], held: Mapping[str, int]) -> dict[str, Any]:
    return {"channel": channel, "pool_ids": sorted({pool_key(a) for a in agents}),
            "agents": [a.agent_id for a in agents],
            "concurrency_limit": sum(a.concurrency_limit for a in agents),
            "active_leases": sum(held.get(a.agent_id, 0) for a in agents)}


def _describe(agents: Sequence[AgentInstance], held: Mapping[str, int]) -> str:
    pools = ", ".join(sorted({pool_key(a) for a in agents}))
    return (f"pool{'s' if ',' in pools else ''} {pools}: {len(agents)} agent{'s' if len(agents) != 1 else ''}, "
            f"limit {sum(a.concurrency_limit for a in agents)} in total, "
            f"{sum(held.get(a.agent_id, 0) for a in agents)} leases held")
