"""Starting, resuming and inspecting runs of a compiled procedure.

A run is a LangGraph thread (``thread_id`` = run id) on a checkpointer. The runner
emits run-level events, turns pending interrupts into approvals, and reports a
:class:`RunOutcome`; it keeps no state of its own between calls.

Secrets (runtime/redaction.py): a run's state holds references to them, with the run's
nonce (state channel ``secret_nonce``, made at the start). Every start and resume reads the
procedure's declared secrets again through the provider, so their values are sealed and
masked in whatever process continues the run. A :class:`RunOutcome` shows references
without the nonce, and masks any value.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.types import Command

from langorch.ckp.ir import ProcedureIR
from langorch.runtime.builder import compile_graph
from langorch.runtime.context import RunContext, Services
from langorch.runtime.errors import LangOrchError
from langorch.runtime.inputs import apply_defaults
from langorch.runtime.modes import resolve_mode
from langorch.runtime.netguard import NetPolicy
from langorch.runtime.node_runner import CTX_KEY, RunCancelled
from langorch.runtime.ratelimit import RateLimiter
from langorch.runtime.redaction import Redactor, display, new_nonce

RECURSION_LIMIT = 100_000


@dataclass(frozen=True)
class PendingApproval:
    interrupt_id: str
    node_id: str
    request: Mapping[str, Any]


@dataclass
class RunOutcome:
    run_id: str
    status: str
    """completed | failed | waiting_approval | canceled."""
    outputs: dict[str, Any] = field(default_factory=dict)
    vars: dict[str, Any] = field(default_factory=dict)
    error: dict[str, Any] | None = None
    pending: list[PendingApproval] = field(default_factory=list)
    usage: dict[str, float] = field(default_factory=dict)
    last_node: str | None = None

    def shown(self, ctx: RunContext | None = None) -> RunOutcome:
        """This outcome as it may leave the runtime: references in their shown form (any secret
        value ``ctx`` knows, too). Sensitive variables stay: the API masks them where it shows them."""
        def clean(value: Any) -> Any:
            return display(ctx.seal(value) if ctx is not None else value)

        self.outputs = clean(self.outputs)
        self.vars = clean(self.vars)
        self.error = clean(self.error)
        self.pending = [PendingApproval(p.interrupt_id, p.node_id, clean(dict(p.request))) for p in self.pending]
        return self

    def summary(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "status": self.status, "outputs": self.outputs, "vars": self.vars,
                "error": self.error, "usage": self.usage,
                "pending_approvals": [{"interrupt_id": p.interrupt_id, "node_id": p.node_id,
                                       "prompt": p.request.get("prompt")} for p in self.pending]}


class ResumeError(LangOrchError):
    code = "cannot_resume"


class Runner:
    """Runs procedures on one checkpointer with one set of services."""

    def __init__(self, services: Services, checkpointer: Any, *, durability: str = "async") -> None:
        self.services = services
        self.checkpointer = checkpointer
        self.durability = durability
        self._compiled: dict[str, Any] = {}

    def _graph(self, ir: ProcedureIR) -> Any:
        graph = self._compiled.get(ir.ir_hash)
        if graph is None:
            graph = compile_graph(ir, self.checkpointer)
            self._compiled[ir.ir_hash] = graph
        return graph

    def _context(self, ir: ProcedureIR, run_id: str, is_cancelled: Callable[[], bool] | None,
                 key_run_id: str | None = None, mode: str = "production",
                 allowed_hosts: Sequence[str] = ()) -> RunContext:
        gc = ir.global_config
        policy = NetPolicy.of([*self.services.net_policy.allowed, *allowed_hosts]) if allowed_hosts else None
        return RunContext(mode=mode, net_policy=policy,
            run_id=run_id, ir=ir, services=self.services, redactor=Redactor(ir.sensitive_names),
            limiter=RateLimiter(gc.max_concurrent_operations, gc.max_requests_per_minute),
            is_cancelled=is_cancelled or (lambda: False), key_run_id=key_run_id or "",
        )

    def _config(self, ctx: RunContext) -> RunnableConfig:
        return {"configurable": {"thread_id": ctx.run_id, CTX_KEY: ctx}, "recursion_limit": RECURSION_LIMIT}

    def _durability(self, ir: ProcedureIR) -> str:
        return "exit" if ir.global_config.checkpoint_strategy == "disabled" else self.durability

    async def start(self, ir: ProcedureIR, run_id: str, inputs: Mapping[str, Any], *,
                    is_cancelled: Callable[[], bool] | None = None,
                    known_interrupts: Iterable[str] = (), key_run_id: str | None = None,
                    mode: str | None = None, allowed_hosts: Sequence[str] = ()) -> RunOutcome:
        """Run from the start node until it ends or waits for a person.

        ``key_run_id`` names the run whose step results this one reuses (the first run of a
        chain of retries); by default, its own. ``mode`` is production, dry_run or test
        (runtime/modes.py); by default, what the procedure's global_config declares.
        ``allowed_hosts`` extend the server's sandbox allowlist for this run (its project's).
        """
        ctx = self._context(ir, run_id, is_cancelled, key_run_id, resolve_mode(mode, ir.global_config),
                            allowed_hosts)
        inputs = apply_defaults(ir, inputs)
        ctx.redactor.add_sensitive_values(inputs)
        await ctx.prime_secrets()
        await ctx.emit("run_started", {"procedure_id": ir.procedure_id, "version": ir.version,
                                       "ir_hash": ir.ir_hash, "inputs": dict(inputs), "mode": ctx.mode,
                                       "execution_mode": ir.global_config.execution_mode})
        if ir.global_config.execution_mode == "validation_only":
            await ctx.emit("run_completed", {"outputs": {}, "validation_only": True})
            return RunOutcome(run_id, "completed", vars=dict(inputs))
        ctx.started_at = self.services.clock()
        initial = {"vars": dict(inputs), "usage": {}, "status": "running", "error": None, "recovering": False,
                   "mode": ctx.mode, "started_at": ctx.started_at, "secret_nonce": ctx.ref_nonce}
        return await self._drive(ir, ctx, initial, known_interrupts)

    async def resume(self, ir: ProcedureIR, run_id: str, decision: Any = None, *,
                     interrupt_id: str | None = None, is_cancelled: Callable[[], bool] | None = None,
                     known_interrupts: Iterable[str] = (), key_run_id: str | None = None,
                     mode: str | None = None, allowed_hosts: Sequence[str] = ()) -> RunOutcome:
        """Continue a paused or crashed run from its last checkpoint.

        With ``decision``, it is delivered to exactly one pending approval: the one named by
        ``interrupt_id``, or the only one pending. ``key_run_id`` as for :meth:`start`. The
        run keeps the mode it started in (its checkpointed state holds it); ``mode`` is
        used only for a run whose state does not say.
        """
        ctx = self._context(ir, run_id, is_cancelled, key_run_id, allowed_hosts=allowed_hosts)
        graph = self._graph(ir)
        config = self._config(ctx)
        snapshot = await graph.aget_state(config)
        if not snapshot.values and not snapshot.next:
            raise ResumeError(f"run {run_id!r} has no checkpoint to resume from")
        ctx.mode = resolve_mode((snapshot.values or {}).get("mode") or mode, ir.global_config)
        # a run started before nonces existed gets one now (its first node writes it into the state)
        ctx.ref_nonce = str((snapshot.values or {}).get("secret_nonce") or new_nonce())
        ctx.redactor.add_sensitive_values((snapshot.values or {}).get("vars"))
        await ctx.prime_secrets()
        ctx.started_at = (snapshot.values or {}).get("started_at")
        pending = [i for i in snapshot.interrupts]
        payload: Any
        if decision is not None:
            if not pending:
                raise ResumeError(f"run {run_id!r} is not waiting for an approval")
            if interrupt_id is None:
                if len(pending) > 1:
                    raise ResumeError(f"run {run_id!r} has {len(pending)} pending approvals; name one "
                                      "(interrupt id)")
                interrupt_id = pending[0].id
            if interrupt_id not in {i.id for i in pending}:
                raise ResumeError(f"approval {interrupt_id!r} is not pending in run {run_id!r}")
            payload = Command(resume={interrupt_id: decision})
        else:
            if pending:
                raise ResumeError(f"run {run_id!r} is waiting for an approval; give a decision")
            if not snapshot.next:
                return await self.inspect(ir, run_id)
            payload = None
        await ctx.emit("run_resumed", {"interrupt_id": interrupt_id})
        # Gates that were already waiting were announced when they first paused the run;
        # the ones still waiting after this resume must not be announced again.
        known = {*known_interrupts, *(i.id for i in pending)}
        return await self._drive(ir, ctx, payload, known)

    async def secret_text_filter(self, ir: ProcedureIR, run_id: str) -> Callable[[str], str]:
        """A function that hides ``ir``'s secrets in a text (for a log line or an error the
        runtime did not produce itself): values become shown references."""
        ctx = self._context(ir, run_id, None)
        await ctx.prime_secrets()
        return lambda text: display(ctx.redactor.seal_text(text, ctx.ref_nonce))

    async def inspect(self, ir: ProcedureIR, run_id: str) -> RunOutcome:
        ctx = self._context(ir, run_id, None)
        snapshot = await self._graph(ir).aget_state(self._config(ctx))
        return self._outcome(run_id, snapshot).shown()

    async def _drive(self, ir: ProcedureIR, ctx: RunContext, payload: Any,
                     known_interrupts: Iterable[str]) -> RunOutcome:
        graph = self._graph(ir)
        config = self._config(ctx)
        timeout = ir.global_config.timeout_ms / 1000 if ir.global_config.timeout_ms else None
        try:
            await asyncio.wait_for(graph.ainvoke(payload, config, durability=self._durability(ir)), timeout)
        except RunCancelled:
            await ctx.emit("run_canceled", {})
            snapshot = await graph.aget_state(config)
            outcome = self._outcome(ctx.run_id, snapshot).shown(ctx)
            outcome.status, outcome.pending = "canceled", []
            return outcome
        except TimeoutError:
            error = {"type": "RunTimeout", "message": f"run exceeded timeout_ms={ir.global_config.timeout_ms:g}",
                     "retryable": False}
            await ctx.emit("run_failed", {"error": error, "node_id": None})
            snapshot = await graph.aget_state(config)
            outcome = self._outcome(ctx.run_id, snapshot).shown(ctx)
            outcome.status, outcome.error, outcome.pending = "failed", error, []
            return outcome
        snapshot = await graph.aget_state(config)
        outcome = self._outcome(ctx.run_id, snapshot).shown(ctx)
        known = set(known_interrupts)
        for approval in outcome.pending:
            if approval.interrupt_id not in known:
                await ctx.emit("approval_requested", {"interrupt_id": approval.interrupt_id, **approval.request},
                               node_id=approval.node_id)
        if outcome.status == "completed":
            await ctx.emit("run_completed", {"outputs": outcome.outputs, "usage": outcome.usage})
        elif outcome.status == "failed":
            await ctx.emit("run_failed", {"error": outcome.error,
                                          "node_id": (outcome.error or {}).get("node_id")})
        return outcome

    def _outcome(self, run_id: str, snapshot: Any) -> RunOutcome:
        values = snapshot.values or {}
        pending = [PendingApproval(i.id, str((i.value or {}).get("node_id", "")), dict(i.value or {}))
                   for i in snapshot.interrupts]
        error = values.get("error")
        if pending:
            status = "waiting_approval"
        elif snapshot.next:
            status = "running"
        else:
            status = values.get("status") or "completed"
            if status == "running":
                status = "failed" if error else "completed"
        return RunOutcome(run_id, status, outputs=dict(values.get("outputs") or {}),
                          vars=dict(values.get("vars") or {}), error=error, pending=pending,
                          usage=dict(values.get("usage") or {}), last_node=values.get("last_node"))
