"""``langorch secrets``: the built-in secret store from the command line (no server needed).

Register with ``add_secrets_command(subparsers)``. ``langorch secrets rotate-key``
re-encrypts every stored secret with a new master key against the configured database.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

__all__ = ["add_secrets_command"]


def add_secrets_command(sub: Any) -> None:
    p = sub.add_parser("secrets", help="the built-in encrypted secret store")
    actions = p.add_subparsers(dest="secrets_command", required=True)
    r = actions.add_parser(
        "rotate-key",
        help="re-encrypt every stored secret with a new master key",
        description="With the key file (LANGORCH_SECRETS__KEY_FILE): a new key is generated, every row "
                    "re-encrypted in one transaction, and the key file replaced (the old key is kept as "
                    "<key file>.previous). With LANGORCH_SECRET_KEY: the new key is read from "
                    "LANGORCH_SECRET_KEY_NEW; set LANGORCH_SECRET_KEY to it afterwards.")
    r.add_argument("--db", help="database URL (default: LANGORCH_DB__URL)")
    r.set_defaults(func=cmd_rotate_key)


def cmd_rotate_key(args: argparse.Namespace) -> int:
    """Exit 0 when every row is re-encrypted, 2 when nothing could be changed (the reason on stderr)."""
    from langorch.services.errors import ServiceError
    from langorch.services.secret_store import rotate_master_key
    from langorch.settings import get_settings

    settings = get_settings()
    try:
        report = asyncio.run(rotate_master_key(args.db or settings.db.url, settings.secrets))
    except ServiceError as exc:
        print(f"secrets rotate-key: {exc.message}", file=sys.stderr)
        return 2
    print(report, file=sys.stderr)
    return 0
