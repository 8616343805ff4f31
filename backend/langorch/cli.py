"""``langorch`` command line: validate | schema | compile | run | resume | serve | worker | migrate."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from langorch.ckp import compile_text
from langorch.ckp.compiler import CompileResult
from langorch.ckp.diagnostics import Severity
from langorch.ckp.schema import ckp_json_schema

EXIT_OK, EXIT_ERRORS, EXIT_BAD_INPUT, EXIT_WAITING = 0, 1, 2, 3


def _read(path: str) -> str | None:
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        print(f"{path}: cannot read: {exc.strerror if isinstance(exc, OSError) else exc}", file=sys.stderr)
        return None


def folder_resolver(folder: str | None) -> Any:
    """A subflow resolver over the ``*.json`` files of a folder (for the CLI)."""
    if not folder:
        return None
    docs: dict[str, list[dict[str, Any]]] = {}
    for file in sorted(Path(folder).glob("*.json")):
        try:
            data = json.loads(file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(data, dict) and isinstance(data.get("procedure_id"), str):
            docs.setdefault(data["procedure_id"], []).append(data)

    def resolve(procedure_id: str, version: str | None) -> dict[str, Any] | None:
        for doc in docs.get(procedure_id, []):
            if version is None or doc.get("version") == version:
                return doc
        return None

    return resolve


def cmd_validate(args: argparse.Namespace) -> int:
    worst = EXIT_OK
    report: list[dict[str, Any]] = []
    resolver = folder_resolver(args.procedures_dir)
    for path in args.files:
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
            worst = max(worst, EXIT_ERRORS) if worst != EXIT_BAD_INPUT else worst
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
        print(json.dumps(result.procedure.model_dump(mode="json", by_alias=True, exclude_unset=True), indent=2))
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
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.add_argument("--no-warnings", dest="warnings", action="store_false", help="print errors only")
    p.add_argument("--procedures-dir", help="folder of CKP files that subflows may call")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("schema", help="print the CKP JSON Schema (Draft 2020-12)")
    p.set_defaults(func=cmd_schema)

    p = sub.add_parser("compile", help="compile a CKP file and print its node/edge summary")
    p.add_argument("file", metavar="FILE")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.add_argument("--canonical", action="store_true", help="print the document in canonical CKP form")
    p.add_argument("--procedures-dir", help="folder of CKP files that subflows may call")
    p.set_defaults(func=cmd_compile)

    _add_runtime_commands(sub)
    return parser


def _add_runtime_commands(sub: Any) -> None:
    try:
        from langorch.run_cli import add_commands
    except ImportError:  # runtime extras not installed
        return
    add_commands(sub)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    code: int = args.func(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
