"""Parser: JSON text → typed CKP model plus diagnostics.

Limits are enforced before any parsing; JSON syntax errors carry line and column;
each node is validated on its own so one broken node never hides the others;
fields the models do not know are kept and reported as warnings.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError

from langorch.ckp.catalog import TRANSFORMATIONS
from langorch.ckp.diagnostics import Code, Diagnostic, error, pointer, warning
from langorch.ckp.dialects import KeyedObject, normalize_dialect
from langorch.ckp.models import FieldNames, fields_where
from langorch.ckp.nodes import NODE_ADAPTER, NODE_TYPES, Node, Procedure

MAX_BYTES = 5 * 1024 * 1024
MAX_NODES = 5000
MAX_DEPTH = 64


@dataclass
class ParseResult:
    """What the parser produced: the model (None when the document is unusable)."""

    procedure: Procedure | None
    diagnostics: list[Diagnostic] = field(default_factory=list)
    raw: dict[str, Any] | None = None
    invalid_nodes: set[str] = field(default_factory=set)
    """Ids of nodes present in the document whose payload failed validation."""


def parse_text(text: str | bytes) -> ParseResult:
    """Parse CKP JSON text. Never raises for bad input: problems are diagnostics."""
    size = len(text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text)
    if size > MAX_BYTES:
        return ParseResult(
            None,
            [error(Code.INPUT_TOO_LARGE, "", f"document is {size} bytes; the limit is {MAX_BYTES}",
                   "split the procedure into subflows")],
        )
    try:
        data = json.loads(text, object_pairs_hook=_object)
    except json.JSONDecodeError as exc:
        return ParseResult(
            None,
            [error(Code.JSON_SYNTAX, "", f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}",
                   "fix the JSON syntax at that position")],
        )
    except UnicodeDecodeError as exc:
        return ParseResult(None, [error(Code.JSON_SYNTAX, "", f"not UTF-8 text: {exc.reason}",
                                        "save the file as UTF-8")])
    except RecursionError:
        return ParseResult(None, [_too_deep()])
    return parse_data(data)


def parse_data(data: Any) -> ParseResult:
    """Validate an already-decoded JSON value as a CKP document."""
    if not isinstance(data, dict):
        return ParseResult(
            None,
            [error(Code.NOT_AN_OBJECT, "", f"a CKP document is a JSON object, got {_json_type(data)}")],
        )
    if _depth_exceeds(data, MAX_DEPTH):
        return ParseResult(None, [_too_deep()])
    diagnostics: list[Diagnostic] = []
    data = normalize_dialect(data, diagnostics)
    graph = data.get("workflow_graph")
    nodes_raw = graph.get("nodes") if isinstance(graph, dict) else None
    if isinstance(nodes_raw, dict) and len(nodes_raw) > MAX_NODES:
        diagnostics.append(error(Code.TOO_MANY_NODES, "/workflow_graph/nodes",
                                 f"the procedure has {len(nodes_raw)} nodes; the limit is {MAX_NODES}",
                                 "split the procedure into subflows"))
        return ParseResult(None, diagnostics, data)

    # Fast path: a valid document validates in one call. Only a failing one is
    # validated again piece by piece, so one broken node never hides the others.
    try:
        procedure: Procedure | None = Procedure.model_validate(data)
    except ValidationError:
        procedure = None
    except RecursionError:
        return ParseResult(None, [*diagnostics, _too_deep()], data)
    invalid: set[str] = set()
    if procedure is None:
        procedure, invalid = _validate_piecewise(data, graph, nodes_raw, diagnostics)
    elif nodes_raw is None:
        diagnostics.append(_missing_nodes())
    if procedure is not None:
        diagnostics.extend(_unknown_fields(procedure, ()))
    return ParseResult(procedure, diagnostics, data, invalid)


def _validate_piecewise(data: dict[str, Any], graph: Any, nodes_raw: Any,
                        diagnostics: list[Diagnostic]) -> tuple[Procedure | None, set[str]]:
    """Validate the root without its nodes, then each node on its own."""
    shell = dict(data)
    if isinstance(graph, dict):
        shell["workflow_graph"] = {k: v for k, v in graph.items() if k != "nodes"}
    procedure: Procedure | None
    try:
        procedure = Procedure.model_validate(shell)
    except ValidationError as exc:
        diagnostics.extend(_from_validation_error(exc, shell, ()))
        procedure = None

    nodes: dict[str, Node] = {}
    invalid: set[str] = set()
    if graph is not None and not isinstance(graph, dict):
        pass  # reported by the root validation above
    elif nodes_raw is None:
        diagnostics.append(_missing_nodes())
    elif not isinstance(nodes_raw, dict):
        diagnostics.append(error(Code.WRONG_TYPE, "/workflow_graph/nodes",
                                 f"workflow_graph.nodes must be an object mapping node ids to nodes, "
                                 f"got {_json_type(nodes_raw)}"))
    else:
        for node_id, raw_node in nodes_raw.items():
            base = ("workflow_graph", "nodes", node_id)
            if isinstance(raw_node, dict) and raw_node.get("type") not in NODE_TYPES and "type" in raw_node:
                diagnostics.append(error(
                    Code.UNKNOWN_NODE_TYPE, pointer(*base, "type"),
                    f"unknown node type {raw_node.get('type')!r}",
                    "use one of: " + ", ".join(NODE_TYPES)))
                invalid.add(node_id)
                continue
            try:
                nodes[node_id] = NODE_ADAPTER.validate_python(raw_node)
            except ValidationError as exc:
                diagnostics.extend(_from_validation_error(exc, raw_node, base))
                invalid.add(node_id)

    if procedure is not None:
        procedure.workflow_graph.nodes = nodes
    return procedure, invalid


# ----------------------------------------------------------------------------- helpers
def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) == len(pairs):
        return obj
    seen: set[str] = set()
    dups = []
    for key, _ in pairs:
        if key in seen:
            dups.append(key)
        seen.add(key)
    keyed = KeyedObject(obj)
    keyed.duplicates = tuple(dups)
    return keyed


def _missing_nodes() -> Diagnostic:
    return error(Code.MISSING_FIELD, "/workflow_graph/nodes", "workflow_graph.nodes is missing",
                 "add a map of node id → node definition")


def _too_deep() -> Diagnostic:
    return error(Code.TOO_DEEP, "", f"document nests deeper than {MAX_DEPTH} levels",
                 "flatten deeply nested values")


_CONTAINERS = (dict, list)


def _depth_exceeds(value: Any, limit: int) -> bool:
    """Whether containers nest deeper than ``limit`` (the root counts as level 1).

    Walks one level at a time so that the whole check runs in list comprehensions.
    """
    level: list[Any] = [value]
    depth = 0
    while level:
        depth += 1
        if depth > limit:
            return True
        below: list[Any] = []
        for container in level:
            items = container.values() if isinstance(container, dict) else container
            below.extend([v for v in items if isinstance(v, _CONTAINERS)])
        level = below
    return False


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


_TYPE_ERRORS = {"string_type", "int_type", "float_type", "bool_type", "dict_type", "list_type",
                "model_type", "int_parsing", "float_parsing", "bool_parsing", "int_from_float",
                "model_attributes_type", "string_sub_type", "is_instance_of"}


def _from_validation_error(exc: ValidationError, raw: Any, base: tuple[str | int, ...]) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    seen: set[tuple[str, str]] = set()
    for err in exc.errors(include_url=False):
        loc = _real_location(raw, err["loc"], err["type"])
        if loc is None:
            continue
        path = pointer(*base, *loc)
        kind = err["type"]
        if kind == "missing":
            code, msg = Code.MISSING_FIELD, f"required field {loc[-1]!r} is missing" if loc else "missing"
            hint = "add the field"
        elif kind in _TYPE_ERRORS:
            got = _json_type(err.get("input"))
            code, msg, hint = Code.WRONG_TYPE, f"{_subject(loc, err['msg'])} (got {got})", ""
        elif kind == "union_tag_not_found":
            code, msg = Code.MISSING_FIELD, "node has no 'type'"
            hint = "set type to one of: " + ", ".join(NODE_TYPES)
            path = pointer(*base, "type")
        elif kind == "literal_error" and len(loc) >= 3 and loc[-1] == "type" and loc[-3] == "transformations":
            code, msg = Code.UNKNOWN_TRANSFORMATION, f"unknown transformation {err.get('input')!r}"
            hint = "use one of: " + ", ".join(sorted(TRANSFORMATIONS))
        elif kind == "string_pattern_mismatch" and loc in (("procedure_id",), ("version",)):
            code, msg = Code.INVALID_VALUE, f"{loc[0]!r} {_short(err.get('input'))} is not a valid identifier"
            field = str(loc[0])
            hint = ("use letters, digits, '_', '.', '-'" + (", '+'" if field == "version" else "")
                    + " (a letter, digit or '_' first), no '/' or spaces")
        elif kind == "extra_forbidden":
            code, msg = Code.UNKNOWN_FIELD, f"unexpected field {loc[-1]!r}" if loc else err["msg"]
            hint = "use 'required'/'optional' maps or a flat {name: spec} map, not both"
        else:
            code, msg, hint = Code.INVALID_VALUE, f"{_subject(loc, err['msg'])} (got {_short(err.get('input'))})", ""
        key = (path, msg)
        if key in seen:
            continue
        seen.add(key)
        out.append(error(code, path, msg, hint))
    return out


def _subject(loc: tuple[str | int, ...], message: str) -> str:
    """Pydantic's "Input should be ..." with the field named: "timeout_ms should be ..."."""
    name = f"{loc[-1]!r}" if loc and isinstance(loc[-1], str) else f"item {loc[-1]}" if loc else "the value"
    if message.startswith("Input "):
        return f"{name} {message[len('Input '):]}"
    return f"{name}: {message[:1].lower()}{message[1:]}"


def _short(value: Any) -> str:
    text = json.dumps(value, default=str) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _real_location(raw: Any, loc: tuple[int | str, ...], kind: str) -> tuple[str | int, ...] | None:
    """Drop union-member tags pydantic inserts into ``loc`` (they are not in the input).

    Returns None when the error cannot be placed in the input.
    """
    out: list[str | int] = []
    current = raw
    parts = list(loc)
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        if isinstance(current, dict):
            if part in current:
                out.append(part)
                current = current[part]
                continue
            if last and kind in ("missing", "extra_forbidden"):
                out.append(part)
                continue
            continue  # a union tag
        if isinstance(current, list) and isinstance(part, int) and 0 <= part < len(current):
            out.append(part)
            current = current[part]
            continue
        if last and kind == "missing":
            out.append(part)
        continue
    return tuple(out)


def _unknown_fields(model: BaseModel, base: tuple[str | int, ...]) -> list[Diagnostic]:
    """A warning for every field the models do not know, anywhere in ``model``."""
    out: list[Diagnostic] = []
    _walk_unknown(model, list(base), out)
    out.sort(key=lambda d: d.path)
    return out


def _walk_unknown(model: BaseModel, path: list[str | int], out: list[Diagnostic]) -> None:
    """Report the extras of ``model`` (at ``path``) and of every model inside it.

    Models nest no deeper than the document (checked against :data:`MAX_DEPTH` first);
    models without extras or model fields (most steps and operations) cost one check.
    """
    extra = model.__pydantic_extra__
    if extra:
        for key in extra:
            if not key.startswith("$"):
                out.append(warning(Code.UNKNOWN_FIELD, pointer(*path, key),
                                   f"unknown field {key!r} is kept but not used by LangOrch",
                                   "check the spelling against docs/ckp.md"))
    for name, alias in _model_children(type(model)):
        value = getattr(model, name)
        if value is None:
            continue
        path.append(alias)
        if isinstance(value, BaseModel):
            _walk_unknown(value, path, out)
        elif isinstance(value, list | dict):
            items: Any = value.items() if isinstance(value, dict) else enumerate(value)
            for where, item in items:
                if isinstance(item, BaseModel) and (item.__pydantic_extra__ or _model_children(type(item))):
                    path.append(where)
                    _walk_unknown(item, path, out)
                    path.pop()
        path.pop()


def _model_children(cls: type[BaseModel]) -> FieldNames:
    """(attribute, JSON name) of the fields of ``cls`` that may hold models."""
    return fields_where(cls, _is_model_class)


def _is_model_class(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)
