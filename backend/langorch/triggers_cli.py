"""``langorch triggers list | fire ID | next ID``: the configured database's triggers, with no
server running (``LANGORCH_DB__URL`` or ``--db``).

``fire`` queues the run in the database — a server's or ``langorch worker``'s worker picks it
up — and prints its id. Exit codes: 0 done, 1 refused (no such trigger, skipped or refused
fire, inputs that do not fit), 2 the database cannot be used."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import uuid
from contextlib import AsyncExitStack
from datetime import UTC, datetime
from typing import Any

__all__ = ["add_triggers_command"]

EXIT_OK, EXIT_REFUSED, EXIT_UNUSABLE = 0, 1, 2


def add_triggers_command(sub: Any) -> None:
    p = sub.add_parser("triggers", help="list triggers, fire one now, or show its next fire times (database; "
                                        "no server needed)")
    commands = p.add_subparsers(dest="triggers_command", required=True)
    ls = commands.add_parser("list", help="every trigger: id, procedure, type, state, schedule, next fire")
    ls.add_argument("--procedure", help="only this procedure's")
    ls.add_argument("--format", choices=("text", "json"), default="text")
    ls.add_argument("--db", help="database URL (default: LANGORCH_DB__URL or sqlite ./var/langorch.db)")
    ls.set_defaults(func=cmd_list)
    f = commands.add_parser("fire", help="fire a trigger now: queue its run and print the run id")
    f.add_argument("trigger_id", metavar="ID")
    f.add_argument("--payload", default="{}", help="JSON object the fire carries (mapped into the inputs like a "
                                                   "delivery's), default {}")
    f.add_argument("--db", help="database URL")
    f.set_defaults(func=cmd_fire)
    n = commands.add_parser("next", help="the next fire times of a schedule, in UTC and its timezone")
    n.add_argument("trigger_id", metavar="ID")
    n.add_argument("-n", type=int, default=10, help="how many (1-100, default 10)")
    n.add_argument("--db", help="database URL")
    n.set_defaults(func=cmd_next)


def _problem(command: str, message: str) -> int:
    print(f"langorch triggers {command}: {message}", file=sys.stderr)
    return EXIT_REFUSED


def cmd_list(args: argparse.Namespace) -> int:
    from langorch.keys_cli import _run
    from langorch.services import triggers

    rows, _ = _run(args.db, lambda s: triggers.list_triggers(s, procedure_id=args.procedure, limit=10_000))
    if args.format == "json":
        print(json.dumps([_summary(row) for row in rows], indent=2, default=str))
        return EXIT_OK
    if not rows:
        print("no triggers", file=sys.stderr)
    for row in rows:
        item = _summary(row)
        state = "enabled" if row.enabled else "paused"
        nxt = f"next {row.next_fire_at:%Y-%m-%d %H:%M} UTC" if row.next_fire_at else ""
        print(f"{row.id}  {row.procedure_id}  {row.trigger_type:<13} {state:<8} {item['schedule'] or '-'}  {nxt}"
              .rstrip())
    return EXIT_OK


def _summary(row: Any) -> dict[str, Any]:
    from langorch.scheduling.schedules import ScheduleError, describe
    from langorch.services import triggers

    try:
        schedule = triggers.schedule_of(row)
    except ScheduleError:
        schedule = None
    return {"id": row.id, "procedure_id": row.procedure_id, "trigger_type": row.trigger_type, "name": row.name,
            "source": row.source, "enabled": row.enabled, "schedule": describe(schedule) if schedule else None,
            "next_fire_at": row.next_fire_at, "last_fired_at": row.last_fired_at, "last_run_id": row.last_run_id,
            "fire_count": row.fire_count}


def cmd_fire(args: argparse.Namespace) -> int:
    try:
        payload = json.loads(args.payload)
    except ValueError as exc:
        return _problem("fire", f"--payload is not JSON: {exc}")
    if not isinstance(payload, dict):
        return _problem("fire", "--payload must be a JSON object")
    from langorch.cli import _migrate, _settings

    settings = _settings(args.db)
    if not _migrate(settings.db.url):
        return EXIT_UNUSABLE
    return asyncio.run(_fire(settings, args.trigger_id, payload))


async def _fire(settings: Any, trigger_id: str, payload: dict[str, Any]) -> int:
    from langorch.runtime.context import Services
    from langorch.runtime.errors import InputError
    from langorch.runtime.runner import Runner
    from langorch.services import trigger_fire, triggers
    from langorch.services.errors import ServiceError
    from langorch.services.events import DbEventSink
    from langorch.services.hub import Hub
    from langorch.services.runtime_wiring import IrCache, ServerRuntime
    from langorch.store.db import make_engine, make_sessionmaker

    async with AsyncExitStack() as stack:
        engine = make_engine(settings.db.url)
        stack.push_async_callback(engine.dispose)
        sessions = make_sessionmaker(engine)
        # Queuing a run needs the procedure cache and the event sink only: no checkpointer,
        # no clients (the worker that runs it has its own). Workers poll, so none is woken.
        hub = Hub()
        sink = DbEventSink(sessions, hub)
        rt = ServerRuntime(settings=settings, sessions=sessions, hub=hub, sink=sink, cache=IrCache(),
                           checkpointer=None, runner=Runner(Services(events=sink), None))
        async with sessions() as session:
            try:
                reg = await triggers.get(session, trigger_id)
                result = await trigger_fire.fire(session, rt, reg, payload=payload, triggered_by="langorch triggers",
                                                 idempotency_key=f"cli:{uuid.uuid4().hex}")
            except InputError as exc:
                return _problem("fire", "the inputs do not fit the procedure's variables_schema: " +
                                "; ".join(f"{p.field}: {p.message}" for p in exc.problems))
            except ServiceError as exc:
                return _problem("fire", exc.message)
        await rt.sink.flush()
    if not result.created:
        return _problem("fire", f"{result.outcome}: {result.detail or 'no run started'}")
    print(result.run_id)
    print(f"queued run {result.run_id} of {reg.procedure_id} (trigger {reg.id}); a server's worker starts it",
          file=sys.stderr)
    return EXIT_OK


def cmd_next(args: argparse.Namespace) -> int:
    from langorch.keys_cli import _run
    from langorch.scheduling.schedules import ScheduleError, describe, zone
    from langorch.services import triggers
    from langorch.services.errors import NotFound

    if not 1 <= args.n <= 100:
        return _problem("next", "-n must be between 1 and 100")
    try:
        reg = _run(args.db, lambda s: triggers.get(s, args.trigger_id))
    except NotFound as exc:
        return _problem("next", exc.message)
    try:
        schedule = triggers.schedule_of(reg)
    except ScheduleError as exc:
        return _problem("next", str(exc))
    if schedule is None:
        return _problem("next", f"trigger {reg.id} is a {reg.trigger_type} trigger: it has no schedule")
    tz = zone(schedule.timezone)
    print(f"{describe(schedule)}{'' if reg.enabled else ' — paused'}", file=sys.stderr)
    for instant in schedule.upcoming(datetime.now(UTC), args.n):
        print(f"{instant:%Y-%m-%dT%H:%M:%SZ}  {instant.astimezone(tz).isoformat()}")
    return EXIT_OK
