"""Per-run services handed to every executor (never checkpointed).

Executors receive their clients, event sink and clock through :class:`RunContext`,
so tests pass real loopback servers in and the runtime stays free of globals.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from langorch.ckp.ir import NodeIR, ProcedureIR
from langorch.runtime.ports import (
    AgentClient,
    EventSink,
    LlmClient,
    McpClient,
    ProcedureResolver,
    RunEvent,
    SecretsProvider,
    StepResultStore,
)
from langorch.runtime.ratelimit import RateLimiter
from langorch.runtime.redaction import Redactor

SECRET_REF = re.compile(r"secrets\.([A-Za-z_]\w*)")


@dataclass
class Pricing:
    """USD per 1M tokens: model → (prompt, completion); ``default`` for unknown models."""

    table: Mapping[str, tuple[float, float]] = field(default_factory=lambda: {
        "gpt-4o": (2.5, 10.0), "gpt-4o-mini": (0.15, 0.6), "gpt-4": (30.0, 60.0),
        "gpt-4.1": (2.0, 8.0), "gpt-4.1-mini": (0.4, 1.6), "gpt-3.5-turbo": (0.5, 1.5),
    })
    default: tuple[float, float] = (1.0, 2.0)

    def cost(self, model: str, prompt_tokens: int, completion_tokens: int) -> float:
        p, c = self.table.get(model, self.default)
        return (prompt_tokens * p + completion_tokens * c) / 1_000_000


@dataclass
class Services:
    """Long-lived clients shared by runs (one per process)."""

    events: EventSink
    agents: AgentClient | None = None
    llm: LlmClient | None = None
    mcp: McpClient | None = None
    secrets: SecretsProvider | None = None
    step_store: StepResultStore | None = None
    resolver: ProcedureResolver | None = None
    http: httpx.AsyncClient | None = None
    pricing: Pricing = field(default_factory=Pricing)
    default_model: str = "gpt-4o-mini"
    clock: Callable[[], float] = time.time
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    workdir: str = "."


@dataclass
class RunContext:
    """Everything one run's executors need."""

    run_id: str
    ir: ProcedureIR
    services: Services
    redactor: Redactor
    limiter: RateLimiter
    is_cancelled: Callable[[], bool] = lambda: False
    secret_values: dict[str, Any] = field(default_factory=dict)
    node_prefix: str = ""
    """Prefix for node ids in events (a subflow's nodes show as ``parent_node/child_node``)."""
    committed_usage: dict[str, float] = field(default_factory=dict)
    """LLM usage already in the checkpointed state (set at each node start)."""
    pending_usage: dict[str, dict[str, float]] = field(default_factory=dict)
    """Usage of node executions in flight, by node id; moved into the state when they finish."""
    parent: RunContext | None = None

    def add_usage(self, node_id: str, delta: Mapping[str, float]) -> None:
        bucket = self.pending_usage.setdefault(node_id, {})
        for key, value in delta.items():
            bucket[key] = bucket.get(key, 0) + value

    def take_usage(self, node_id: str) -> dict[str, float]:
        return self.pending_usage.pop(node_id, {})

    def usage_total(self) -> dict[str, float]:
        """Usage of the whole run so far, including calls of nodes still running."""
        total = dict(self.parent.usage_total()) if self.parent is not None else {}
        for source in (self.committed_usage, *self.pending_usage.values()):
            for key, value in source.items():
                total[key] = total.get(key, 0) + value
        return total

    async def emit(self, type_: str, payload: Mapping[str, Any] | None = None, *,
                   node_id: str | None = None, step_id: str | None = None) -> None:
        clean = self.redactor.redact(dict(payload or {}))
        if self.node_prefix and node_id is not None:
            node_id = f"{self.node_prefix}/{node_id}"
        await self.services.events.emit(RunEvent(self.run_id, type_, clean, node_id, step_id,
                                                 self.services.clock()))

    def scope(self, variables: Mapping[str, Any], node: NodeIR | None = None) -> dict[str, Any]:
        """Template/condition scope: variables plus built-ins."""
        now = datetime.fromtimestamp(self.services.clock(), UTC)
        scope: dict[str, Any] = {
            "run_id": self.run_id,
            "procedure_id": self.ir.procedure_id,
            "procedure_version": self.ir.version,
            "now": now.isoformat(),
            "today": now.date().isoformat(),
            "secrets": self.secret_values,
            "error": None,
            "telemetry": {},
            "node_id": node.node_id if node else None,
        }
        scope.update(variables)
        scope["variables"] = variables
        scope.setdefault("input", variables)
        return scope

    async def load_secrets(self, value: Any) -> None:
        """Fetch every ``secrets.<name>`` that ``value``'s templates mention (once per run)."""
        names = set()
        for text in _strings(value):
            if "secrets." in text:
                names.update(SECRET_REF.findall(text))
        for name in names - set(self.secret_values):
            ref = next((s for s in self.ir.secrets if s.name == name), None)
            if ref is None:
                from langorch.ckp.ir import SecretRef

                ref = SecretRef(name, "env_vars", name)
            provider = self.services.secrets
            if provider is None:
                from langorch.runtime.errors import StepError

                raise StepError(f"secret {name!r} is needed but no secrets provider is configured",
                                error_type="SecretNotFound", retryable=False)
            secret = await provider.get(ref)
            self.secret_values[name] = secret
            self.redactor.add_secret(secret)


def _strings(value: Any) -> list[str]:
    out: list[str] = []
    stack = [value]
    while stack:
        current = stack.pop()
        if isinstance(current, str):
            out.append(current)
        elif isinstance(current, Mapping):
            stack.extend(current.values())
        elif isinstance(current, list | tuple):
            stack.extend(current)
    return out
