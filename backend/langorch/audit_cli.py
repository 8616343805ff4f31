"""``langorch audit verify | export``: the audit log, read straight from the configured database
(``LANGORCH_DB__URL`` or ``--db``), with no server running.

``verify`` exits 0 and prints ``audit chain intact: N entries`` when the chain holds, 1
naming the first bad entry and what is wrong with it otherwise, 2 when the database cannot
be read. ``export`` prints the matching entries as JSON lines, oldest first.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

__all__ = ["add_audit_command"]

EXIT_OK, EXIT_BROKEN, EXIT_UNREADABLE = 0, 1, 2


def add_audit_command(sub: Any) -> None:
    p = sub.add_parser("audit", help="verify or export the audit log (reads the database; no server needed)")
    commands = p.add_subparsers(dest="audit_command", required=True)

    v = commands.add_parser("verify", help="walk the hash chain; exit 1 at the first edited, inserted or deleted "
                                           "entry")
    v.add_argument("--db", help="database URL (default: LANGORCH_DB__URL or sqlite ./var/langorch.db)")
    v.add_argument("--anchor", action="append", default=[], metavar="SEQ:HASH",
                   help="an entry seen before (printed by an earlier verify, or the last line of an export): the "
                        "chain must still hold it — catches a truncated or rewritten log (repeatable)")
    v.set_defaults(func=cmd_verify)

    e = commands.add_parser("export", help="print entries as JSON lines, oldest first")
    e.add_argument("--db", help="database URL (default: LANGORCH_DB__URL or sqlite ./var/langorch.db)")
    e.add_argument("--since", type=_moment, help="entries at or after this time (ISO 8601, e.g. 2026-12-01 or "
                                                 "2026-12-01T08:00:00Z)")
    e.add_argument("--until", type=_moment, help="entries before this time (ISO 8601)")
    e.add_argument("--actor", help="only this actor")
    e.add_argument("--action", help="only this action, or a prefix ending in '.' (run.)")
    e.add_argument("--subject-type", help="only this subject type (run, procedure, approval, ...)")
    e.add_argument("--subject-id", help="only this subject")
    e.add_argument("--project-id", help="only this project")
    e.add_argument("--output", "-o", metavar="FILE", help="write to FILE instead of standard output")
    e.set_defaults(func=cmd_export)


def _moment(value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{value!r} is not an ISO 8601 date or time") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _database_url(db: str | None) -> str | None:
    """The URL to read, or None after saying why there is nothing to read."""
    from langorch.settings import get_settings
    from langorch.store.migrations import async_url

    url = async_url(db) if db else get_settings().db.url
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:" and not Path(path).is_file():
            print(f"langorch audit: no database at {path} (set LANGORCH_DB__URL or --db)", file=sys.stderr)
            return None
    return url


def _unreadable(exc: Exception) -> int:
    print(f"langorch audit: {exc} (did you run `langorch migrate`?)", file=sys.stderr)
    return EXIT_UNREADABLE


def cmd_verify(args: argparse.Namespace) -> int:
    from langorch.services.audit import Anchor

    try:
        anchors = [Anchor.parse(a) for a in args.anchor]
    except ValueError as exc:
        print(f"langorch audit verify: --anchor: {exc}", file=sys.stderr)
        return EXIT_UNREADABLE
    url = _database_url(args.db)
    if url is None:
        return EXIT_UNREADABLE
    return asyncio.run(_verify(url, anchors))


async def _verify(url: str, anchors: list[Any]) -> int:
    from langorch.services.audit import open_database, verify
    from langorch.services.errors import Unavailable

    try:
        async with open_database(url) as sessions, sessions() as session:
            result = await verify(session, anchors)
    except Unavailable as exc:
        return _unreadable(exc)
    if not result.ok:
        print(f"audit chain BROKEN at entry {result.first_bad_seq}: {result.problem}")
        print(f"{result.checked} entries intact before it")
        return EXIT_BROKEN
    print(f"audit chain intact: {result.checked} entries")
    if result.head_seq is not None:
        print(f"head: {result.head_seq}:{result.head_hash}  (keep it; check it later with --anchor)")
    return EXIT_OK


def cmd_export(args: argparse.Namespace) -> int:
    from langorch.services.audit import AuditFilters

    url = _database_url(args.db)
    if url is None:
        return EXIT_UNREADABLE
    filters = AuditFilters(actor=args.actor, action=args.action, subject_type=args.subject_type,
                           subject_id=args.subject_id, project_id=args.project_id, since=args.since,
                           until=args.until)
    if args.output:
        with open(args.output, "w", encoding="utf-8") as out:
            return asyncio.run(_export(url, filters, out))
    return asyncio.run(_export(url, filters, sys.stdout))


async def _export(url: str, filters: Any, out: Any) -> int:
    from langorch.services.audit import export_entries, open_database
    from langorch.services.errors import Unavailable

    count = 0
    try:
        async with open_database(url) as sessions:
            async for entry in export_entries(sessions, filters):
                out.write(json.dumps(entry, ensure_ascii=False, separators=(",", ":")) + "\n")
                count += 1
    except Unavailable as exc:
        return _unreadable(exc)
    out.flush()
    print(f"exported {count} entries", file=sys.stderr)
    return EXIT_OK
