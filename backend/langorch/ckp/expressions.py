"""The safe expression language of CKP conditions, calculations and transforms.

Pure: stdlib only, and nothing here ever hands text to Python's ``eval``.
``parse_expression`` turns text into a small tree of frozen dataclasses; the runtime
(``langorch.runtime.conditions``) evaluates that tree against a scope, and the validator
reads ``expression_references`` to check that every variable is defined before use.

Grammar, loosest binding first::

    expr     := or
    or       := and (('or' | '||') and)*
    and      := not (('and' | '&&') not)*
    not      := ('not' | '!') not | compare
    compare  := sum [cmp_op sum | 'is' ['not'] ('empty' | 'null') | 'exists']
    cmp_op   := == != < <= > >= | ['not'] (in | contains | startswith | endswith | matches)
    sum      := term (('+' | '-') term)*
    term     := unary (('*' | '/' | '%') unary)*
    unary    := '-' unary | '+' unary | primary
    primary  := number | string | true | false | null | always | '[' items ']' | '(' expr ')'
              | name '(' args ')' | path | '{{' path '}}'
    path     := name ('.' (name | int) | '[' (int | string) ']')*

``{{ path }}`` and a bare ``path`` mean the same thing; real CKP files use the braces
(``{{invoice_list.length}} > 0``). Only a path may stand inside braces. Comparisons do not
chain (``a < b < c`` is an error: write ``a < b and b < c``). ``always`` is the literal
``true`` (some CKP dialects write ``"condition": "always"``).

The tree, lexer and parser stay in one module (a little over 400 lines) on purpose:
they change together and nothing else needs the lexer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

__all__ = [
    "FUNCTIONS",
    "BoolOp",
    "Binary",
    "Call",
    "Compare",
    "Expr",
    "ExpressionSyntaxError",
    "ListExpr",
    "Literal",
    "Ref",
    "Check",
    "Unary",
    "expression_references",
    "parse_expression",
]

PathSegment = str | int

FUNCTIONS: frozenset[str] = frozenset(
    {
        "len", "exists", "lower", "upper", "trim", "startswith", "endswith", "contains", "matches",
        "int", "float", "str", "bool", "abs", "round", "min", "max", "sum", "now", "today",
    }
)
"""Every function an expression may call; anything else is a syntax error."""

_MAX_DEPTH = 64
_MAX_LENGTH = 10_000


class ExpressionSyntaxError(ValueError):
    """The expression text cannot be parsed. ``position`` is a 0-based character offset;
    ``str()`` gives the 1-based column a person counts."""

    def __init__(self, message: str, position: int) -> None:
        super().__init__(f"{message} at column {position + 1}")
        self.message = message
        self.position = position


@dataclass(frozen=True)
class Literal:
    value: str | int | float | bool | None


@dataclass(frozen=True)
class ListExpr:
    items: tuple[Expr, ...]


@dataclass(frozen=True)
class Ref:
    """A variable path; ``path[0]`` is the root variable name."""

    path: tuple[PathSegment, ...]


@dataclass(frozen=True)
class Unary:
    op: str  # "-", "+" or "not"
    operand: Expr


@dataclass(frozen=True)
class Binary:
    op: str  # + - * / %
    left: Expr
    right: Expr


@dataclass(frozen=True)
class Compare:
    """``op`` is one of == != < <= > >= in, contains, startswith, endswith, matches, or the
    same word operators prefixed with ``not `` (``not in``, ``not contains``...)."""

    op: str
    left: Expr
    right: Expr


@dataclass(frozen=True)
class Check:
    """A one-operand check: ``kind`` is ``empty``, ``null`` or ``exists``."""

    kind: str
    operand: Expr
    negated: bool = False


@dataclass(frozen=True)
class BoolOp:
    op: str  # "and" or "or"
    values: tuple[Expr, ...]


@dataclass(frozen=True)
class Call:
    name: str
    args: tuple[Expr, ...]


Expr = Literal | ListExpr | Ref | Unary | Binary | Compare | Check | BoolOp | Call

# ---------------------------------------------------------------------------- lexer

_TOKEN_RE = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<number>\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<string>'|")
  | (?P<op>\{\{|\}\}|==|!=|<=|>=|&&|\|\||[<>+\-*/%()\[\],.!])
    """,
    re.VERBOSE,
)
_INT_RE = re.compile(r"\d+")
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", "'": "'", '"': '"', "0": "\0", "/": "/"}
_WORD_OPS = ("in", "contains", "startswith", "endswith", "matches")
_KEYWORDS = {"and", "or", "not", "is", "exists", *_WORD_OPS}
_CONSTANTS: dict[str, bool | None] = {
    "true": True, "True": True, "TRUE": True, "always": True,
    "false": False, "False": False, "FALSE": False,
    "null": None, "None": None, "NULL": None, "none": None,
}


@dataclass(frozen=True)
class _Tok:
    kind: str  # number, name, string, op, end
    value: Any
    pos: int
    text: str


def _read_string(text: str, start: int) -> tuple[str, int]:
    quote = text[start]
    out: list[str] = []
    i = start + 1
    while i < len(text) and text[i] != quote:
        if text[i] != "\\":
            out.append(text[i])
            i += 1
            continue
        nxt = text[i + 1 : i + 2]
        if nxt == "u":
            digits = text[i + 2 : i + 6]
            if not re.fullmatch(r"[0-9a-fA-F]{4}", digits):
                raise ExpressionSyntaxError("bad \\u escape in string", i)
            out.append(chr(int(digits, 16)))
            i += 6
        else:
            out.append(_ESCAPES.get(nxt, "\\" + nxt))
            i += 2
    if i >= len(text):
        raise ExpressionSyntaxError("unterminated string", start)
    return "".join(out), i + 1


def _number(raw: str, pos: int, index_only: bool = False) -> int | float:
    try:
        return int(raw) if index_only or not any(c in raw for c in ".eE") else float(raw)
    except ValueError:  # Python refuses to read ints of more than 4300 digits
        raise ExpressionSyntaxError("number too long", pos) from None


def _tokenize(text: str) -> list[_Tok]:
    toks: list[_Tok] = []
    pos = 0
    while pos < len(text):
        prev_dot = bool(toks) and toks[-1].kind == "op" and toks[-1].value == "."
        # ``a.0.b``: after a dot, digits are a list index, never a float
        m = _INT_RE.match(text, pos) if prev_dot else None
        m = m or _TOKEN_RE.match(text, pos)
        if m is None:
            raise ExpressionSyntaxError(f"unexpected character {text[pos]!r}", pos)
        kind, raw = m.lastgroup or "number", m.group()
        if kind == "string":
            value, end = _read_string(text, pos)
            toks.append(_Tok("string", value, pos, text[pos:end]))
            pos = end
            continue
        if kind == "number":
            toks.append(_Tok("number", _number(raw, pos, prev_dot), pos, raw))
        elif kind != "ws":
            toks.append(_Tok(kind, raw, pos, raw))
        pos = m.end()
    toks.append(_Tok("end", None, len(text), "end of expression"))
    return toks


# ---------------------------------------------------------------------------- parser


class _Parser:
    def __init__(self, text: str) -> None:
        self.toks = _tokenize(text)
        self.i = 0
        self.depth = 0

    @property
    def tok(self) -> _Tok:
        return self.toks[self.i]

    def peek(self, offset: int = 1) -> _Tok:
        return self.toks[min(self.i + offset, len(self.toks) - 1)]

    def advance(self) -> _Tok:
        tok = self.toks[self.i]
        if tok.kind != "end":
            self.i += 1
        return tok

    def is_op(self, *values: str) -> bool:
        return self.tok.kind == "op" and self.tok.value in values

    def is_word(self, *values: str) -> bool:
        return self.tok.kind == "name" and self.tok.value in values

    def error(self, tok: _Tok | None = None, expected: str = "") -> ExpressionSyntaxError:
        tok = tok or self.tok
        what = "end of expression" if tok.kind == "end" else repr(tok.text)
        suffix = f", expected {expected}" if expected else ""
        return ExpressionSyntaxError(f"unexpected {what}{suffix}", tok.pos)

    def expect_op(self, value: str) -> _Tok:
        if not self.is_op(value):
            raise self.error(expected=repr(value))
        return self.advance()

    def parse(self) -> Expr:
        if self.tok.kind == "end":
            raise ExpressionSyntaxError("empty expression", 0)
        expr = self.parse_or()
        if self.tok.kind != "end":
            raise self.error()
        return expr

    def parse_or(self) -> Expr:
        # every nesting (parentheses, lists, call arguments) comes back through here
        self.depth += 1
        if self.depth > _MAX_DEPTH:
            raise ExpressionSyntaxError("expression nested too deeply", self.tok.pos)
        values = [self.parse_and()]
        while self.is_word("or") or self.is_op("||"):
            self.advance()
            values.append(self.parse_and())
        self.depth -= 1
        return values[0] if len(values) == 1 else BoolOp("or", tuple(values))

    def parse_and(self) -> Expr:
        values = [self.parse_not()]
        while self.is_word("and") or self.is_op("&&"):
            self.advance()
            values.append(self.parse_not())
        return values[0] if len(values) == 1 else BoolOp("and", tuple(values))

    def parse_not(self) -> Expr:
        nots = 0
        while self.is_word("not") or self.is_op("!"):
            self.advance()
            nots += 1
        expr = self.parse_compare()
        for _ in range(nots):
            expr = Unary("not", expr)
        return expr

    def compare_op(self) -> str | None:
        tok = self.tok
        if tok.kind == "op" and tok.value in ("==", "!=", "<", "<=", ">", ">="):
            return str(tok.value)
        if self.is_word(*_WORD_OPS, "is", "exists"):
            return str(tok.value)
        if self.is_word("not") and self.peek().kind == "name" and self.peek().value in _WORD_OPS:
            return f"not {self.peek().value}"
        return None

    def parse_compare(self) -> Expr:
        left = self.parse_binary(0)
        op = self.compare_op()
        if op is None:
            return left
        self.advance()
        if op == "exists":
            result: Expr = Check("exists", left)
        elif op == "is":
            negated = self.is_word("not")
            if negated:
                self.advance()
            if not self.is_word("empty", "null", "none", "None"):
                raise self.error(expected="'empty' or 'null' after 'is'")
            result = Check("empty" if self.advance().value == "empty" else "null", left, negated)
        else:
            if op.startswith("not "):
                self.advance()
            result = Compare(op, left, self.parse_binary(0))
        if self.compare_op() is not None:
            raise ExpressionSyntaxError("comparisons cannot be chained; join them with 'and'", self.tok.pos)
        return result

    def parse_binary(self, level: int) -> Expr:
        """``level`` 0 is ``+ -``, level 1 is ``* / %``; both left-associative."""
        operand = self.parse_unary if level else lambda: self.parse_binary(1)
        ops = ("*", "/", "%") if level else ("+", "-")
        left = operand()
        while self.is_op(*ops):
            op = str(self.advance().value)
            left = Binary(op, left, operand())
        return left

    def parse_unary(self) -> Expr:
        signs: list[str] = []
        while self.is_op("-", "+"):
            signs.append(str(self.advance().value))
        expr = self.parse_primary()
        for sign in reversed(signs):
            value = expr.value if isinstance(expr, Literal) else None
            if isinstance(value, int | float) and not isinstance(value, bool):
                expr = Literal(-value if sign == "-" else value)
            else:
                expr = Unary(sign, expr)
        return expr

    def parse_primary(self) -> Expr:
        tok = self.tok
        if tok.kind in ("number", "string"):
            self.advance()
            return Literal(tok.value)
        if tok.kind == "op":
            if tok.value == "(":
                self.advance()
                inner = self.parse_or()
                self.expect_op(")")
                return inner
            if tok.value == "[":
                self.advance()
                return ListExpr(self.parse_items("]"))
            if tok.value == "{{":
                return self.parse_braced()
            raise self.error()
        if tok.kind == "name":
            if tok.value in _CONSTANTS:
                self.advance()
                return Literal(_CONSTANTS[tok.value])
            if self.peek().kind == "op" and self.peek().value == "(":
                if tok.value not in FUNCTIONS:
                    known = ", ".join(sorted(FUNCTIONS))
                    raise ExpressionSyntaxError(f"unknown function {tok.value!r} (known: {known})", tok.pos)
                self.advance()
                self.advance()
                return Call(str(tok.value), self.parse_items(")"))
            if tok.value in _KEYWORDS:
                raise self.error(expected="a value")
            return self.parse_path()
        raise self.error(expected="a value")

    def parse_items(self, close: str) -> tuple[Expr, ...]:
        """Comma-separated expressions up to ``close`` (a trailing comma is allowed)."""
        items: list[Expr] = []
        while not self.is_op(close):
            items.append(self.parse_or())
            if not self.is_op(","):
                break
            self.advance()
        self.expect_op(close)
        return tuple(items)

    def parse_braced(self) -> Expr:
        open_tok = self.advance()
        if self.tok.kind != "name" or self.tok.value in _KEYWORDS or self.tok.value in _CONSTANTS:
            raise ExpressionSyntaxError("only a variable path may stand inside {{ }}", self.tok.pos)
        ref = self.parse_path()
        if not self.is_op("}}"):
            if self.tok.kind == "end":
                raise ExpressionSyntaxError("'{{' is never closed with '}}'", open_tok.pos)
            raise ExpressionSyntaxError(
                f"only a variable path may stand inside {{{{ }}}}; unexpected {self.tok.text!r}",
                self.tok.pos,
            )
        self.advance()
        return ref

    def parse_path(self) -> Ref:
        path: list[PathSegment] = [str(self.advance().value)]
        while True:
            if self.is_op("."):
                self.advance()
                tok = self.tok
                if tok.kind == "name" or (tok.kind == "number" and isinstance(tok.value, int)):
                    path.append(tok.value)
                    self.advance()
                else:
                    raise self.error(expected="a field name after '.'")
            elif self.is_op("["):
                self.advance()
                index = self.parse_index()
                self.expect_op("]")
                path.append(index)
            else:
                return Ref(tuple(path))

    def parse_index(self) -> PathSegment:
        negative = self.is_op("-")
        if negative:
            self.advance()
        tok = self.tok
        if tok.kind == "number" and isinstance(tok.value, int):
            self.advance()
            return -tok.value if negative else tok.value
        if tok.kind == "string" and not negative:
            self.advance()
            return str(tok.value)
        raise self.error(expected="an integer or a quoted key inside [ ]")


@lru_cache(maxsize=4096)
def parse_expression(text: str) -> Expr:
    """Parse ``text`` into an expression tree. Raises ``ExpressionSyntaxError`` (only)."""
    if len(text) > _MAX_LENGTH:
        raise ExpressionSyntaxError(f"expression longer than {_MAX_LENGTH} characters", _MAX_LENGTH)
    return _Parser(text).parse()


def expression_references(expr: Expr) -> list[tuple[PathSegment, ...]]:
    """Every variable path ``expr`` reads, in reading order, without duplicates."""
    found: dict[tuple[PathSegment, ...], None] = {}
    stack: list[Expr] = [expr]
    while stack:
        node = stack.pop()
        children: tuple[Expr, ...]
        if isinstance(node, Ref):
            found.setdefault(node.path)
            continue
        if isinstance(node, Unary | Check):
            children = (node.operand,)
        elif isinstance(node, Binary | Compare):
            children = (node.left, node.right)
        elif isinstance(node, BoolOp):
            children = node.values
        elif isinstance(node, ListExpr):
            children = node.items
        elif isinstance(node, Call):
            children = node.args
        else:
            children = ()
        stack.extend(reversed(children))
    return list(found)
