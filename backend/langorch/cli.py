"""``langorch`` command line: validate | schema | compile | migrate | import | serve | run | resume."""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from langorch import logs
from langorch.ckp import compile_text
from langorch.ckp.compiler import CompileResult
from langorch.ckp.diagnostics import Severity
from langorch.ckp.schema import ckp_json_schema
from langorch.settings import Settings, get_settings

EXIT_OK, EXIT_ERRORS, EXIT_BAD_INPUT, EXIT_WAITING = 0, 1, 2, 3


def _read(path: str) -> bytes | None:
    """The file's bytes ("-" is stdin), or None after saying why it cannot be read.

    Bytes, not text: a file that is not UTF-8 is a CKP101 diagnostic, not a crash.
    """
    try:
        return sys.stdin.buffer.read() if path == "-" else Path(path).read_bytes()
    except OSError as exc:
        print(f"{path}: cannot read: {exc.strerror or exc}", file=sys.stderr)
        return None


def _tolerant_output() -> None:
    """Node ids and messages come from the user's file and may hold characters the
    terminal cannot encode, even lone surrogates from JSON escapes: print them escaped."""
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors="backslashreplace")


def _ckp_paths(names: Sequence[str]) -> list[str]:
    """Files as given; a folder stands for the ``*.json`` files in it."""
    out: list[str] = []
    for name in names:
        folder = Path(name)
        out.extend([str(p) for p in sorted(folder.glob("*.json"))] if folder.is_dir() else [name])
    return out


def folder_resolver(folder: str | None) -> Any:
    """A subflow resolver over the ``*.json`` files of a folder (for the CLI)."""
    if not folder:
        return None
    docs: dict[str, list[dict[str, Any]]] = {}
    for file in sorted(Path(folder).glob("*.json")):
        try:
            data = json.loads(file.read_text(encoding="utf-8"))
        except (OSError, ValueError, RecursionError):
            continue  # the file's own validation reports it
        procedure_id = data.get("procedure_id", data.get("id")) if isinstance(data, dict) else None
        if isinstance(procedure_id, str):
            docs.setdefault(procedure_id, []).append(data)

    def resolve(procedure_id: str, version: str | None) -> dict[str, Any] | None:
        for doc in docs.get(procedure_id, []):
            if version is None or doc.get("version") == version:
                return doc
        return None

    return resolve


def cmd_validate(args: argparse.Namespace) -> int:
    """Print every diagnostic of every file; exit 0 (clean), 1 (errors) or 2 (unreadable)."""
    _tolerant_output()
    worst = EXIT_OK
    report: list[dict[str, Any]] = []
    resolver = folder_resolver(args.procedures_dir)
    for path in _ckp_paths(args.files):
        text = _read(path)
        if text is None:
            worst = max(worst, EXIT_BAD_INPUT)
            report.append({"file": path, "readable": False, "diagnostics": []})
            continue
        result = compile_text(text, resolver)
        shown = [d for d in result.diagnostics if args.warnings or d.severity is Severity.ERROR]
        if args.format == "json":
            report.append({"file": path, "readable": True, "ok": not result.errors,
                           "diagnostics": [d.to_dict() for d in result.diagnostics]})
        else:
            for d in shown:
                print(d.format(path))
            counts = f"{len(result.errors)} error(s), {len(result.warnings)} warning(s)"
            print(f"{path}: {'ok' if not result.errors else 'FAILED'} — {counts}", file=sys.stderr)
        if result.errors:
            worst = max(worst, EXIT_ERRORS)
    if args.format == "json":
        print(json.dumps(report, indent=2))
    return worst


def cmd_schema(args: argparse.Namespace) -> int:
    print(json.dumps(ckp_json_schema(), indent=2))
    return EXIT_OK


def _summary(result: CompileResult) -> dict[str, Any]:
    ir = result.ir
    assert ir is not None
    return {
        "procedure_id": ir.procedure_id,
        "version": ir.version,
        "ir_hash": ir.ir_hash,
        "start_node": ir.start_node,
        "nodes": [{"id": n.node_id, "type": n.type, "agent": n.agent,
                   "steps": [f"{s.step_id}:{s.action}→{s.binding.kind}"
                             + (f"/{s.binding.channel}" if s.binding.channel else "")
                             for s in getattr(n.payload, "steps", ())]}
                  for n in ir.nodes.values()],
        "edges": [{"from": e.source, "to": e.target, "kind": e.kind, "label": e.label} for e in ir.edges],
    }


def cmd_compile(args: argparse.Namespace) -> int:
    _tolerant_output()
    text = _read(args.file)
    if text is None:
        return EXIT_BAD_INPUT
    result = compile_text(text, folder_resolver(args.procedures_dir))
    for d in result.diagnostics:
        print(d.format(args.file), file=sys.stderr)
    if result.ir is None:
        return EXIT_ERRORS
    if args.canonical:
        assert result.procedure is not None
        canonical = result.procedure.model_dump(mode="json", by_alias=True, exclude_unset=True)
        print(json.dumps(canonical, indent=2, ensure_ascii=False))
        return EXIT_OK
    summary = _summary(result)
    if args.format == "json":
        print(json.dumps(summary, indent=2))
        return EXIT_OK
    print(f"{summary['procedure_id']} v{summary['version']}  ir {summary['ir_hash'][:12]}  "
          f"start {summary['start_node']}")
    print(f"{len(summary['nodes'])} nodes:")
    for node in summary["nodes"]:
        agent = f" [{node['agent']}]" if node["agent"] else ""
        print(f"  {node['id']}: {node['type']}{agent}")
        for step in node["steps"]:
            print(f"      {step}")
    print(f"{len(summary['edges'])} edges:")
    for edge in summary["edges"]:
        label = f" ({edge['label']})" if edge["label"] and edge["kind"] != "next" else ""
        print(f"  {edge['from']} -{edge['kind']}-> {edge['to']}{label}")
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="langorch", description="Compile and run CKP procedures.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("validate", help="check CKP files and print diagnostics")
    p.add_argument("files", nargs="+", metavar="FILE", help="CKP files, folders of *.json files, or - for stdin")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.add_argument("--no-warnings", dest="warnings", action="store_false", help="print errors only")
    p.add_argument("--procedures-dir", help="folder of CKP files that subflows may call")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("schema", help="print the CKP JSON Schema (Draft 2020-12)")
    p.set_defaults(func=cmd_schema)

    p = sub.add_parser("compile", help="compile a CKP file and print its node/edge summary")
    p.add_argument("file", metavar="FILE", help="a CKP file, or - for stdin")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.add_argument("--canonical", action="store_true", help="print the document in canonical CKP form")
    p.add_argument("--procedures-dir", help="folder of CKP files that subflows may call")
    p.set_defaults(func=cmd_compile)

    _add_server_commands(sub)
    _add_runtime_commands(sub)
    _add_worker_command(sub)
    _add_secrets_command(sub)
    _add_audit_command(sub)
    _add_keys_commands(sub)
    _add_triggers_command(sub)
    return parser


# --------------------------------------------------------------------------- server: migrate, import, serve
def _settings(db: str | None) -> Settings:
    from langorch.store.migrations import async_url

    settings = get_settings()
    if db:
        settings = settings.model_copy(update={"db": settings.db.model_copy(update={"url": async_url(db)})})
    return settings


def _migrate(url: str) -> bool:
    from alembic.util import CommandError
    from sqlalchemy.exc import SQLAlchemyError

    from langorch.store.migrations import MigrationsNotFound, upgrade

    try:
        upgrade(url)
    except (MigrationsNotFound, CommandError, SQLAlchemyError, OSError) as exc:
        print(f"langorch migrate: {exc}", file=sys.stderr)
        return False
    return True


def cmd_migrate(args: argparse.Namespace) -> int:
    settings = _settings(args.db)
    if not _migrate(settings.db.url):
        return EXIT_ERRORS
    print(f"database is at the latest schema: {_redact(settings.db.url)}")
    return EXIT_OK


def _redact(url: str) -> str:
    """Hide a password in a database URL before printing it."""
    if "@" not in url or "://" not in url:
        return url
    scheme, rest = url.split("://", 1)
    credentials, host = rest.rsplit("@", 1)
    user = credentials.split(":", 1)[0]
    return f"{scheme}://{user}{':***' if ':' in credentials else ''}@{host}"


def _files(paths: Sequence[str]) -> list[Path]:
    out: list[Path] = []
    for name in paths:
        path = Path(name)
        out.extend(sorted(path.glob("*.json")) if path.is_dir() else [path])
    return out


async def import_paths(paths: Sequence[str], url: str, *, status: str | None = None,
                       project_id: str | None = None, quiet: bool = False) -> Counter[str]:
    """Compile and store every CKP file under ``paths``; returns how many were created,
    updated, unchanged or failed. Problems are printed per file."""
    from sqlalchemy.exc import SQLAlchemyError

    from langorch.services import procedures
    from langorch.services.errors import ServiceError
    from langorch.services.procedures import InvalidCkp
    from langorch.store.db import make_engine, make_sessionmaker

    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    outcome: Counter[str] = Counter()
    try:
        for file in _files(paths):
            try:
                document: Any = json.loads(file.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, ValueError) as exc:
                print(f"{file}: cannot read: {exc}", file=sys.stderr)
                outcome["failed"] += 1
                continue
            if not isinstance(document, dict):
                print(f"{file}: not a CKP document (expected a JSON object)", file=sys.stderr)
                outcome["failed"] += 1
                continue
            async with sessions() as session:
                try:
                    saved = await procedures.import_document(session, document, status=status,
                                                             project_id=project_id, created_by="cli:import")
                except InvalidCkp as exc:
                    for diag in exc.details or []:
                        if diag.get("severity") == "error":
                            print(f"{file}:{diag.get('path') or '/'}: error {diag.get('code')}: "
                                  f"{diag.get('message')}", file=sys.stderr)
                    print(f"{file}: FAILED — {exc.message}", file=sys.stderr)
                    outcome["failed"] += 1
                    continue
                except ServiceError as exc:
                    print(f"{file}: FAILED — {exc.message}", file=sys.stderr)
                    outcome["failed"] += 1
                    continue
                except SQLAlchemyError as exc:
                    print(f"{file}: database error: {type(exc).__name__}: {str(exc).splitlines()[0]} "
                          "(did you run `langorch migrate`?)", file=sys.stderr)
                    outcome["failed"] += 1
                    continue
            outcome[saved.action] += 1
            if not quiet:
                print(f"{file}: {saved.action} {saved.row.procedure_id} v{saved.row.version} "
                      f"({saved.row.status}, {len(saved.warnings)} warning(s))")
    finally:
        await engine.dispose()
    return outcome


def _import_summary(outcome: Counter[str]) -> str:
    parts = [f"{outcome[key]} {key}" for key in ("created", "updated", "unchanged", "failed") if outcome[key]]
    return ", ".join(parts) or "nothing to import"


def cmd_import(args: argparse.Namespace) -> int:
    settings = _settings(args.db)
    missing = [p for p in args.paths if not Path(p).exists()]
    for path in missing:
        print(f"{path}: no such file or directory", file=sys.stderr)
    outcome = asyncio.run(import_paths([p for p in args.paths if p not in missing], settings.db.url,
                                       status=args.status, project_id=args.project_id))
    print(f"import: {_import_summary(outcome)}", file=sys.stderr)
    if missing:
        return EXIT_BAD_INPUT
    return EXIT_ERRORS if outcome["failed"] else EXIT_OK


async def _serve(server: Any, url: str) -> None:
    task = asyncio.create_task(server.serve())
    while not server.started and not task.done():
        await asyncio.sleep(0.05)
    if server.started:
        print(f"\nLangOrch is serving on {url}  (API docs {url}/docs, health {url}/api/health)\n", flush=True)
    await task


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from langorch.api.app import create_app

    settings = _settings(args.db)
    if args.no_worker:
        settings = settings.model_copy(update={"worker": settings.worker.model_copy(update={"embedded": False})})
    if not args.no_migrate and not _migrate(settings.db.url):
        return EXIT_ERRORS
    for folder in args.load_examples or []:
        if not Path(folder).is_dir():
            print(f"--load-examples {folder}: not a directory", file=sys.stderr)
            return EXIT_BAD_INPUT
        outcome = asyncio.run(import_paths([folder], settings.db.url, quiet=True))
        print(f"examples from {folder}: {_import_summary(outcome)}", file=sys.stderr)
    host = args.host or settings.api.host
    port = args.port or settings.api.port
    logs.configure(args.log_level, args.log_format or settings.log_format)
    config = uvicorn.Config(create_app(settings), host=host, port=port, log_level=args.log_level,
                            lifespan="on", proxy_headers=True, log_config=None)
    server = uvicorn.Server(config)
    shown = f"[{host}]" if ":" in host else host
    asyncio.run(_serve(server, f"http://{shown}:{port}"))
    return EXIT_OK


def _add_server_commands(sub: Any) -> None:
    p = sub.add_parser("migrate", help="bring the database to the latest schema (alembic upgrade head)")
    p.add_argument("--db", help="database URL (default: LANGORCH_DB__URL or sqlite ./var/langorch.db)")
    p.set_defaults(func=cmd_migrate)

    p = sub.add_parser("import", help="compile CKP files and store them as procedures")
    p.add_argument("paths", nargs="+", metavar="FILE_OR_DIR", help="CKP files, or folders of *.json files")
    p.add_argument("--db", help="database URL (default: LANGORCH_DB__URL)")
    p.add_argument("--status", choices=("draft", "active", "deprecated", "archived"),
                   help="status to give the imported versions (default: the CKP's own status, else draft)")
    p.add_argument("--project-id", help="file the imported procedures under this project")
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("serve", help="migrate, optionally import examples, and serve the API")
    p.add_argument("--host", help="interface to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, help="port (default 8000)")
    p.add_argument("--db", help="database URL (default: LANGORCH_DB__URL)")
    p.add_argument("--load-examples", action="append", metavar="DIR", help="import the CKP files of DIR first")
    p.add_argument("--no-worker", action="store_true", help="do not run the embedded worker")
    p.add_argument("--no-migrate", action="store_true", help="skip `migrate` at start-up")
    p.add_argument("--log-level", default="info", choices=("critical", "error", "warning", "info", "debug"))
    p.add_argument("--log-format", choices=("text", "json"), help="default LANGORCH_LOG_FORMAT, else text")
    p.set_defaults(func=cmd_serve)


def _add_runtime_commands(sub: Any) -> None:
    from langorch.run_commands import add_commands

    add_commands(sub)


def _add_worker_command(sub: Any) -> None:
    from langorch.worker.cli import add_worker_command

    add_worker_command(sub)


def _add_secrets_command(sub: Any) -> None:
    from langorch.secrets_cli import add_secrets_command

    add_secrets_command(sub)


def _add_audit_command(sub: Any) -> None:
    from langorch.audit_cli import add_audit_command

    add_audit_command(sub)


def _add_keys_commands(sub: Any) -> None:
    from langorch.keys_cli import add_keys_commands

    add_keys_commands(sub)


def _add_triggers_command(sub: Any) -> None:
    from langorch.triggers_cli import add_triggers_command

    add_triggers_command(sub)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.func(args)
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader went away (`langorch schema | head`): stop quietly, as other tools do.
        # Point stdout at /dev/null so the interpreter's own flush at exit cannot fail again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141
    return code


if __name__ == "__main__":
    sys.exit(main())
