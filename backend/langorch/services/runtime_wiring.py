"""The runtime's ports on the server's database: what a worker hands the Runner.

* :class:`DbStepStore` — StepResultStore on ``step_idempotency`` (a completed side effect
  is committed before the step returns, so a reclaimed run never repeats it).
* :class:`IrCache` / :class:`DbProcedureResolver` — procedures compiled from their stored
  CKP JSON, cached by (row id, IR hash); subflows resolve to the pinned version or the
  latest active one.
* :class:`DbAgentClient` (from :mod:`langorch.services.agent_dispatch`) — AgentClient that
  routes a channel to an agent of its first pool with room, under concurrency leases.
* :func:`build_services` — all of the above plus the LLM, secrets and notification connectors.
* :class:`ServerRuntime` — the process-wide objects (hub, event sink, checkpointer,
  runner) that the API and the worker share, kept in ``AppContext.extras["runtime"]``.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Mapping
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from langorch.ckp import compile_data
from langorch.ckp.ir import ProcedureIR
from langorch.runtime.context import Services
from langorch.runtime.errors import ProcedureNotFound
from langorch.runtime.netguard import NetPolicy, guarded_client
from langorch.runtime.pricing import Pricing
from langorch.runtime.runner import Runner
from langorch.services.agent_dispatch import DbAgentClient
from langorch.services.ckp_compile import version_key
from langorch.services.db_retry import again_on_lost_connection
from langorch.services.events import DbEventSink
from langorch.services.hub import Hub
from langorch.settings import Settings
from langorch.store.models import Procedure, StepIdempotency

__all__ = ["DbAgentClient", "DbProcedureResolver", "DbStepStore", "IrCache", "ServerRuntime", "build_services",
           "latest_procedure", "open_runtime", "pick_version"]


class DbStepStore:
    """The StepResultStore port on the ``step_idempotency`` table."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], *, postgres: bool) -> None:
        self.sessions = sessions
        self.postgres = postgres

    attempts = 8
    """Tries of a read or write whose connection broke (about 6 s in all): a step's result is
    what keeps its side effect from running twice, so it is worth waiting for the database."""

    async def get(self, key: str) -> tuple[bool, Any]:
        async def read() -> tuple[bool, Any]:
            async with self.sessions() as session:
                row = await session.get(StepIdempotency, key)
                return (True, row.result) if row is not None else (False, None)

        return await again_on_lost_connection(read, attempts=self.attempts)

    async def put(self, key: str, result: Any) -> None:
        run_id = key.split(":", 2)[1] if key.startswith("run:") else None
        values = {"key": key, "run_id": run_id, "result": result, "created_at": datetime.now(UTC)}
        stmt = (pg_insert(StepIdempotency) if self.postgres else sqlite_insert(StepIdempotency)).values(**values)
        stmt = stmt.on_conflict_do_update(index_elements=["key"], set_={"result": stmt.excluded.result})

        async def write() -> None:  # an upsert: doing it again is safe
            async with self.sessions() as session:
                await session.execute(stmt)
                await session.commit()

        await again_on_lost_connection(write, attempts=self.attempts)


class IrCache:
    """Compiled procedures by (procedures row id, IR hash); compiling is pure and repeatable."""

    def __init__(self, size: int = 256) -> None:
        self._items: OrderedDict[tuple[str, str], ProcedureIR] = OrderedDict()
        self._size = size

    def get(self, row_id: str | None, ir_hash: str | None) -> ProcedureIR | None:
        """A cached IR, without compiling."""
        if not row_id or not ir_hash:
            return None
        return self._items.get((row_id, ir_hash))

    def compile(self, row_id: str, ir_hash: str | None, ckp_json: Mapping[str, Any]) -> ProcedureIR | None:
        """The IR of a stored procedure; None when it does not compile (or no longer to ``ir_hash``)."""
        key = (row_id, ir_hash or "")
        hit = self._items.get(key)
        if hit is not None:
            self._items.move_to_end(key)
            return hit
        ir = compile_data(dict(ckp_json)).ir
        if ir is None or (ir_hash and ir.ir_hash != ir_hash):
            return None
        self._items[(row_id, ir.ir_hash)] = ir
        while len(self._items) > self._size:
            self._items.popitem(last=False)
        return ir


class DbProcedureResolver:
    """The ProcedureResolver port (subflows) over the ``procedures`` table."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], cache: IrCache) -> None:
        self.sessions = sessions
        self.cache = cache

    async def resolve(self, procedure_id: str, version: str | None = None) -> ProcedureIR:
        async with self.sessions() as session:
            row = await latest_procedure(session, procedure_id, version)
        if row is None:
            raise ProcedureNotFound(f"procedure {procedure_id!r}{' v' + version if version else ''} is not "
                                    "in the catalog")
        ir = self.cache.compile(row.id, row.ir_hash, row.ckp_json) or self.cache.compile(row.id, None,
                                                                                           row.ckp_json)
        if ir is None:
            raise ProcedureNotFound(f"procedure {procedure_id!r} v{row.version} does not compile")
        return ir


async def pick_version(session: AsyncSession, procedure_id: str, version: str | None) -> Any | None:
    """Which stored version a run of ``procedure_id`` uses: the named one; else the latest
    active; else the latest non-archived; else the latest (versions compared numerically
    part by part). A row of (id, procedure_id, version, status, project_id, ir_hash, created_at)
    without the document, or None."""
    query = select(Procedure.id, Procedure.procedure_id, Procedure.version, Procedure.status, Procedure.project_id,
                   Procedure.ir_hash, Procedure.created_at).where(Procedure.procedure_id == procedure_id)
    if version:
        query = query.where(Procedure.version == version)
    rows = (await session.execute(query)).all()
    if not rows:
        return None
    pool = ([r for r in rows if r.status == "active"] or [r for r in rows if r.status != "archived"] or list(rows))
    return max(pool, key=lambda r: (version_key(r.version), r.created_at))


async def latest_procedure(session: AsyncSession, procedure_id: str, version: str | None) -> Procedure | None:
    """The procedure row :func:`pick_version` chooses, with its document."""
    chosen = await pick_version(session, procedure_id, version)
    return await session.get(Procedure, chosen.id) if chosen is not None else None


async def build_services(settings: Settings, sessions: async_sessionmaker[AsyncSession], sink: DbEventSink,
                         cache: IrCache, stack: AsyncExitStack) -> Services:
    """Runtime services for the server; clients are closed by ``stack``."""
    from langorch.services.secret_providers import build_secrets
    from langorch.services.secret_store import StoreSecrets, keyring_for

    http = httpx.AsyncClient(limits=httpx.Limits(max_connections=200, max_keepalive_connections=50))
    stack.push_async_callback(http.aclose)
    # Agents and the notification webhook are operator configuration (private networks are
    # fine); what a procedure itself asks for goes through the sandbox's guarded client.
    net_policy = NetPolicy.of(settings.sandbox.allowed_hosts)
    procedure_http = guarded_client(net_policy)
    stack.push_async_callback(procedure_http.aclose)
    llm = None
    base_url = settings.llm.base_url or os.environ.get("OPENAI_BASE_URL")
    api_key = settings.llm.api_key or os.environ.get("OPENAI_API_KEY")
    if base_url or api_key:
        from langorch.connectors.llm import OpenAICompatibleLlm

        llm = OpenAICompatibleLlm(base_url=base_url, api_key=api_key)
        stack.push_async_callback(llm.aclose)
    notifier = None
    if settings.notify.webhook_url:
        from langorch.connectors.notify import WebhookNotifier

        secret = settings.notify.webhook_secret
        notifier = WebhookNotifier(settings.notify.webhook_url, http_client=http,
                                   timeout_s=settings.notify.webhook_timeout_s,
                                   secret=secret.get_secret_value() if secret else None)
    mailer = None
    if settings.notify.smtp_host:
        from langorch.connectors.mail import SmtpMailer

        password = settings.notify.smtp_password
        mailer = SmtpMailer(settings.notify.smtp_host, port=settings.notify.smtp_port,
                            security=settings.notify.smtp_security, username=settings.notify.smtp_username,
                            password=password.get_secret_value() if password else None,
                            sender=settings.notify.smtp_from, timeout_s=settings.notify.smtp_timeout_s)
    return Services(
        events=sink,
        notifier=notifier,
        mailer=mailer,
        agents=DbAgentClient(sessions, http=http, events=sink,
                             saturation_wait_s=settings.agents.saturation_wait_s),
        llm=llm,
        secrets=build_secrets(settings.secrets, StoreSecrets(sessions, lambda: keyring_for(settings.secrets),
                                                             cache_ttl_s=settings.secrets.cache_ttl_s)),
        step_store=DbStepStore(sessions, postgres=settings.db.is_postgres),
        resolver=DbProcedureResolver(sessions, cache),
        http=procedure_http,
        net_policy=net_policy,
        workdir=settings.sandbox.files_dir,
        default_model=settings.llm.default_model,
        pricing=Pricing(settings.llm.prices),
        env_name=settings.env_name,
    )


@dataclass
class ServerRuntime:
    """What the API routes and the worker share within one process."""

    settings: Settings
    sessions: async_sessionmaker[AsyncSession]
    hub: Hub
    sink: DbEventSink
    cache: IrCache
    checkpointer: Any
    runner: Runner
    cancel_requested: set[str] = field(default_factory=set)
    """Runs running here whose cancellation was requested (read by the worker's is_cancelled)."""

    @property
    def postgres(self) -> bool:
        return self.settings.db.is_postgres


async def open_runtime(settings: Settings, sessions: async_sessionmaker[AsyncSession],
                       stack: AsyncExitStack) -> ServerRuntime:
    """Hub (bridged by LISTEN/NOTIFY on PostgreSQL), event sink, checkpointer and runner for
    this process; everything is closed by ``stack`` in reverse order."""
    from langorch.runtime.checkpointer import open_checkpointer
    from langorch.services.hub import PgBridge

    hub = Hub()
    if settings.db.is_postgres:
        bridge = PgBridge(hub, settings.db.url)
        await bridge.start()
        stack.push_async_callback(bridge.stop)
    sink = DbEventSink(sessions, hub)
    await sink.start()
    stack.push_async_callback(sink.stop)
    checkpointer = await stack.enter_async_context(open_checkpointer(settings.db.checkpoint_target()))
    cache = IrCache()
    services = await build_services(settings, sessions, sink, cache, stack)
    runner = Runner(services, checkpointer, durability=settings.worker.durability)
    rt = ServerRuntime(settings=settings, sessions=sessions, hub=hub, sink=sink, cache=cache,
                       checkpointer=checkpointer, runner=runner)
    return rt
