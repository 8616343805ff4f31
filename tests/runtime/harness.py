"""Shared pieces of the runtime tests: inline CKP documents, a list-collecting event sink,
an in-memory step store, a recording sleep, and one-call run/resume helpers.

Real parts only: the graph runs on a real LangGraph checkpointer (InMemorySaver, or a
tmp AsyncSqliteSaver), external services are the loopback fakes of ``tests.fakes``.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from langgraph.checkpoint.memory import InMemorySaver

from langorch.ckp import compile_data
from langorch.ckp.ir import ProcedureIR
from langorch.runtime.context import Services
from langorch.runtime.errors import ProcedureNotFound
from langorch.runtime.netguard import NetPolicy
from langorch.runtime.ports import RunEvent
from langorch.runtime.runner import Runner, RunOutcome
from tests.fakes._http import JsonReply, LoopbackJsonServer


class TinyHttp(LoopbackJsonServer):
    """A loopback HTTP service: ``/status/N`` answers N, anything else echoes the request."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[dict[str, Any]] = []

    def handle(self, method: str, path: str, body: Any, headers: dict[str, str]) -> JsonReply:
        with self.lock:
            self.seen.append({"method": method, "path": path, "body": body, "headers": headers})
        if path.startswith("/status/"):
            code = int(path.rsplit("/", 1)[1])
            return JsonReply(code, {"error": f"status {code}"})
        return JsonReply(200, {"method": method, "path": path, "body": body, "x_token": headers.get("x-token")})


class EventLog:
    """The EventSink port as a list, with small queries for assertions."""

    def __init__(self) -> None:
        self.events: list[RunEvent] = []

    async def emit(self, event: RunEvent) -> None:
        self.events.append(event)

    def of(self, type_: str) -> list[RunEvent]:
        return [e for e in self.events if e.type == type_]

    def types(self) -> list[str]:
        return [e.type for e in self.events]

    def payloads(self, type_: str) -> list[Mapping[str, Any]]:
        return [e.payload for e in self.of(type_)]


class MemoryStepStore:
    """The StepResultStore port in a dict (shared across runs of one test)."""

    def __init__(self) -> None:
        self.results: dict[str, Any] = {}

    async def get(self, key: str) -> tuple[bool, Any]:
        return (key in self.results, self.results.get(key))

    async def put(self, key: str, result: Any) -> None:
        self.results[key] = result


class RecordingSleep:
    """A ``Services.sleep`` that records every delay and returns at once."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
        await asyncio.sleep(0)


def ckp(nodes: Mapping[str, Any], start: str | None = None, *, global_config: Mapping[str, Any] | None = None,
        variables: Mapping[str, Any] | None = None, procedure_id: str = "test_proc",
        version: str = "1.0.0") -> dict[str, Any]:
    """A CKP document around ``nodes`` (start: the first node unless given)."""
    doc: dict[str, Any] = {
        "procedure_id": procedure_id,
        "version": version,
        "workflow_graph": {"start_node": start or next(iter(nodes)), "nodes": dict(nodes)},
    }
    if global_config is not None:
        doc["global_config"] = dict(global_config)
    if variables is not None:
        doc["variables_schema"] = dict(variables)
    return doc


def compile_ok(doc: Mapping[str, Any], resolver: Any = None) -> ProcedureIR:
    """Compile a CKP document; fail the test with the diagnostics when it does not compile."""
    result = compile_data(dict(doc), resolver)
    assert result.ir is not None, [f"{d.path}: {d.message}" for d in result.errors]
    return result.ir


def seq(*steps: Mapping[str, Any], next_node: str | None = None, **extra: Any) -> dict[str, Any]:
    node: dict[str, Any] = {"type": "sequence", "steps": [dict(s) for s in steps], **extra}
    if next_node:
        node["next_node"] = next_node
    return node


def setvar(variable: str, value: Any, next_node: str | None = None) -> dict[str, Any]:
    node: dict[str, Any] = {"type": "processing",
                            "operations": [{"action": "set_variable", "variable": variable, "value": value}]}
    if next_node:
        node["next_node"] = next_node
    return node


def end(status: str = "success", **extra: Any) -> dict[str, Any]:
    return {"type": "terminate", "status": status, **extra}


class DictResolver:
    """The ProcedureResolver port over CKP documents held in memory."""

    def __init__(self, *docs: Mapping[str, Any]) -> None:
        self.irs = {(ir.procedure_id, ir.version): ir for ir in (compile_ok(d) for d in docs)}
        self.calls: list[tuple[str, str | None]] = []

    async def resolve(self, procedure_id: str, version: str | None = None) -> ProcedureIR:
        self.calls.append((procedure_id, version))
        for (pid, ver), ir in self.irs.items():
            if pid == procedure_id and version in (None, ver):
                return ir
        raise ProcedureNotFound(f"procedure {procedure_id!r} not found")


@dataclass
class Harness:
    """One test's services and checkpointer; ``run``/``resume`` drive a Runner on them."""

    events: EventLog = field(default_factory=EventLog)
    agents: Any = None
    llm: Any = None
    mcp: Any = None
    secrets: Any = None
    step_store: Any = field(default_factory=MemoryStepStore)
    resolver: Any = None
    sleep: Any = None
    notifier: Any = None
    mailer: Any = None
    checkpointer: Any = field(default_factory=InMemorySaver)
    workdir: str = field(default_factory=lambda: tempfile.mkdtemp(prefix="langorch-files-"))
    """Runs' work folders go under it: run "run-1" reads and writes ``<workdir>/run-1``."""
    net_policy: NetPolicy = field(default_factory=lambda: NetPolicy(("127.0.0.1",)))
    """The test servers listen on 127.0.0.1, allowlisted as an operator would allow an internal host."""

    def services(self) -> Services:
        kwargs: dict[str, Any] = {}
        if self.sleep is not None:
            kwargs["sleep"] = self.sleep
        return Services(events=self.events, agents=self.agents, llm=self.llm, mcp=self.mcp,
                        secrets=self.secrets, step_store=self.step_store, resolver=self.resolver,
                        notifier=self.notifier, mailer=self.mailer, net_policy=self.net_policy,
                        workdir=self.workdir, **kwargs)

    def runner(self) -> Runner:
        return Runner(self.services(), self.checkpointer)

    async def run(self, ir_or_doc: ProcedureIR | Mapping[str, Any], inputs: Mapping[str, Any] | None = None,
                  *, run_id: str = "run-1", mode: str | None = None) -> RunOutcome:
        ir = ir_or_doc if isinstance(ir_or_doc, ProcedureIR) else compile_ok(ir_or_doc)
        return await self.runner().start(ir, run_id, dict(inputs or {}), mode=mode)

    async def resume(self, ir: ProcedureIR, run_id: str = "run-1", decision: Any = None, *,
                     interrupt_id: str | None = None) -> RunOutcome:
        return await self.runner().resume(ir, run_id, decision, interrupt_id=interrupt_id)


async def server_services() -> Services:
    """The Services ``langorch serve`` builds from the current settings (environment), on
    an in-memory database: for checking that a setting reaches the runtime."""
    from contextlib import AsyncExitStack

    from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

    from langorch.services.runtime_wiring import IrCache, build_services
    from langorch.settings import Settings

    engine = create_async_engine("sqlite+aiosqlite://")
    try:
        async with AsyncExitStack() as stack:
            return await build_services(Settings(), async_sessionmaker(engine), EventLog(),  # type: ignore[arg-type]
                                        IrCache(), stack)
    finally:
        await engine.dispose()


def run_folder(h: Harness, run_id: str = "run-1") -> Path:
    """The work folder of ``run_id`` under ``h``'s workdir, created (for files a test puts there)."""
    folder = Path(h.workdir) / run_id
    folder.mkdir(parents=True, exist_ok=True)
    return folder
