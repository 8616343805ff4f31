"""``langorch run`` and ``langorch resume``: execute a CKP headless, with live progress.

The state file (``--state-db``) holds the LangGraph checkpoints, step results (so a
resumed run never repeats a side effect) and the exact CKP each run started with.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import uuid
from collections.abc import Mapping
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import aiosqlite

from langorch.ckp import compile_text
from langorch.ckp.ir import ProcedureIR
from langorch.connectors.local_state import RunRegistry, SqliteStepStore
from langorch.runtime.checkpointer import open_checkpointer
from langorch.runtime.context import Services
from langorch.runtime.errors import InputError, ProcedureNotFound
from langorch.runtime.inputs import coerce, validate_inputs
from langorch.runtime.netguard import NetPolicy, guarded_client
from langorch.runtime.ports import RunEvent
from langorch.runtime.pricing import Pricing
from langorch.runtime.redaction import Redactor
from langorch.runtime.runner import ResumeError, Runner, RunOutcome
from langorch.settings import get_settings

EXIT = {"completed": 0, "failed": 1, "canceled": 1, "waiting_approval": 3}


class ConsoleEvents:
    """Live progress: one line per node and step on stderr, or JSON lines on stdout."""

    def __init__(self, as_json: bool) -> None:
        self.as_json = as_json

    async def emit(self, event: RunEvent) -> None:
        if self.as_json:
            record = {"type": event.type, "run_id": event.run_id, "node_id": event.node_id,
                      "step_id": event.step_id, "ts": event.ts, "payload": event.payload}
            print(json.dumps(record, default=str), flush=True)
            return
        line = _describe(event)
        if line:
            print(line, file=sys.stderr, flush=True)


def _describe(e: RunEvent) -> str | None:
    p = e.payload
    where = e.node_id or ""
    if e.type == "run_started":
        mode = f"  [{p.get('mode')} mode]" if p.get("mode") not in (None, "production") else ""
        return f"▶ run {e.run_id}  {p.get('procedure_id')} v{p.get('version')}{mode}"
    if e.type == "node_started":
        return f"  ● {where} ({p.get('type')})"
    if e.type == "step_completed":
        cached = " [already done — reused]" if p.get("cached") else ""
        return f"      ✓ {e.step_id} {p.get('action', '')} {p.get('duration_ms', 0):.0f} ms{cached}"
    if e.type in ("step_failed", "node_failed"):
        err = p.get("error") or {}
        return f"      ✗ {e.step_id or where}: {err.get('type')}: {err.get('message')}"
    if e.type == "step_retry":
        return f"      ↻ {e.step_id} retry {p.get('attempt')} in {p.get('delay_ms')} ms"
    if e.type == "llm_usage":
        cost = p.get("cost_usd")
        price = f"${cost:.5f}" if isinstance(cost, int | float) else "cost unknown"
        return (f"      ◆ llm {p.get('model')} {p.get('prompt_tokens')}+{p.get('completion_tokens')} tokens "
                f"{price} {p.get('duration_ms', 0):.0f} ms")
    if e.type == "log":
        return f"      · {p.get('level')}: {p.get('message')}"
    if e.type == "step_test_override_applied":
        return f"      ≈ {e.step_id or where} {p.get('action', '')} answered from test data"
    if e.type in ("step_skipped_dry_run", "step_mock_applied", "budget_exceeded", "sla_breached"):
        return f"      ! {e.type} {json.dumps(p, default=str)}"
    if e.type == "approval_requested":
        return f"  ⏸ approval needed at {where}: {p.get('prompt')}"
    if e.type == "approval_decided":
        return f"  ✓ approval {where}: {p.get('outcome')}"
    if e.type == "run_completed":
        return f"■ completed  outputs={json.dumps(p.get('outputs'), default=str)}"
    if e.type == "run_failed":
        err = p.get("error") or {}
        return f"■ failed at {p.get('node_id')}: {err.get('message')}"
    return None


class FolderResolver:
    """The ProcedureResolver port over a folder of CKP files (subflows for the CLI)."""

    def __init__(self, folder: str | None) -> None:
        self.folder = Path(folder) if folder else None

    async def resolve(self, procedure_id: str, version: str | None = None) -> ProcedureIR:
        if self.folder is not None:
            for file in sorted(self.folder.glob("*.json")):
                result = compile_text(file.read_text(encoding="utf-8"))
                ir = result.ir
                if ir is not None and ir.procedure_id == procedure_id and version in (None, ir.version):
                    return ir
        raise ProcedureNotFound(f"procedure {procedure_id!r}{' v' + version if version else ''} not found"
                                f"{' in ' + str(self.folder) if self.folder else ' (use --procedures-dir)'}")


def _pairs(items: list[str] | None, flag: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise SystemExit(f"{flag} expects KEY=VALUE, got {item!r}")
        out[key.strip()] = value
    return out


def _parse_value(text: str) -> Any:
    stripped = text.strip()
    if stripped[:1] in ("{", "[", '"'):
        try:
            return json.loads(stripped)
        except ValueError:
            return text
    return text


async def _services(args: argparse.Namespace, events: ConsoleEvents, conn: aiosqlite.Connection,
                    stack: AsyncExitStack) -> Services:
    from langorch.connectors.agents import HttpAgentClient
    from langorch.services.secret_providers import LazyStoreSecrets, build_secrets

    agents = HttpAgentClient(_pairs(args.agent, "--agent"))
    stack.push_async_callback(agents.aclose)
    llm = None
    if os.environ.get("OPENAI_BASE_URL") or os.environ.get("OPENAI_API_KEY"):
        from langorch.connectors.llm import OpenAICompatibleLlm

        llm = OpenAICompatibleLlm()
    mcp = None
    if args.mcp:
        from langorch.connectors.mcp import McpToolClient

        mcp = McpToolClient(_pairs(args.mcp, "--mcp"))
    # The same settings as the server: price table, environment name, notification webhook.
    settings = get_settings()
    notifier = None
    if settings.notify.webhook_url:
        from langorch.connectors.notify import WebhookNotifier

        notifier = WebhookNotifier(settings.notify.webhook_url, timeout_s=settings.notify.webhook_timeout_s)
        stack.push_async_callback(notifier.aclose)
    net_policy = NetPolicy.of([*settings.sandbox.allowed_hosts, *(args.allow_host or [])])
    http = guarded_client(net_policy)
    stack.push_async_callback(http.aclose)
    return Services(events=events, agents=agents, llm=llm, mcp=mcp, http=http,
                    secrets=build_secrets(settings.secrets,
                                          LazyStoreSecrets(settings.db.url, settings.secrets, stack)),
                    net_policy=net_policy, workdir=os.path.join(os.path.dirname(args.state_db) or ".", "files"),
                    step_store=await SqliteStepStore.create(conn), resolver=FolderResolver(args.procedures_dir),
                    default_model=os.environ.get("LANGORCH_DEFAULT_MODEL", settings.llm.default_model),
                    pricing=Pricing(settings.llm.prices), env_name=settings.env_name, notifier=notifier)


def _decision(args: argparse.Namespace) -> dict[str, Any] | None:
    decision = getattr(args, "decision", None)
    if getattr(args, "approve", False):
        decision = "approve"
    if getattr(args, "reject", False):
        decision = "reject"
    if decision is None:
        return None
    return {"decision": decision, "decided_by": os.environ.get("USER", "cli"), "comment": args.comment,
            "input": _parse_value(args.input_value) if getattr(args, "input_value", None) else None}


def _ask(outcome: RunOutcome) -> dict[str, Any] | None:
    if not sys.stdin.isatty():
        return None
    pending = outcome.pending[0]
    request = pending.request
    print(f"\nApproval needed at {pending.node_id}: {request.get('prompt')}", file=sys.stderr)
    if request.get("context_data"):
        print(json.dumps(request["context_data"], indent=2, default=str), file=sys.stderr)
    options = request.get("options") or []
    hint = "/".join(options) if options else "approve/reject"
    answer = input(f"decision [{hint}]: ").strip()
    comment = input("comment (optional): ").strip() or None
    value: Any = None
    if request.get("decision_type") == "provide_input":
        value, answer = _parse_value(answer), "approve"
    return {"decision": answer, "decided_by": os.environ.get("USER", "cli"), "comment": comment, "input": value}


async def _until_done(runner: Runner, ir: ProcedureIR, outcome: RunOutcome, args: argparse.Namespace,
                      registry: RunRegistry, announced: list[str]) -> RunOutcome:
    decided_once = False
    while outcome.status == "waiting_approval":
        announced = sorted({*announced, *(p.interrupt_id for p in outcome.pending)})
        await registry.update(outcome.run_id, outcome.status, announced)
        decision = _decision(args) if not decided_once or args.approve or args.reject else None
        if decision is None:
            decision = _ask(outcome)
        if decision is None:
            break
        decided_once = True
        target = next((p for p in outcome.pending if p.interrupt_id == getattr(args, "approval_id", None)),
                      outcome.pending[0])
        outcome = await runner.resume(ir, outcome.run_id, decision, interrupt_id=target.interrupt_id,
                                      known_interrupts=announced)
    await registry.update(outcome.run_id, outcome.status, announced)
    return outcome


def _finish(outcome: RunOutcome, args: argparse.Namespace, ir: ProcedureIR) -> int:
    if args.json:
        redactor = Redactor(ir.sensitive_names)
        for var in ir.variables:
            if var.sensitive and outcome.vars.get(var.name) is not None:
                redactor.add_secret(outcome.vars[var.name])
        print(json.dumps({"run_id": outcome.run_id, "status": outcome.status,
                          "outputs": redactor.redact(outcome.outputs),
                          "vars": redactor.redact(outcome.vars), "error": outcome.error,
                          "pending_approvals": outcome.summary()["pending_approvals"], "usage": outcome.usage},
                         default=str), flush=True)
    elif outcome.status == "waiting_approval":
        print(f"run {outcome.run_id} is waiting for approval; continue with:\n  langorch resume {outcome.run_id} "
              f"--state-db {args.state_db} --decision approve|reject", file=sys.stderr)
    return EXIT.get(outcome.status, 1)


async def _run(args: argparse.Namespace) -> int:
    try:
        text = Path(args.file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        print(f"{args.file}: cannot read: {exc}", file=sys.stderr)
        return 2
    result = compile_text(text)
    if result.ir is None:
        for d in result.errors:
            print(d.format(args.file), file=sys.stderr)
        return 2
    ir = result.ir
    raw_inputs: dict[str, Any] = {}
    if args.inputs_file:
        try:
            loaded = json.loads(Path(args.inputs_file).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            print(f"{args.inputs_file}: cannot read inputs: {exc}", file=sys.stderr)
            return 2
        if not isinstance(loaded, Mapping):
            print(f"{args.inputs_file}: inputs must be a JSON object", file=sys.stderr)
            return 2
        raw_inputs.update(loaded)
    for key, value in _pairs(args.input, "--input").items():
        var = ir.variable(key)
        raw_inputs[key] = coerce(var, _parse_value(value)) if var else _parse_value(value)
    unknown = [key for key in raw_inputs if ir.variable(key) is None]
    if unknown:
        declared = ", ".join(v.name for v in ir.variables) or "none"
        for key in unknown:
            print(f"input {key}: not a variable of {ir.procedure_id} (its variables_schema declares: {declared})",
                  file=sys.stderr)
        return 2
    try:
        inputs = validate_inputs(ir, raw_inputs)
    except InputError as exc:
        for problem in exc.problems:
            print(f"input {problem.field}: {problem.message}", file=sys.stderr)
        return 2
    run_id = args.run_id or uuid.uuid4().hex
    events = ConsoleEvents(args.json)
    async with AsyncExitStack() as stack:
        saver, conn, registry = await _open_state(args.state_db, stack)
        if await registry.get(run_id) is not None:
            print(f"run {run_id!r} already exists in {args.state_db}; continue it with `langorch resume "
                  f"{run_id}` or choose another --run-id", file=sys.stderr)
            return 2
        await registry.add(run_id, ir.procedure_id, ir.version, ir.ir_hash, text, inputs)
        runner = Runner(await _services(args, events, conn, stack), saver)
        outcome = await runner.start(ir, run_id, inputs, mode=args.mode)
        outcome = await _until_done(runner, ir, outcome, args, registry, [])
    return _finish(outcome, args, ir)


async def _open_state(path: str, stack: AsyncExitStack) -> tuple[Any, aiosqlite.Connection, RunRegistry]:
    """The state file's checkpointer, a connection for step results, and the run registry."""
    saver = await stack.enter_async_context(open_checkpointer(path))
    conn = await aiosqlite.connect(path)
    stack.push_async_callback(conn.close)
    return saver, conn, await RunRegistry.create(conn)


async def _resume(args: argparse.Namespace) -> int:
    if not Path(args.state_db).exists():
        print(f"{args.state_db}: no such state file", file=sys.stderr)
        return 2
    events = ConsoleEvents(args.json)
    async with AsyncExitStack() as stack:
        saver, conn, registry = await _open_state(args.state_db, stack)
        record = await registry.get(args.run_id)
        if record is None:
            print(f"run {args.run_id!r} is not in {args.state_db}", file=sys.stderr)
            return 2
        result = compile_text(record.ckp_json)
        if result.ir is None:
            print(f"run {args.run_id!r}: the CKP it started with no longer compiles with this LangOrch version",
                  file=sys.stderr)
            return 2
        if result.ir.ir_hash != record.ir_hash:
            # The CKP text is the run's original one; only the compiler changed since.
            print(f"note: run {args.run_id!r} started on IR {record.ir_hash[:12]}; this LangOrch version compiles "
                  f"the same CKP to {result.ir.ir_hash[:12]} and resumes with it", file=sys.stderr)
        ir = result.ir
        runner = Runner(await _services(args, events, conn, stack), saver)
        args.approve = args.reject = False
        decision = _decision(args)
        try:
            outcome = await runner.resume(ir, args.run_id, decision, interrupt_id=args.approval_id,
                                          known_interrupts=record.announced)
        except ResumeError as exc:
            print(str(exc), file=sys.stderr)
            return 2
        args.decision = None
        outcome = await _until_done(runner, ir, outcome, args, registry, record.announced)
    return _finish(outcome, args, ir)


def run_command(args: argparse.Namespace) -> int:
    """``langorch run``."""
    return asyncio.run(_run(args))


def resume_command(args: argparse.Namespace) -> int:
    """``langorch resume``."""
    return asyncio.run(_resume(args))
