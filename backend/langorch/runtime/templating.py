"""Render ``{{ }}`` templates in node inputs against a run's variables.

On the hot path of every node, so:

* a string with neither ``{{`` nor ``{%`` is returned as is, without touching jinja;
* templates and expressions are compiled once (LRU cache) in one module-level
  ``SandboxedEnvironment(undefined=StrictUndefined)``;
* a string that is exactly one ``{{ expr }}`` keeps its value's type (a list stays a
  list, an int an int); anything else renders to text, where dicts and lists print as
  JSON, booleans as ``true``/``false`` and ``None`` as the empty string.

Helpers CKP files use: on lists ``.length`` ``.count`` ``.size`` ``.first`` ``.last``
``.sum('f')`` ``.avg('f')`` ``.min('f')`` ``.max('f')`` (numeric strings count as
numbers; without a field the items themselves are used); on strings ``.length``
``.count`` ``.size``. A dict key always wins over a same-named method
(``{{ result.items }}`` is ``result['items']``). Filters: jinja's, plus ``json`` and
``fromjson``.

``{{secrets.NAME}}`` (and ``{{secrets.NAME.field}}``) renders to a reference to the secret,
never its value (runtime/redaction.py); the value goes only into the outgoing call that
sends it (``RunContext.reveal``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache
from typing import Any

from jinja2 import StrictUndefined, Template, TemplateSyntaxError, Undefined, UndefinedError
from jinja2.environment import TemplateExpression
from jinja2.exceptions import SecurityError
from jinja2.sandbox import SandboxedEnvironment

from langorch.ckp.templates import EXTRA_FILTERS, has_template, normalize_template, template_references
from langorch.runtime.conditions import lookup_path, to_number
from langorch.runtime.errors import TemplateError
from langorch.runtime.redaction import SecretReference

__all__ = ["render", "render_text"]

_LEN_FIELDS = frozenset({"length", "count", "size"})
_EXACT_RE = re.compile(r"\A\s*\{\{(?P<expr>.*)\}\}\s*\Z", re.DOTALL)


def _field_values(items: Sequence[Any], field: str | None) -> list[Any]:
    if field is None:
        return [item for item in items if item is not None]
    values: list[Any] = []
    for item in items:
        value = item.get(field) if isinstance(item, Mapping) else None
        if value is not None:
            values.append(value)
    return values


def _numbers(items: Sequence[Any], field: str | None) -> list[int | float]:
    numbers: list[int | float] = []
    for value in _field_values(items, field):
        number = to_number(value)
        if number is None:
            label = f"field '{field}'" if field else "item"
            raise TypeError(f"{label} value {value!r} is not a number")
        numbers.append(number)
    return numbers


def _list_helper(items: Sequence[Any], name: str) -> Callable[..., Any]:
    def total(field: str | None = None) -> int | float:
        return sum(_numbers(items, field))

    def avg(field: str | None = None) -> float | None:
        numbers = _numbers(items, field)
        return sum(numbers) / len(numbers) if numbers else None

    def lowest(field: str | None = None) -> Any:
        values = _field_values(items, field)
        numbers = [to_number(v) for v in values]
        if values and all(n is not None for n in numbers):
            return min(n for n in numbers if n is not None)
        return min(values) if values else None

    def highest(field: str | None = None) -> Any:
        values = _field_values(items, field)
        numbers = [to_number(v) for v in values]
        if values and all(n is not None for n in numbers):
            return max(n for n in numbers if n is not None)
        return max(values) if values else None

    return {"sum": total, "avg": avg, "min": lowest, "max": highest}[name]


_LIST_METHODS = frozenset({"sum", "avg", "min", "max"})


class _Environment(SandboxedEnvironment):
    """The sandbox, with dict keys first and the CKP list/string helpers."""

    def _virtual(self, obj: Any, name: str) -> tuple[bool, Any]:
        if isinstance(obj, list | tuple):
            if name in _LEN_FIELDS:
                return True, len(obj)
            if name == "first":
                return True, obj[0] if obj else None
            if name == "last":
                return True, obj[-1] if obj else None
            if name in _LIST_METHODS:
                return True, _list_helper(obj, name)
        elif isinstance(obj, str) and name in _LEN_FIELDS:
            return True, len(obj)
        return False, None

    def getattr(self, obj: Any, attribute: str) -> Any:
        if isinstance(obj, SecretReference):
            return obj.child(attribute)
        if isinstance(obj, Mapping):
            if attribute in obj:
                return obj[attribute]
            return super().getattr(obj, attribute)
        found, value = self._virtual(obj, attribute)
        return value if found else super().getattr(obj, attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        if isinstance(obj, SecretReference) and isinstance(argument, str | int):
            return obj.child(argument)
        if isinstance(argument, str) and not isinstance(obj, Mapping):
            found, value = self._virtual(obj, argument)
            if found:
                return value
        return super().getitem(obj, argument)


def _finalize(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list | tuple):
        return json.dumps(value, ensure_ascii=False, default=str)
    return value


_ENV = _Environment(undefined=StrictUndefined, autoescape=False, finalize=_finalize)
_ENV.filters.update(EXTRA_FILTERS)


@lru_cache(maxsize=8192)
def _exact_expression(source: str) -> str | None:
    """The inner expression when ``source`` is exactly one ``{{ expr }}``, else None."""
    match = _EXACT_RE.match(source)
    if match is None:
        return None
    inner = match.group("expr")
    if any(marker in inner for marker in ("{{", "}}", "{%", "%}", "{#")):
        return None
    return inner.strip()


@lru_cache(maxsize=8192)
def _compile_template(source: str) -> Template:
    return _ENV.from_string(normalize_template(source))


@lru_cache(maxsize=8192)
def _compile_expression(inner: str) -> TemplateExpression:
    return _ENV.compile_expression(normalize_template("{{" + inner + "}}")[2:-2], undefined_to_none=False)


def _dotted(path: Sequence[str | int]) -> str:
    out = ""
    for segment in path:
        out += f"[{segment}]" if isinstance(segment, int) else (f".{segment}" if out else segment)
    return out


def _explain_undefined(text: str, scope: Mapping[str, Any], where: str, exc: Exception) -> TemplateError:
    """Turn jinja's 'x is undefined' / "'dict object' has no attribute 'y'" into a message
    that names the variable and the field, by walking the template's references."""
    details: dict[str, Any] = {"template": text, "where": where}
    try:
        references = template_references(text)
    except ValueError:
        references = []
    for path in references:
        root = str(path[0])
        if root not in scope:
            details["variable"] = root
            return TemplateError(f"undefined variable '{root}' in {where}", details=details)
        current: Any = scope[root]
        for depth, segment in enumerate(path[1:], start=1):
            nxt = lookup_path({"v": current}, ("v", segment))
            if nxt is None and not (isinstance(current, Mapping) and segment in current):
                if isinstance(current, list | tuple | str) and segment in ("first", "last", *_LIST_METHODS):
                    break
                owner = _dotted(path[:depth])
                what = f"item {segment}" if isinstance(segment, int) else f"field '{segment}'"
                details.update(variable=owner, field=segment)
                return TemplateError(f"variable '{owner}' has no {what} in {where}", details=details)
            current = nxt
    match = re.search(r"'([^']+)' is undefined", str(exc))
    if match:
        details["variable"] = match.group(1)
        return TemplateError(f"undefined variable '{match.group(1)}' in {where}", details=details)
    return TemplateError(f"cannot render template in {where}: {exc}", details=details)


_SIMPLE_PART = re.compile(r"\{\{\s*([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)\s*\}\}")
_MISS = object()


@lru_cache(maxsize=8192)
def _simple_parts(text: str) -> tuple[tuple[str, tuple[str, ...]], ...] | None:
    """``text`` as (literal, dotted path) pairs when every template in it is a plain
    ``{{ a.b.c }}`` reference; None when anything else (filters, indexes, calls, blocks) is used."""
    if "{%" in text or "{#" in text:
        return None
    parts: list[tuple[str, tuple[str, ...]]] = []
    pos = 0
    for match in _SIMPLE_PART.finditer(text):
        parts.append((text[pos:match.start()], tuple(match.group(1).split("."))))
        pos = match.end()
    tail = text[pos:]
    if "{{" in tail or any("{{" in literal or "}}" in literal for literal, _ in parts):
        return None
    parts.append((tail, ()))
    return tuple(parts)


def _lookup_plain(scope: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    """Dict-only lookup; _MISS when jinja's own rules (virtual fields, errors) are needed."""
    current: Any = scope
    for segment in path:
        if isinstance(current, SecretReference):
            current = current.child(segment)
            continue
        if not isinstance(current, Mapping) or segment not in current:
            return _MISS
        current = current[segment]
    return current


def _render_fast(text: str, scope: Mapping[str, Any], typed: bool) -> Any:
    """The hot path for plain references: the same results as jinja, without a jinja context."""
    parts = _simple_parts(text)
    if parts is None:
        return _MISS
    if typed and _exact_expression(text) is not None:
        return _lookup_plain(scope, parts[0][1])
    out: list[str] = []
    for literal, path in parts:
        out.append(literal)
        if path:
            value = _lookup_plain(scope, path)
            if value is _MISS:
                return _MISS
            out.append(str(_finalize(value)))
    return "".join(out)


def _plain(value: Any) -> Any:
    """A typed result without :class:`SecretReference` objects (state holds plain data)."""
    if isinstance(value, SecretReference):
        return str(value)
    if isinstance(value, Mapping):  # ``{{secrets}}`` itself: a name → reference map
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _render_string(text: str, scope: Mapping[str, Any], where: str, typed: bool) -> Any:
    value = _render_typed(text, scope, where, typed)
    if isinstance(value, SecretReference):
        return str(value)
    if typed and "secrets" in text and isinstance(value, Mapping | list | tuple):
        return _plain(value)  # ``{{ [secrets.a, secrets.b] }}``: only an expression naming secrets builds one
    return value


def _render_typed(text: str, scope: Mapping[str, Any], where: str, typed: bool) -> Any:
    fast = _render_fast(text, scope, typed)
    if fast is not _MISS:
        return fast
    try:
        inner = _exact_expression(text) if typed else None
        if inner is not None:
            value = _compile_expression(inner)(scope)
            if isinstance(value, Undefined):
                str(value)  # StrictUndefined raises UndefinedError with jinja's message
            return value
        return _compile_template(text).render(scope)
    except UndefinedError as exc:
        raise _explain_undefined(text, scope, where, exc) from None
    except TemplateSyntaxError as exc:
        raise TemplateError(
            f"template syntax error in {where}: {exc.message} (line {exc.lineno})",
            details={"template": text, "where": where},
        ) from None
    except SecurityError as exc:
        raise TemplateError(f"template not allowed in {where}: {exc}", details={"template": text}) from None
    except (TypeError, ValueError, ArithmeticError, LookupError, AttributeError) as exc:
        raise TemplateError(
            f"cannot render template in {where}: {type(exc).__name__}: {exc}",
            details={"template": text, "where": where},
        ) from exc


def _where(where: str, path: tuple[str | int, ...]) -> str:
    base = where or "template"
    return f"{base} (field {_dotted(path)})" if path else base


def _render(value: Any, scope: Mapping[str, Any], where: str, path: tuple[str | int, ...]) -> Any:
    if isinstance(value, str):
        if "{{" not in value and "{%" not in value:
            return value
        return _render_string(value, scope, _where(where, path), typed=True)
    if isinstance(value, dict):
        return {key: _render(item, scope, where, (*path, key)) for key, item in value.items()}
    if isinstance(value, list):
        return [_render(item, scope, where, (*path, index)) for index, item in enumerate(value)]
    return value


def render(value: Any, scope: Mapping[str, Any], *, where: str = "") -> Any:
    """Render every string inside ``value`` (nested dicts and lists are walked).

    A string that is exactly one ``{{ expr }}`` becomes the expression's value, with its
    type; other template strings become text. Raises ``TemplateError`` naming the
    undefined variable (or missing field) and ``where``.
    """
    return _render(value, scope, where, ())


def render_text(text: str, scope: Mapping[str, Any], *, where: str = "") -> str:
    """Render ``text`` to a string, whatever its templates evaluate to."""
    if not has_template(text):
        return text
    result = _render_string(text, scope, where or "template", typed=False)
    return str(result)
