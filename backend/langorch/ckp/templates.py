"""Static facts about ``{{ }}`` templates in CKP strings: which strings are templates,
what they read, and how CKP idioms are rewritten so jinja2 accepts them.

Pure: stdlib and jinja2 only. Rendering lives in ``langorch.runtime.templating``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from functools import lru_cache
from typing import Any

from jinja2 import Environment, TemplateSyntaxError, meta, nodes

__all__ = [
    "EXTRA_FILTERS",
    "TemplateSyntaxProblem",
    "has_template",
    "iter_strings",
    "normalize_template",
    "template_references",
]

PathSegment = str | int


class TemplateSyntaxProblem(ValueError):
    """A template cannot be parsed. ``line`` is 1-based."""

    def __init__(self, message: str, line: int = 1) -> None:
        super().__init__(f"{message} (line {line})")
        self.message = message
        self.line = line


def has_template(value: str) -> bool:
    """Whether ``value`` contains a ``{{ }}`` expression or a ``{% %}`` statement."""
    return "{{" in value or "{%" in value


def iter_strings(
    value: Any, base: tuple[PathSegment, ...] = ()
) -> Iterator[tuple[tuple[PathSegment, ...], str]]:
    """Yield ``(path, string)`` for every string inside nested dicts and lists."""
    if isinstance(value, str):
        yield base, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from iter_strings(item, (*base, key))
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from iter_strings(item, (*base, index))


_BLOCK_RE = re.compile(r"(\{\{.*?\}\}|\{%.*?%\})", re.DOTALL)
# ``.sum(amount)`` / ``.sum( amount , x )``: a method call whose arguments are bare words
_BARE_CALL_RE = re.compile(r"\.([A-Za-z_]\w*)\(\s*([A-Za-z_]\w*(?:\s*,\s*[A-Za-z_]\w*)*)\s*\)")
_JINJA_WORDS = frozenset({"true", "false", "none", "True", "False", "None", "loop"})


def _quote_args(match: re.Match[str]) -> str:
    words = [word.strip() for word in match.group(2).split(",")]
    if any(word in _JINJA_WORDS for word in words):
        return match.group(0)
    return f".{match.group(1)}(" + ", ".join(f"'{word}'" for word in words) + ")"


def normalize_template(source: str) -> str:
    """Rewrite CKP idioms so jinja2 accepts them with the intended meaning.

    Inside ``{{ }}`` and ``{% %}``, a method call with bare-word arguments names fields,
    not variables: ``invoice_list.sum(amount)`` becomes ``invoice_list.sum('amount')``.
    """
    if "(" not in source:
        return source
    return _BLOCK_RE.sub(lambda m: _BARE_CALL_RE.sub(_quote_args, m.group(0)), source)


def _to_json(value: Any, indent: int | None = None) -> str:
    return json.dumps(value, ensure_ascii=False, default=str, indent=indent)


def _from_json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str | bytes) else value


EXTRA_FILTERS: dict[str, Callable[..., Any]] = {"json": _to_json, "fromjson": _from_json}
"""Filters CKP templates may use besides jinja's own; the runtime registers the same ones."""

_ENV = Environment(autoescape=False)
_ENV.filters.update(EXTRA_FILTERS)
_GLOBALS = frozenset(_ENV.globals)


def _chain(node: nodes.Node) -> tuple[str, tuple[PathSegment, ...]] | None:
    """``(root, rest)`` when ``node`` is a plain ``a.b[0]['c']`` path, else ``None``."""
    rest: list[PathSegment] = []
    while True:
        if isinstance(node, nodes.Name):
            return node.name, tuple(reversed(rest))
        if isinstance(node, nodes.Getattr):
            rest.append(node.attr)
            node = node.node
        elif (
            isinstance(node, nodes.Getitem)
            and isinstance(node.arg, nodes.Const)
            and isinstance(node.arg.value, str | int)
            and not isinstance(node.arg.value, bool)
        ):
            rest.append(node.arg.value)
            node = node.node
        else:
            return None


def _collect(node: nodes.Node, free: frozenset[str], found: dict[tuple[PathSegment, ...], None]) -> None:
    if isinstance(node, nodes.Call) and isinstance(node.node, nodes.Getattr):
        # ``items.sum('amount')`` reads ``items``; the method name is not a field
        _collect(node.node.node, free, found)
        for child in node.iter_child_nodes(exclude=("node",)):
            _collect(child, free, found)
        return
    if isinstance(node, nodes.Name | nodes.Getattr | nodes.Getitem):
        chain = _chain(node)
        if chain is not None:
            root, rest = chain
            if root in free and (not isinstance(node, nodes.Name) or node.ctx == "load"):
                found.setdefault((root, *rest))
            return
    for child in node.iter_child_nodes():
        _collect(child, free, found)


@lru_cache(maxsize=4096)
def _references(text: str) -> tuple[tuple[PathSegment, ...], ...]:
    source = normalize_template(text)
    try:
        tree = _ENV.parse(source)
        free = frozenset(meta.find_undeclared_variables(tree) - _GLOBALS)
    except TemplateSyntaxError as exc:
        raise TemplateSyntaxProblem(exc.message or "invalid template", exc.lineno or 1) from None
    except RecursionError:
        raise TemplateSyntaxProblem("template nested too deeply", 1) from None
    found: dict[tuple[PathSegment, ...], None] = {}
    try:
        _collect(tree, free, found)
    except RecursionError:
        raise TemplateSyntaxProblem("template nested too deeply", 1) from None
    return tuple(found)


def template_references(text: str) -> list[tuple[PathSegment, ...]]:
    """Variable paths the template reads, root name first, in order, without duplicates.

    ``{{ a.b.c }}`` → ``("a", "b", "c")``; ``{{ x[0].y }}`` → ``("x", 0, "y")``; names
    bound by ``{% for %}`` / ``{% set %}`` and jinja's globals (``range``, ``loop``...) are
    not reported. Results are cached. Raises ``TemplateSyntaxProblem`` on bad syntax.
    """
    if not has_template(text):
        return []
    return list(_references(text))
