"""Arguments of ``langorch run`` and ``langorch resume``.

Kept apart from :mod:`langorch.run_cli` so that ``langorch validate`` does not pay for
importing LangGraph: the runtime is imported only when one of these commands runs.
"""

from __future__ import annotations

import argparse
import os
from typing import Any

DEFAULT_STATE_DB = os.path.join(".langorch", "state.db")


def _run(args: argparse.Namespace) -> int:
    from langorch.run_cli import run_command

    return run_command(args)


def _resume(args: argparse.Namespace) -> int:
    from langorch.run_cli import resume_command

    return resume_command(args)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--agent", action="append", metavar="CHANNEL=URL", help="agent base URL for a channel")
    p.add_argument("--mcp", action="append", metavar="SERVER=URL", help="MCP server URL by name")
    p.add_argument("--allow-host", action="append", metavar="HOST_OR_CIDR",
                   help="a loopback/private host, address or network the procedure's own requests (http_request) "
                        "may reach (repeatable; LANGORCH_SANDBOX__ALLOWED_HOSTS adds more)")
    p.add_argument("--procedures-dir", help="folder of CKP files that subflows may call")
    p.add_argument("--state-db", default=DEFAULT_STATE_DB, help=f"checkpoint file (default {DEFAULT_STATE_DB})")
    p.add_argument("--json", action="store_true", help="one JSON object per event per line, then a summary")
    p.add_argument("--comment", help="comment recorded with a decision")
    p.add_argument("--approval-id", help="which pending approval a decision is for (interrupt id)")
    p.add_argument("--input-value", help="the value for a provide_input approval (JSON or text)")


def add_commands(sub: Any) -> None:
    p = sub.add_parser("run", help="run a CKP file headless")
    p.add_argument("file", metavar="FILE")
    p.add_argument("--input", action="append", metavar="KEY=VALUE", help="an input variable (repeatable)")
    p.add_argument("--inputs-file", help="JSON object of input variables")
    p.add_argument("--mode", choices=("production", "dry_run", "test"),
                   help="production (steps do what they say), dry_run (external calls with side effects are "
                   "skipped) or test (agent, MCP, http_request and LLM calls answer from the CKP's "
                   "global_config.test_data_overrides; nothing outside is reached). Default: what the CKP's "
                   "global_config declares, else production")
    p.add_argument("--dry-run", dest="mode", action="store_const", const="dry_run", help="the same as --mode dry_run")
    p.add_argument("--run-id", help="use this run id (default: random)")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--approve", action="store_true", help="approve every approval without asking")
    group.add_argument("--reject", action="store_true", help="reject every approval without asking")
    _common(p)
    p.set_defaults(func=_run)

    p = sub.add_parser("resume", help="continue a paused or crashed run from its last checkpoint")
    p.add_argument("run_id", metavar="RUN_ID")
    p.add_argument("--decision", help="approve | reject | an option")
    _common(p)
    p.set_defaults(func=_resume)
