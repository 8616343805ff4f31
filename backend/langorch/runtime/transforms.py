"""The transformations of a ``transform`` node: filter, map, aggregate, sort, deduplicate,
join, reduce and pivot over a list variable.

Expressions use the safe expression language (``langorch.runtime.conditions``). Per item,
the scope is the item's own fields, then ``item`` itself, then the run's variables — so
``status == 'failed'`` and ``item.status == 'failed'`` both work. Field names in
``params`` (``key``, ``on``, ``index``...) may be dotted paths (``customer.id``).
Every failure is a non-retryable ``StepError`` naming the transformation's index and type.
"""

from __future__ import annotations

import json
import re
from collections import ChainMap
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from langorch.runtime.conditions import evaluate, evaluate_condition, lookup_path, to_number
from langorch.runtime.errors import StepError

__all__ = ["SUPPORTED_TRANSFORMATIONS", "apply_transformation", "apply_transformations"]

_BRACES_RE = re.compile(r"\A\s*\{\{\s*(.*?)\s*\}\}\s*\Z", re.DOTALL)
_AGG_RE = re.compile(
    r"\A(?P<fn>count|sum|avg|mean|min|max)\s*(?:\(\s*(?P<field>[\w.]*)\s*\))?(?:\s+as\s+(?P<alias>\w+))?\Z"
)


class _Fail(Exception):
    """Internal: a message for the StepError raised at the boundary."""


def _strip_braces(name: str) -> str:
    match = _BRACES_RE.match(name)
    return match.group(1) if match else name.strip()


def _path(field: str) -> tuple[str | int, ...]:
    return tuple(int(p) if p.isdigit() else p for p in field.split("."))


def _get(item: Any, field: str | None) -> Any:
    if not field:
        return item
    return lookup_path({"_": item}, ("_", *_path(field)))


def _read_list(scope: Mapping[str, Any], name: Any, what: str) -> list[Any]:
    if not isinstance(name, str) or not name.strip():
        raise _Fail(f"needs '{what}' (a variable name)")
    path = _path(_strip_braces(name))
    if path[0] not in scope:
        raise _Fail(f"{what} '{_strip_braces(name)}' is not defined")
    value = lookup_path(scope, path)
    if value is None:
        return []
    if isinstance(value, Mapping):
        raise _Fail(f"{what} '{_strip_braces(name)}' is an object, not a list")
    if not isinstance(value, list | tuple):
        raise _Fail(f"{what} '{_strip_braces(name)}' is a {type(value).__name__}, not a list")
    return list(value)


def _item_scope(item: Any, scope: Mapping[str, Any], **extra: Any) -> Mapping[str, Any]:
    fields: Mapping[str, Any] = item if isinstance(item, Mapping) else {}
    return ChainMap({"item": item, **extra}, dict(fields), scope)  # type: ignore[arg-type]


def _expression(t: Mapping[str, Any], params: Mapping[str, Any], *, required: bool = True) -> str:
    expr = t.get("expression") or params.get("expression")
    if expr is None or (isinstance(expr, str) and not expr.strip()):
        if required:
            raise _Fail("needs 'expression'")
        return ""
    return str(expr)


def _filter(items: list[Any], t: Mapping[str, Any], p: Mapping[str, Any], scope: Mapping[str, Any]) -> Any:
    expr = _expression(t, p)
    return [item for item in items if evaluate_condition(expr, _item_scope(item, scope))]


def _map(items: list[Any], t: Mapping[str, Any], p: Mapping[str, Any], scope: Mapping[str, Any]) -> Any:
    fields = p.get("fields")
    if isinstance(fields, Mapping):
        out: list[Any] = []
        for item in items:
            item_scope = _item_scope(item, scope)
            out.append(
                {
                    name: evaluate(expr, item_scope) if isinstance(expr, str) else expr
                    for name, expr in fields.items()
                }
            )
        return out
    expr = _expression(t, p)
    return [evaluate(expr, _item_scope(item, scope)) for item in items]


def _numbers(values: list[Any], field: str) -> list[int | float]:
    out: list[int | float] = []
    for value in values:
        number = to_number(value)
        if number is None:
            raise _Fail(f"field '{field}' has a non-numeric value {value!r}")
        out.append(number)
    return out


def _aggregate_one(fn: str, field: str, items: list[Any]) -> Any:
    if fn == "count":
        return len(items) if not field else sum(1 for i in items if _get(i, field) is not None)
    if not field:
        raise _Fail(f"{fn}() needs a field, like {fn}(amount)")
    values = [v for v in (_get(item, field) for item in items) if v is not None]
    if not values:
        return None
    if fn in ("min", "max") and any(to_number(v) is None for v in values):
        try:
            return min(values) if fn == "min" else max(values)
        except TypeError:
            raise _Fail(f"{fn}({field}) over values that cannot be ordered") from None
    numbers = _numbers(values, field)
    if fn == "sum":
        return sum(numbers)
    if fn in ("avg", "mean"):
        return sum(numbers) / len(numbers)
    return min(numbers) if fn == "min" else max(numbers)


def _aggregate(items: list[Any], t: Mapping[str, Any], p: Mapping[str, Any], scope: Mapping[str, Any]) -> Any:
    specs: list[tuple[str, str, str]] = []
    for part in (s.strip() for s in _expression(t, p).split(",")):
        match = _AGG_RE.match(part)
        if not match:
            raise _Fail(f"cannot read aggregate {part!r}; use count, sum(f), avg(f), min(f), max(f)")
        fn, field = match.group("fn"), match.group("field") or ""
        alias = match.group("alias") or (f"{fn}_{field.replace('.', '_')}" if field else fn)
        specs.append((alias, fn, field))

    def stats(group: list[Any]) -> dict[str, Any]:
        return {alias: _aggregate_one(fn, field, group) for alias, fn, field in specs}

    group_by = p.get("group_by")
    if not group_by:
        return stats(items)
    groups: dict[str, list[Any]] = {}
    for item in items:
        groups.setdefault(str(_get(item, str(group_by))), []).append(item)
    return {key: stats(group) for key, group in groups.items()}


def _sort_key_field(t: Mapping[str, Any], p: Mapping[str, Any]) -> str | None:
    key = p.get("key") or p.get("by") or t.get("expression")
    return str(key).strip() if key else None


def _sort(items: list[Any], t: Mapping[str, Any], p: Mapping[str, Any], scope: Mapping[str, Any]) -> Any:
    field = _sort_key_field(t, p)
    order = str(p.get("order", "asc")).lower()
    if order not in ("asc", "desc"):
        raise _Fail(f"order must be 'asc' or 'desc', got {order!r}")
    keyed = [(_get(item, field), item) for item in items]
    present = [(k, item) for k, item in keyed if k is not None]
    missing = [item for k, item in keyed if k is None]
    numeric = all(to_number(k) is not None for k, _ in present)

    def sort_key(pair: tuple[Any, Any]) -> Any:
        return to_number(pair[0]) if numeric else pair[0]

    try:
        present.sort(key=sort_key, reverse=order == "desc")
    except TypeError:
        raise _Fail(f"cannot sort by {field or 'item'}: values of different types") from None
    return [item for _, item in present] + missing


def _identity(value: Any) -> Any:
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True, default=str)
    try:
        hash(value)
    except TypeError:
        return repr(value)
    return value


def _deduplicate(
    items: list[Any], t: Mapping[str, Any], p: Mapping[str, Any], scope: Mapping[str, Any]
) -> Any:
    field = _sort_key_field(t, p)
    seen: set[Any] = set()
    out: list[Any] = []
    for item in items:
        key = _identity(_get(item, field))
        if key not in seen:
            seen.add(key)
            out.append(item)
    return out


def _join(items: list[Any], t: Mapping[str, Any], p: Mapping[str, Any], scope: Mapping[str, Any]) -> Any:
    other = _read_list(scope, p.get("with"), "params.with")
    on = p.get("on") or t.get("expression")
    if not on:
        raise _Fail("needs params.on (the field both lists share)")
    left_on = str(p.get("left_on") or on)
    right_on = str(p.get("right_on") or on)
    how = str(p.get("how", "inner")).lower()
    if how not in ("inner", "left"):
        raise _Fail(f"how must be 'inner' or 'left', got {how!r}")
    index: dict[Any, list[Mapping[str, Any]]] = {}
    for row in other:
        if isinstance(row, Mapping):
            index.setdefault(_identity(_get(row, right_on)), []).append(row)
    out: list[dict[str, Any]] = []
    for item in items:
        if not isinstance(item, Mapping):
            raise _Fail(f"join needs objects, got {item!r}")
        matches = index.get(_identity(_get(item, left_on)), [])
        out.extend({**item, **match} for match in matches)
        if not matches and how == "left":
            out.append(dict(item))
    return out


def _reduce(items: list[Any], t: Mapping[str, Any], p: Mapping[str, Any], scope: Mapping[str, Any]) -> Any:
    expr = _expression(t, p)
    acc = p.get("initial")
    for item in items:
        acc = evaluate(expr, _item_scope(item, scope, acc=acc))
    return acc


def _pivot(items: list[Any], t: Mapping[str, Any], p: Mapping[str, Any], scope: Mapping[str, Any]) -> Any:
    index, columns, values = p.get("index"), p.get("columns"), p.get("values")
    if not (index and columns and values):
        raise _Fail("needs params.index, params.columns and params.values")
    how = str(p.get("aggregate", "last")).lower()
    if how not in ("last", "first", "sum", "count"):
        raise _Fail(f"aggregate must be last, first, sum or count, got {how!r}")
    table: dict[str, dict[str, Any]] = {}
    for item in items:
        row = table.setdefault(str(_get(item, str(index))), {})
        column, value = str(_get(item, str(columns))), _get(item, str(values))
        if how == "last" or column not in row:
            row[column] = 1 if how == "count" else value
        elif how == "sum":
            row[column] = sum(_numbers([row[column], value], str(values)))
        elif how == "count":
            row[column] += 1
    return table


_Impl = Callable[[list[Any], Mapping[str, Any], Mapping[str, Any], Mapping[str, Any]], Any]
_IMPLS: dict[str, _Impl] = {
    "filter": _filter,
    "map": _map,
    "aggregate": _aggregate,
    "sort": _sort,
    "deduplicate": _deduplicate,
    "join": _join,
    "reduce": _reduce,
    "pivot": _pivot,
}

SUPPORTED_TRANSFORMATIONS: frozenset[str] = frozenset(_IMPLS)


def apply_transformation(
    t: Mapping[str, Any], scope: Mapping[str, Any], *, index: int | None = None, node_id: str = ""
) -> dict[str, Any]:
    """Run one transformation and return ``{output_variable: result}``.

    Raises a non-retryable ``StepError`` naming the transformation (``index``, type) and
    ``node_id``; a bad expression inside raises ``ConditionError`` with the same prefix.
    """
    kind = str(t.get("type", ""))
    label = f"transformation {index} ({kind})" if index is not None else f"transformation ({kind})"
    if node_id:
        label += f" in node '{node_id}'"
    try:
        impl = _IMPLS.get(kind)
        if impl is None:
            raise _Fail(f"unknown type {kind!r}; supported: {', '.join(sorted(_IMPLS))}")
        output = t.get("output_variable")
        if not isinstance(output, str) or not output.strip():
            raise _Fail("needs 'output_variable'")
        params = t.get("params") or {}
        if not isinstance(params, Mapping):
            raise _Fail("params must be an object")
        items = _read_list(scope, t.get("source_variable"), "source_variable")
        return {_strip_braces(output): impl(items, t, params, scope)}
    except _Fail as exc:
        details = {"type": kind, "index": index}
        message = f"{label}: {exc}"
        raise StepError(message, error_type="TransformError", retryable=False, details=details) from None
    except StepError as exc:
        exc.message = f"{label}: {exc.message}"
        exc.args = (exc.message,)
        raise


def apply_transformations(
    transformations: Sequence[Mapping[str, Any]], scope: Mapping[str, Any], *, node_id: str = ""
) -> dict[str, Any]:
    """Run transformations in order, each seeing the outputs of the ones before it."""
    updates: dict[str, Any] = {}
    overlay: Mapping[str, Any] = ChainMap(updates, scope)  # type: ignore[arg-type]
    for index, t in enumerate(transformations):
        updates.update(apply_transformation(t, overlay, index=index, node_id=node_id))
    return updates
