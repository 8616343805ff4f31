"""Per-run services handed to every executor (never checkpointed).

Executors receive their clients, event sink and clock through :class:`RunContext`,
so tests pass real loopback servers in and the runtime stays free of globals.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from langorch.ckp.ir import NodeIR, ProcedureIR, SecretRef
from langorch.runtime.errors import StepError
from langorch.runtime.netguard import NetPolicy
from langorch.runtime.ports import (
    AgentClient,
    EventSink,
    LlmClient,
    Mailer,
    McpClient,
    Notifier,
    ProcedureResolver,
    RunEvent,
    SecretsProvider,
    StepResultStore,
)
from langorch.runtime.pricing import Pricing
from langorch.runtime.ratelimit import RateLimiter
from langorch.runtime.redaction import REFERENCE, Redactor, SecretReference, has_reference, new_nonce, valid_segment
from langorch.runtime.secret_refs import template_secret_names
from langorch.runtime.workspace import confined_path


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
    """The client procedures' own requests (``http_request``) go through: build it with
    :func:`langorch.runtime.netguard.guarded_client`. None: one is made per request from
    :attr:`net_policy`."""
    net_policy: NetPolicy = field(default_factory=NetPolicy)
    """What procedures' requests may reach besides public addresses (the sandbox's allowlist)."""
    notifier: Notifier | None = None
    """Where notifications go that no agent channel takes (the server's LANGORCH_NOTIFY__WEBHOOK_URL)."""
    mailer: Mailer | None = None
    """Where notifications on channel ``email`` go (the server's LANGORCH_NOTIFY__SMTP_HOST)."""
    pricing: Pricing = field(default_factory=Pricing)
    """LLM prices (the server's from ``LANGORCH_LLM__PRICES``); an unlisted model's cost is unknown."""
    default_model: str = "gpt-4o-mini"
    clock: Callable[[], float] = time.time
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    workdir: str = "."
    """Under it each run gets a work folder (``<workdir>/<run>``, runtime/workspace.py) that
    confines the run's file actions, attachments and spreadsheet reads."""
    env_name: str = "development"
    """The deployment's name (``LANGORCH_ENV_NAME``): the ``{{env_name}}`` built-in."""


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
    """Secret values read by this process for this run (never checkpointed, never shown)."""
    ref_nonce: str = field(default_factory=new_nonce)
    """The nonce of the run's secret references (kept in its state, ``secret_nonce``): only a
    reference carrying it is ever resolved (runtime/redaction.py)."""
    node_prefix: str = ""
    """Prefix for node ids in events (a subflow's nodes show as ``parent_node/child_node``)."""
    key_run_id: str = ""
    """The run the implicit idempotency keys are scoped to, when not this one: a retry
    continues its failed run's work, so a step that completed there (before the node
    failed) is not performed again. Empty: ``run_id``."""
    key_prefix: str = ""
    """Prefix of the implicit idempotency keys of this context's steps: empty for a run,
    ``<subflow node>#<visit>/`` (nested for nested subflows) inside a child procedure, so
    each call of a child keeps its own keys while a re-run of the same call reuses them."""
    committed_usage: dict[str, float] = field(default_factory=dict)
    """LLM usage in the checkpointed state, as the latest super-step to start saw it."""
    committed_step: int = -1
    """The super-step whose state ``committed_usage`` is."""
    settled_usage: list[tuple[int, dict[str, float]]] = field(default_factory=list)
    """(super-step, usage) handed to the state by finished nodes; until a later super-step
    starts, the state seen by ``committed_usage`` does not include it yet."""
    pending_usage: dict[str, dict[str, float]] = field(default_factory=dict)
    """Usage of node executions in flight, by node id; moved into the state when they finish."""
    reserved_usage: dict[str, float] = field(default_factory=dict)
    """Estimates of LLM calls under way, held against the budget until they answer."""
    node_steps: dict[str, int] = field(default_factory=dict)
    children: list[RunContext] = field(default_factory=list)
    """Contexts of subflows running right now (their usage counts against this run's budget)."""
    parent: RunContext | None = None
    started_at: float | None = None
    """When the run started (``Services.clock``; kept in the run's state), for ``telemetry.total_duration``."""
    retry_counts: dict[str, int] = field(default_factory=dict)
    """``step_retry`` events per node id since the node's current execution started (``track_retries``)."""
    mode: str = "production"
    """production | dry_run | test (runtime/modes.py); every event of a run in another
    mode carries it as ``payload.mode``."""
    net_policy: NetPolicy | None = None
    """This run's sandbox when it differs from the server's (its project allows more hosts);
    None: ``services.net_policy``."""

    def node_key(self, node_id: str, *, own_run: bool = False) -> str:
        """``run:<run>:<prefix><node>``, the start of every per-run key of a node (step
        results, subflow pins): the run is :attr:`key_run_id` unless ``own_run``."""
        run = self.run_id if own_run else (self.key_run_id or self.run_id)
        return f"run:{run}:{self.key_prefix}{node_id}"

    def file_path(self, raw: str) -> Path:
        """``raw`` confined to this run's work folder (PathNotAllowed otherwise); a retry uses
        the folder of the run it retries."""
        return confined_path(self.services.workdir, self.key_run_id or self.run_id, raw)

    def observe_state(self, node_id: str, step: int, usage: Mapping[str, float]) -> None:
        """A node starts in super-step ``step`` and sees ``usage`` in the state."""
        self.node_steps[node_id] = step
        if step > self.committed_step:
            self.committed_usage = dict(usage)
            self.committed_step = step
            self.settled_usage = [(s, d) for s, d in self.settled_usage if s >= step]

    def add_usage(self, node_id: str, delta: Mapping[str, float]) -> None:
        _add(self.pending_usage.setdefault(node_id, {}), delta)

    def take_usage(self, node_id: str) -> dict[str, float]:
        """The usage of a finishing node execution, to write into the state (once)."""
        delta = self.pending_usage.pop(node_id, {})
        if delta:
            self.settled_usage.append((self.node_steps.get(node_id, self.committed_step), delta))
        return delta

    def reserve(self, amount: Mapping[str, float]) -> None:
        _add(self.reserved_usage, amount)

    def release(self, amount: Mapping[str, float]) -> None:
        _add(self.reserved_usage, {k: -v for k, v in amount.items()})

    def own_usage(self) -> dict[str, float]:
        """This graph's usage (and its running subflows'), including calls under way."""
        total: dict[str, float] = {}
        for source in (self.committed_usage, *(d for _, d in self.settled_usage), *self.pending_usage.values(),
                       self.reserved_usage, *(c.own_usage() for c in self.children)):
            _add(total, source)
        return total

    def usage_total(self) -> dict[str, float]:
        """Usage of the whole run so far (parents and subflows), including calls under way."""
        root = self
        while root.parent is not None:
            root = root.parent
        return root.own_usage()

    async def emit(self, type_: str, payload: Mapping[str, Any] | None = None, *,
                   node_id: str | None = None, step_id: str | None = None) -> None:
        if type_ == "step_retry" and node_id is not None:  # every retry of a node's steps is announced here
            self.retry_counts[node_id] = self.retry_counts.get(node_id, 0) + 1
        clean = self.redactor.redact(dict(payload or {}))
        if self.mode != "production":
            clean.setdefault("mode", self.mode)
        if self.node_prefix and node_id is not None:
            node_id = f"{self.node_prefix}/{node_id}"
        await self.services.events.emit(RunEvent(self.run_id, type_, clean, node_id, step_id,
                                                 self.services.clock()))

    def scope(self, variables: Mapping[str, Any], node: NodeIR | None = None, *,
              live: bool = False) -> dict[str, Any]:
        """Template/condition scope: variables plus built-ins.

        ``secrets`` gives references to the procedure's secrets; with ``live`` (only to build
        an outgoing call, after :meth:`load_secrets`) their values."""
        now = datetime.fromtimestamp(self.services.clock(), UTC)
        scope: dict[str, Any] = {
            "run_id": self.run_id,
            "procedure_id": self.ir.procedure_id,
            "procedure_version": self.ir.version,
            "now": now.isoformat(),
            "today": now.date().isoformat(),
            "secrets": self.secret_values if live else _SecretScope(self),
            "error": None,
            "approval": None,
            "loop": None,
            "telemetry": self._telemetry(node),
            "node_id": node.node_id if node else None,
            "env_name": self.services.env_name,
        }
        scope.update(variables)
        scope["variables"] = variables
        scope.setdefault("input", variables)
        return scope

    def _telemetry(self, node: NodeIR | None) -> dict[str, Any]:
        """The ``telemetry`` built-in: the node's telemetry block as written, plus
        ``total_duration`` (ms since the run started, pauses included)."""
        out: dict[str, Any] = dict(node.telemetry) if node is not None else {}
        if self.started_at is not None:
            out["total_duration"] = round((self.services.clock() - self.started_at) * 1000, 1)
        else:
            out.setdefault("total_duration", None)
        return out

    async def load_secrets(self, value: Any) -> None:
        """Fetch every secret that ``value``'s templates mention (once per run)."""
        for name in template_secret_names(value) - set(self.secret_values):
            ref = next((s for s in self.ir.secrets if s.name == name), None)
            if ref is None:
                raise _not_declared(name)
            await self._fetch_secret(ref)

    async def declared_secrets(self) -> dict[str, Any]:
        """Every secret the procedure declares, by name, for a script that reads ``secrets`` as a
        mapping; one its provider does not have (SecretNotFound) is left out, other failures raise."""
        values: dict[str, Any] = {}
        for ref in self.ir.secrets:
            if ref.name not in self.secret_values:
                try:
                    await self._fetch_secret(ref)
                except StepError as exc:
                    if exc.error_type != "SecretNotFound":
                        raise
                    continue
            values[ref.name] = self.secret_values[ref.name]
        return values

    async def _fetch_secret(self, ref: SecretRef) -> None:
        provider = self.services.secrets
        if provider is None:
            raise StepError(f"secret {ref.name!r} is needed but no secrets provider is configured",
                            error_type="SecretNotFound", retryable=False)
        secret = await provider.get(ref, run_id=self.run_id)
        self.secret_values[ref.name] = secret
        self.redactor.add_secret(secret, name=ref.name)

    async def prime_secrets(self) -> None:
        """Read every secret the procedure declares, so that its values are sealed and masked
        wherever they turn up (an echo in an answer, an error message) — at every start and
        resume, in whatever process. One that cannot be read is skipped: the step that uses
        it fails with the provider's error."""
        if self.services.secrets is None:
            return
        for ref in self.ir.secrets:
            if ref.name in self.secret_values:
                continue
            try:
                await self._fetch_secret(ref)
            except Exception:
                continue

    def seal(self, value: Any) -> Any:
        """``value`` as it may be stored: a secret value in it becomes its reference."""
        return self.redactor.seal(value, self.ref_nonce)

    def conceal(self, exc: StepError) -> StepError:
        """Seal a failure's message, details and cause in place (they become the run's data)."""
        if not self.redactor.knows_secrets:
            return exc
        exc.message = self.redactor.seal_cut_text(exc.message, self.ref_nonce)
        exc.args = (exc.message, *exc.args[1:])
        exc.details = self.seal(exc.details)
        cause = exc.__cause__
        if cause is not None:
            text = str(cause)
            sealed = self.redactor.seal_cut_text(text, self.ref_nonce)
            if sealed != text:
                exc.__cause__ = stand_in(cause, sealed)
        return exc

    async def reveal(self, value: Any) -> Any:
        """``value`` for an outgoing call: every reference of this run replaced by the secret's
        value (a string that is exactly one reference becomes the value itself, with its type);
        a reference made elsewhere is sent in its shown form, never resolved."""
        if not has_reference(value):
            return value
        paths: set[str] = set()
        _collect_paths(value, self.ref_nonce, paths)
        for name in {p.split(".", 1)[0] for p in paths}:
            owner, ref = self._declaring(name)
            if name not in owner.secret_values:
                await owner._fetch_secret(ref)
        return self._substitute(value, 0)

    def _declaring(self, name: str) -> tuple[RunContext, SecretRef]:
        """The context whose procedure declares secret ``name`` (a subflow's, or a caller's)."""
        current: RunContext | None = self
        while current is not None:
            ref = next((s for s in current.ir.secrets if s.name == name), None)
            if ref is not None:
                return current, ref
            current = current.parent
        raise _not_declared(name)

    def _value_of(self, path: str) -> Any:
        name, *fields = path.split(".")
        owner, _ = self._declaring(name)
        value = owner.secret_values[name]
        for segment in fields:
            if isinstance(value, Mapping) and segment in value:
                value = value[segment]
            elif isinstance(value, list | tuple) and segment.isdigit() and int(segment) < len(value):
                value = value[int(segment)]
            else:
                raise StepError(f"secret {name!r} has no field {segment!r}", error_type="SecretNotFound",
                                retryable=False, details={"secret": name, "field": segment})
        return value

    def _substitute(self, value: Any, depth: int) -> Any:
        if isinstance(value, str):
            if "<<secret:" not in value:
                return value
            whole = REFERENCE.fullmatch(value)
            if whole is not None and whole.group("nonce") == self.ref_nonce:
                return self._value_of(whole.group("path"))

            def one(match: re.Match[str]) -> str:
                if match.group("nonce") != self.ref_nonce:
                    # not made by this run (text from outside, a result cached by another run): never
                    # resolved, and sent in its shown form so that no run's nonce leaves the engine
                    return f"<<secret:{match.group('path')}>>"
                found = self._value_of(match.group("path"))
                return found if isinstance(found, str) else json.dumps(found, ensure_ascii=False, default=str)

            return REFERENCE.sub(one, value)
        if depth > 32:
            return value
        if isinstance(value, Mapping):
            return {k: self._substitute(v, depth + 1) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self._substitute(v, depth + 1) for v in value]
        return value


class _SecretScope(Mapping[str, Any]):
    """``secrets`` in templates: a reference to each declared secret, never its value."""

    def __init__(self, ctx: RunContext) -> None:
        self._ctx = ctx
        self._names = [s.name for s in ctx.ir.secrets]

    def __getitem__(self, name: str) -> SecretReference:
        if name not in self._names:
            raise _not_declared(name)
        if not valid_segment(name):
            raise StepError(f"secret {name!r} cannot be referenced: name secrets with letters, digits, _ and -",
                            error_type="SecretNotDeclared", retryable=False, details={"secret": name})
        return SecretReference(name, self._ctx.ref_nonce)

    def __contains__(self, name: object) -> bool:
        return name in self._names

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)


def _not_declared(name: str) -> StepError:
    # only what the procedure declares: never any variable of the server's environment
    return StepError(f"secret {name!r} is not declared: add it to global_config.secrets_config.secret_references",
                     error_type="SecretNotDeclared", retryable=False, details={"secret": name})


def _collect_paths(value: Any, nonce: str, into: set[str], depth: int = 0) -> None:
    if isinstance(value, str):
        if "<<secret:" in value:
            into.update(m.group("path") for m in REFERENCE.finditer(value) if m.group("nonce") == nonce)
    elif depth <= 32 and isinstance(value, Mapping):
        for v in value.values():
            _collect_paths(v, nonce, into, depth + 1)
    elif depth <= 32 and isinstance(value, list | tuple):
        for v in value:
            _collect_paths(v, nonce, into, depth + 1)


_STAND_INS: dict[str, type[Exception]] = {}


def stand_in(cause: BaseException, message: str) -> Exception:
    """An exception named like ``cause`` carrying ``message`` (its text with secrets sealed),
    so the error's ``cause`` reads the same without the value."""
    name = type(cause).__name__
    kind = _STAND_INS.get(name)
    if kind is None:
        kind = _STAND_INS[name] = type(name, (Exception,), {"__module__": __name__})
    return kind(message)


def _add(into: dict[str, float], delta: Mapping[str, float]) -> None:
    for key, value in delta.items():
        into[key] = into.get(key, 0) + value
