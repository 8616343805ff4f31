"""The operations of a ``processing`` node (and of a terminate node's cleanup/error actions).

Each operation is the raw CKP dict (``{"action": "set_variable", "variable": ..., ...}``).
``run_operations`` runs them in order; each sees the variables set by the ones before it,
and the result is every variable update, for the caller to merge into the run's state.

Fields are rendered with ``langorch.runtime.templating`` just before use, so a value that
is exactly ``"{{x}}"`` keeps its type. ``source`` may also be the bare name of a variable
(``"source": "raw_text"``). Every failure is a ``StepError`` (non-retryable: running the
same operation on the same data fails the same way) whose message names the node, the
operation's index and its action.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import xml.etree.ElementTree as ET
import zipfile
from collections import ChainMap
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import openpyxl
from openpyxl.utils.exceptions import InvalidFileException

from langorch.runtime.conditions import evaluate, to_number, truthy
from langorch.runtime.errors import StepError
from langorch.runtime.templating import render, render_text

__all__ = ["OpContext", "SUPPORTED_OPERATIONS", "run_operations"]

_IDENT_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_BRACED_NAME_RE = re.compile(r"\A\s*\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}\s*\Z")
_LEVELS = {"DEBUG": "DEBUG", "INFO": "INFO", "WARN": "WARNING", "WARNING": "WARNING", "ERROR": "ERROR"}
_BOOL_WORDS = frozenset({"true", "false", "yes", "no", "on", "off", "1", "0", ""})
_HASHES = ("md5", "sha1", "sha224", "sha256", "sha384", "sha512")


@dataclass
class OpContext:
    """What an operation may touch besides the variables."""

    scope: Mapping[str, Any]
    """The run's variables before the first operation."""
    node_id: str
    """The node running the operations; named in every error message."""
    log: Callable[[str, str], Awaitable[None]]
    """``await log(level, message)`` with level DEBUG, INFO, WARNING or ERROR."""
    notify: Callable[[Mapping[str, Any], int, Mapping[str, Any]], Awaitable[None]] | None = None
    """``await notify(op, index, updates)`` delivers a ``notify`` operation (its raw fields, its
    index, the variables the operations before it set); without it, a notify fails."""
    resolve_path: Callable[[str], Path] | None = None
    """A file path a procedure names → the path inside the run's work folder (PathNotAllowed
    outside it); without it, operations read no files."""
    first_index: int = 0
    """The index of the first operation in its node (operations run one at a time keep theirs)."""


class _Op:
    """One operation being run: its fields, the current scope and how to name it."""

    def __init__(self, op: Mapping[str, Any], index: int, scope: Mapping[str, Any], ctx: OpContext,
                 updates: Mapping[str, Any]) -> None:
        self.op = op
        self.index = index
        self.action = str(op.get("action", ""))
        self.scope = scope
        self.ctx = ctx
        self.updates = updates
        self.where = f"node '{ctx.node_id}' operation {index} ({self.action})"

    def fail(self, message: str, error_type: str = "OperationError", **details: Any) -> StepError:
        return StepError(
            f"{self.where}: {message}", error_type=error_type, retryable=False, details=details or None
        )

    def field(self, name: str, default: Any = None) -> Any:
        if name not in self.op:
            return default
        return render(self.op[name], self.scope, where=f"{self.where} field '{name}'")

    def text(self, name: str, default: str = "") -> str:
        raw = self.op.get(name)
        if raw is None:
            return default
        return render_text(str(raw), self.scope, where=f"{self.where} field '{name}'")

    def required(self, *names: str) -> str:
        for name in names:
            value = self.op.get(name)
            if isinstance(value, str) and value.strip():
                match = _BRACED_NAME_RE.match(value)
                return match.group(1) if match else value.strip()
        raise self.fail(f"needs '{names[0]}' (the variable to write)", "InvalidOperation")

    def source(self) -> Any:
        """The ``source`` field (or ``value``), rendered; a bare variable name reads it."""
        name = "source" if "source" in self.op else "value"
        raw = self.op.get(name)
        if raw is None:
            raise self.fail("needs 'source'", "InvalidOperation")
        if isinstance(raw, str) and _IDENT_RE.fullmatch(raw.strip()) and raw.strip() in self.scope:
            return self.scope[raw.strip()]
        return self.field(name)


async def _set_variable(o: _Op) -> dict[str, Any]:
    target = o.required("variable", "output_variable")
    if "value" not in o.op and "expression" in o.op:
        return {target: evaluate(str(o.op["expression"]), o.scope, node_id=o.ctx.node_id)}
    return {target: o.field("value")}


async def _append_to_array(o: _Op) -> dict[str, Any]:
    name = o.required("array", "variable")
    current = o.scope.get(name)
    if current is None:
        current = []
    if not isinstance(current, list | tuple):
        raise o.fail(f"variable '{name}' is a {type(current).__name__}, not an array", "TypeError")
    return {o.op.get("output_variable") or name: [*current, o.field("value")]}


async def _parse_json(o: _Op) -> dict[str, Any]:
    data = o.source()
    if isinstance(data, str | bytes):
        try:
            data = json.loads(data)
        except json.JSONDecodeError as exc:
            raise o.fail(f"source is not valid JSON: {exc}", "ParseError") from None
    return {o.required("output_variable"): data}


async def _parse_csv(o: _Op) -> dict[str, Any]:
    data = o.source()
    if isinstance(data, list) and all(isinstance(row, Mapping) for row in data):
        return {o.required("output_variable"): data}
    text = "\n".join(map(str, data)) if isinstance(data, list) else str(data)
    delimiter = o.text("delimiter", ",") or ","
    if len(delimiter) != 1:
        raise o.fail(f"delimiter must be one character, got {delimiter!r}", "InvalidOperation")
    try:
        rows = [dict(row) for row in csv.DictReader(io.StringIO(text.strip()), delimiter=delimiter)]
    except csv.Error as exc:
        raise o.fail(f"source is not valid CSV: {exc}", "ParseError") from None
    return {o.required("output_variable"): rows}


def _xml_to_value(element: ET.Element) -> Any:
    children = list(element)
    text = (element.text or "").strip()
    if not children and not element.attrib:
        return text
    out: dict[str, Any] = {f"@{key}": value for key, value in element.attrib.items()}
    for child in children:
        value = _xml_to_value(child)
        if child.tag in out:
            existing = out[child.tag]
            out[child.tag] = [*existing, value] if isinstance(existing, list) else [existing, value]
        else:
            out[child.tag] = value
    if text:
        out["#text"] = text
    return out


async def _parse_xml(o: _Op) -> dict[str, Any]:
    data = o.source()
    try:
        root = ET.fromstring(str(data).strip())
    except ET.ParseError as exc:
        raise o.fail(f"source is not valid XML: {exc}", "ParseError") from None
    return {o.required("output_variable"): {root.tag: _xml_to_value(root)}}


def _rows_to_dicts(rows: Sequence[Any]) -> list[dict[str, Any]]:
    """Dict rows pass through; list rows use the first row as the header."""
    if not rows or all(isinstance(row, Mapping) for row in rows):
        return [dict(row) for row in rows]
    header = [str(cell) for cell in rows[0]]
    return [dict(zip(header, row, strict=False)) for row in rows[1:] if any(c is not None for c in row)]


def _read_sheet(o: _Op, path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        raise o.fail(f"file not found: {path}", "FileNotFound", path=str(path))
    if path.suffix.lower() in (".csv", ".tsv", ".txt"):
        delimiter = "\t" if path.suffix.lower() == ".tsv" else (o.text("delimiter", ",") or ",")
        with path.open(newline="", encoding="utf-8-sig") as handle:
            return [dict(row) for row in csv.DictReader(handle, delimiter=delimiter)]
    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError) as exc:
        raise o.fail(f"{path.name} is not a readable .xlsx workbook: {exc}", "ParseError", path=str(path)) from None
    try:
        sheet_name = o.text("sheet_name")
        if sheet_name and sheet_name not in workbook.sheetnames:
            raise o.fail(f"{path.name} has no sheet {sheet_name!r} (sheets: {', '.join(workbook.sheetnames)})",
                         "SheetNotFound", path=str(path))
        sheet = workbook[sheet_name] if sheet_name else workbook.active
        rows = [list(row) for row in sheet.iter_rows(values_only=True)] if sheet is not None else []
    finally:
        workbook.close()
    return _rows_to_dicts(rows)


async def _parse_excel_data(o: _Op) -> dict[str, Any]:
    data = o.source()
    if isinstance(data, str):
        data = [data]
    if not isinstance(data, list):
        raise o.fail(f"source must be rows or file paths, got {type(data).__name__}", "TypeError")
    if data and all(isinstance(item, str) for item in data):
        rows: list[dict[str, Any]] = []
        if o.ctx.resolve_path is None:
            raise o.fail("reading files is not available here", "FileError")
        for item in data:
            rows.extend(_read_sheet(o, o.ctx.resolve_path(item)))
        return {o.required("output_variable"): rows}
    if not all(isinstance(row, Mapping | list | tuple) for row in data):
        raise o.fail("source must be a list of rows (dicts or lists) or of file paths", "TypeError")
    return {o.required("output_variable"): _rows_to_dicts(data)}


async def _calculate(o: _Op) -> dict[str, Any]:
    expression = o.op.get("expression")
    if not isinstance(expression, str) or not expression.strip():
        raise o.fail("needs 'expression'", "InvalidOperation")
    return {o.required("output_variable", "variable"): evaluate(expression, o.scope, node_id=o.ctx.node_id)}


async def _format_string(o: _Op) -> dict[str, Any]:
    name = "template" if "template" in o.op else "value"
    return {o.required("output_variable", "variable"): o.text(name)}


async def _extract_regex(o: _Op) -> dict[str, Any]:
    data = o.source()
    pattern = o.text("pattern")
    try:
        match = re.search(pattern, "" if data is None else str(data))
    except re.error as exc:
        raise o.fail(f"bad regular expression {pattern!r}: {exc}", "InvalidOperation") from None
    result: Any = None
    if match is not None:
        groups = match.groups()
        result = match.group(0) if not groups else groups[0] if len(groups) == 1 else list(groups)
    return {o.required("output_variable"): result}


async def _hash(o: _Op) -> dict[str, Any]:
    data = o.source()
    algorithm = (o.text("algorithm", "sha256") or "sha256").lower().replace("-", "")
    if algorithm not in _HASHES:
        supported = ", ".join(_HASHES)
        raise o.fail(f"unknown hash algorithm {algorithm!r} (supported: {supported})", "InvalidOperation")
    payload = data if isinstance(data, str) else json.dumps(data, sort_keys=True, default=str)
    digest = hashlib.new(algorithm, payload.encode("utf-8")).hexdigest()
    return {o.required("output_variable"): digest}


def _convert(value: Any, target: str) -> Any:
    """Raises ValueError when ``value`` cannot become ``target``."""
    if target == "string":
        return value if isinstance(value, str) else "" if value is None else (
            json.dumps(value, default=str) if isinstance(value, dict | list) else str(value)
        )
    if target in ("number", "integer", "float"):
        number = to_number(value)
        if number is None:
            raise ValueError(f"{value!r} is not a number")
        if target == "integer":
            return int(number)
        return float(number) if target == "float" else number
    if target == "boolean":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() not in _BOOL_WORDS:
            raise ValueError(f"{value!r} is not a boolean")
        return truthy(value)
    if target in ("array", "list"):
        if isinstance(value, list | tuple):
            return list(value)
        if isinstance(value, str):
            if value.strip().startswith("["):
                return _convert(json.loads(value), "array")
            return [part.strip() for part in value.split(",") if part.strip()]
        return [] if value is None else [value]
    if target in ("object", "dict"):
        parsed = json.loads(value) if isinstance(value, str) else value
        if not isinstance(parsed, dict):
            raise ValueError(f"{value!r} is not an object")
        return parsed
    if target == "json":
        return json.dumps(value, default=str)
    raise ValueError(
        f"unknown target_type {target!r} (string, number, integer, boolean, array, object, json)"
    )


async def _convert_type(o: _Op) -> dict[str, Any]:
    data = o.source()
    target = o.text("target_type").strip().lower()
    try:
        result = _convert(data, target)
    except (ValueError, json.JSONDecodeError) as exc:
        raise o.fail(f"cannot convert to {target or '?'}: {exc}", "ConversionError") from None
    return {o.required("output_variable"): result}


async def _validate_schema(o: _Op) -> dict[str, Any]:
    data = o.source()
    schema = o.op.get("schema")
    if not isinstance(schema, dict):
        raise o.fail("needs 'schema' (a JSON Schema object)", "InvalidOperation")
    try:
        validator_cls = jsonschema.validators.validator_for(schema)
        validator_cls.check_schema(schema)
        errors = sorted(validator_cls(schema).iter_errors(data), key=lambda e: list(e.absolute_path))
    except jsonschema.SchemaError as exc:
        raise o.fail(f"the schema itself is invalid: {exc.message}", "InvalidOperation") from None
    if errors:
        problems = [f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}" for e in errors]
        raise o.fail(
            "data does not match the schema: " + "; ".join(problems), "SchemaValidationError", errors=problems
        )
    target = o.op.get("output_variable")
    return {str(target): True} if target else {}


async def _log(o: _Op) -> dict[str, Any]:
    level = _LEVELS.get(o.text("level", "INFO").strip().upper(), "INFO")
    await o.ctx.log(level, o.text("message") or o.text("value"))
    return {}


async def _notify(o: _Op) -> dict[str, Any]:
    if o.ctx.notify is None:
        raise o.fail("no notifier is wired to deliver it", "NotificationUndeliverable")
    await o.ctx.notify(o.op, o.index, o.updates)
    return {}


async def _unsupported(o: _Op) -> dict[str, Any]:
    raise o.fail(
        f"'{o.action}' is not supported: LangOrch does not hold encryption keys in procedures; "
        "call a secrets or crypto service through an agent step instead",
        "UnsupportedOperation",
    )


_HANDLERS: dict[str, Callable[[_Op], Awaitable[dict[str, Any]]]] = {
    "set_variable": _set_variable,
    "append_to_array": _append_to_array,
    "parse_json": _parse_json,
    "parse_csv": _parse_csv,
    "parse_xml": _parse_xml,
    "parse_excel_data": _parse_excel_data,
    "calculate": _calculate,
    "format_string": _format_string,
    "extract_regex": _extract_regex,
    "hash": _hash,
    "convert_type": _convert_type,
    "validate_schema": _validate_schema,
    "log": _log,
    "notify": _notify,
}

SUPPORTED_OPERATIONS: frozenset[str] = frozenset(_HANDLERS)
"""Actions ``run_operations`` runs; ``encrypt``/``decrypt`` are refused explicitly."""


async def run_operations(ops: Sequence[Mapping[str, Any]], ctx: OpContext) -> dict[str, Any]:
    """Run ``ops`` in order and return every variable they set.

    Each operation sees the updates of the ones before it. Raises ``StepError`` (or its
    ``TemplateError`` / ``ConditionError`` subclasses) naming the node and operation.
    """
    updates: dict[str, Any] = {}
    scope: ChainMap[str, Any] = ChainMap(updates, ctx.scope)  # type: ignore[arg-type]
    for index, raw in enumerate(ops):
        o = _Op(raw, ctx.first_index + index, scope, ctx, updates)
        handler = _HANDLERS.get(o.action)
        if o.action in ("encrypt", "decrypt"):
            handler = _unsupported
        if handler is None:
            raise o.fail(
                f"unknown action {o.action!r}; supported: {', '.join(sorted(SUPPORTED_OPERATIONS))}",
                "UnsupportedOperation",
            )
        updates.update(await handler(o))
    return updates
