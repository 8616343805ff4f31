"""``langorch keys create | list | revoke`` and ``langorch users create | reset-password``:
credentials written straight into the configured database (``LANGORCH_DB__URL`` or
``--db``), with no server running, so scripts and CI can bootstrap.

``keys create`` prints only the key on standard output (``KEY=$(langorch keys create …)``);
it is shown this once. Exit codes: 0 done, 1 refused (unknown role, name taken, no such
key), 2 the database cannot be used."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from langorch.auth.roles import ROLES

__all__ = ["add_keys_commands"]

EXIT_OK, EXIT_REFUSED, EXIT_UNUSABLE = 0, 1, 2
T = TypeVar("T")


def add_keys_commands(sub: Any) -> None:
    p = sub.add_parser("keys", help="create, list or revoke API keys (writes the database; no server needed)")
    commands = p.add_subparsers(dest="keys_command", required=True)
    c = commands.add_parser("create", help="print a new API key (shown once)")
    c.add_argument("--name", required=True, help="what the key is for (shown in the audit log)")
    c.add_argument("--role", required=True, choices=ROLES)
    c.add_argument("--project", help="the role holds on this project id only")
    c.add_argument("--group", action="append", default=[], help="approver group or level, e.g. manager "
                                                               "(repeatable)")
    c.add_argument("--db", help="database URL (default: LANGORCH_DB__URL or sqlite ./var/langorch.db)")
    c.set_defaults(func=cmd_keys_create)
    ls = commands.add_parser("list", help="list keys (never the keys themselves)")
    ls.add_argument("--db", help="database URL")
    ls.set_defaults(func=cmd_keys_list)
    r = commands.add_parser("revoke", help="revoke a key by its id (the part after lok_)")
    r.add_argument("key_id")
    r.add_argument("--db", help="database URL")
    r.set_defaults(func=cmd_keys_revoke)

    p = sub.add_parser("users", help="create local users or reset a password (writes the database)")
    commands = p.add_subparsers(dest="users_command", required=True)
    u = commands.add_parser("create", help="create a local user and print a one-time password")
    u.add_argument("username")
    u.add_argument("--password-stdin", action="store_true", help="read the password from standard input instead")
    u.add_argument("--role", required=True, choices=ROLES)
    u.add_argument("--group", action="append", default=[], help="approver group (repeatable)")
    u.add_argument("--db", help="database URL")
    u.set_defaults(func=cmd_users_create)
    rp = commands.add_parser("reset-password", help="set a new one-time password and print it")
    rp.add_argument("username")
    rp.add_argument("--db", help="database URL")
    rp.set_defaults(func=cmd_users_reset)


def _run(db: str | None, work: Callable[[Any], Awaitable[T]]) -> T:
    from langorch.cli import _migrate, _settings
    from langorch.store.db import make_engine, make_sessionmaker

    settings = _settings(db)
    if not _migrate(settings.db.url):
        raise SystemExit(EXIT_UNUSABLE)

    async def go() -> T:
        engine = make_engine(settings.db.url)
        try:
            async with make_sessionmaker(engine)() as session:
                result = await work(session)
                await session.commit()
                return result
        finally:
            await engine.dispose()

    return asyncio.run(go())


def cmd_keys_create(args: argparse.Namespace) -> int:
    from langorch.auth.api_keys import KeyProblem, create_key

    try:
        created = _run(args.db, lambda s: create_key(s, name=args.name, role=args.role, project_id=args.project,
                                                      created_by="langorch keys create", groups=args.group))
    except KeyProblem as exc:
        print(f"langorch keys create: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    print(created.key)
    print(f"created key {created.row.key_id} ({args.role}{' on ' + args.project if args.project else ''}); "
          "it is shown only this once", file=sys.stderr)
    return EXIT_OK


def cmd_keys_list(args: argparse.Namespace) -> int:
    from langorch.auth.api_keys import list_keys

    rows = _run(args.db, list_keys)
    for row in rows:
        state = "revoked" if row.revoked_at else f"last used {row.last_used_at:%Y-%m-%d %H:%M}" \
            if row.last_used_at else "never used"
        print(f"{row.key_id}  {row.role:<8}  {row.project_id or '-':<12}  {row.name}  ({state})")
    return EXIT_OK


def cmd_keys_revoke(args: argparse.Namespace) -> int:
    from langorch.auth.api_keys import revoke_key

    row = _run(args.db, lambda s: revoke_key(s, args.key_id))
    if row is None:
        print(f"langorch keys revoke: no key {args.key_id!r}", file=sys.stderr)
        return EXIT_REFUSED
    print(f"revoked key {row.key_id} ({row.name})")
    return EXIT_OK


def cmd_users_create(args: argparse.Namespace) -> int:
    from langorch.auth.passwords import generate_password
    from langorch.auth.users import UserProblem, create_user

    password = sys.stdin.readline().rstrip("\n") if args.password_stdin else generate_password()
    try:
        _run(args.db, lambda s: create_user(s, username=args.username, password=password, role=args.role,
                                             groups=args.group, initial=not args.password_stdin))
    except UserProblem as exc:
        print(f"langorch users create: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    if not args.password_stdin:
        print(password)
        print(f"created user {args.username} ({args.role}); the one-time password above is shown only this once",
              file=sys.stderr)
    else:
        print(f"created user {args.username} ({args.role})", file=sys.stderr)
    return EXIT_OK


def cmd_users_reset(args: argparse.Namespace) -> int:
    from langorch.auth.users import reset_password

    password = _run(args.db, lambda s: reset_password(s, args.username))
    if password is None:
        print(f"langorch users reset-password: no user {args.username!r}", file=sys.stderr)
        return EXIT_REFUSED
    print(password)
    print(f"{args.username}: new one-time password above; every session of the user has ended", file=sys.stderr)
    return EXIT_OK
