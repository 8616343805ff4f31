"""Evaluate CKP expressions (``langorch.ckp.expressions``) against a run's variables.

No Python ``eval`` anywhere: the parsed tree is walked here node by node.

Semantics worth knowing:

* **Paths**: each segment is a dict key first; on lists, tuples and strings the virtual
  fields ``length``, ``count`` and ``size`` give ``len``; integer segments index lists.
  Anything missing is ``None`` — so ``exists(x)``, ``x exists`` and ``x is empty`` work.
* **Numeric strings**: agents often answer with strings, so when one side of a
  comparison or of ``+ - * / %`` is a number and the other a numeric string, the string
  is read as a number (``"5" > 3`` is true, ``"100.0" == 100`` is true). Two strings
  compare as strings. ``"true"``/``"false"`` compare equal to the booleans.
* **None**: ``==``/``!=`` work; ordering with ``None`` is false; arithmetic raises.
* **Truth**: ``None``, ``0``, empty strings/lists/dicts and the strings ``"false"``,
  ``"no"``, ``"off"``, ``"0"`` (any case) are false; ``and``/``or``/``not`` give booleans.
* Type errors (``'a' < 1``), bad regexes, division by zero and unknown functions raise
  ``ConditionError`` naming the node and the expression.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from langorch.ckp.expressions import (
    Binary,
    BoolOp,
    Call,
    Check,
    Compare,
    Expr,
    ExpressionSyntaxError,
    ListExpr,
    Literal,
    Ref,
    Unary,
    parse_expression,
)
from langorch.runtime.errors import ConditionError

__all__ = ["evaluate", "evaluate_condition", "lookup_path", "to_number", "truthy"]

_LEN_FIELDS = frozenset({"length", "count", "size"})
_FALSE_STRINGS = frozenset({"", "false", "no", "off", "0"})


class _EvalError(Exception):
    """Internal: carries a message up to the boundary that adds node and expression."""


def truthy(value: Any) -> bool:
    """CKP truth: like Python's, but the strings 'false', 'no', 'off', '0' are false too."""
    if isinstance(value, str):
        return value.strip().lower() not in _FALSE_STRINGS
    return bool(value)


def lookup_path(scope: Mapping[str, Any], path: Sequence[str | int]) -> Any:
    """Follow ``path`` through dicts and lists; ``None`` as soon as anything is missing."""
    current: Any = scope
    for segment in path:
        current = _step(current, segment)
        if current is None:
            return None
    return current


def _step(value: Any, segment: str | int) -> Any:
    if isinstance(value, Mapping):
        if segment in value:
            return value[segment]
        if isinstance(segment, int) and str(segment) in value:
            return value[str(segment)]
        return None
    if isinstance(value, list | tuple | str):
        if isinstance(segment, int):
            return value[segment] if -len(value) <= segment < len(value) else None
        if segment in _LEN_FIELDS:
            return len(value)
        if isinstance(value, list | tuple) and segment.lstrip("-").isdigit():
            return _step(value, int(segment))
    return None


def to_number(value: Any) -> int | float | None:
    """``value`` as a number if it is one or a numeric string, else ``None``."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return value
    if isinstance(value, str):
        text = value.strip()
        if "_" in text:
            return None
        try:
            return int(text)
        except ValueError:
            pass
        try:
            number = float(text)
        except ValueError:
            return None
        return number if math.isfinite(number) else None
    return None


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _coerce_pair(left: Any, right: Any) -> tuple[Any, Any]:
    """Bring a number and a numeric string (or a bool and 'true'/'false') to one type."""
    if _is_number(left) and isinstance(right, str):
        number = to_number(right)
        return (left, number) if number is not None else (left, right)
    if isinstance(left, str) and _is_number(right):
        number = to_number(left)
        return (number, right) if number is not None else (left, right)
    if isinstance(left, bool) and isinstance(right, str) and right.lower() in ("true", "false"):
        return left, right.lower() == "true"
    if isinstance(right, bool) and isinstance(left, str) and left.lower() in ("true", "false"):
        return left.lower() == "true", right
    if isinstance(left, dt.date) and isinstance(right, str):
        return left.isoformat(), right
    if isinstance(left, str) and isinstance(right, dt.date):
        return left, right.isoformat()
    return left, right


def _equal(left: Any, right: Any) -> bool:
    left, right = _coerce_pair(left, right)
    return bool(left == right)


def _order(op: str, left: Any, right: Any) -> bool:
    if left is None or right is None:
        return False
    left, right = _coerce_pair(left, right)
    try:
        if op == "<":
            return bool(left < right)
        if op == "<=":
            return bool(left <= right)
        if op == ">":
            return bool(left > right)
        return bool(left >= right)
    except TypeError:
        raise _EvalError(
            f"cannot compare {type(left).__name__} {left!r} {op} {type(right).__name__} {right!r}"
        ) from None


def _contains(container: Any, item: Any) -> bool:
    if container is None:
        return False
    if isinstance(container, str):
        return item is not None and str(item) in container
    if isinstance(container, Mapping):
        return item in container
    if isinstance(container, list | tuple | set | frozenset):
        return any(_equal(element, item) for element in container)
    raise _EvalError(f"cannot look inside {type(container).__name__} {container!r}")


def _matches(text: Any, pattern: Any) -> bool:
    if text is None:
        return False
    try:
        return re.search(str(pattern), str(text)) is not None
    except re.error as exc:
        raise _EvalError(f"bad regular expression {pattern!r}: {exc}") from None


def _compare(op: str, left: Any, right: Any) -> bool:
    negate = op.startswith("not ")
    word = op[4:] if negate else op
    result: bool
    if word == "==":
        result = _equal(left, right)
    elif word == "!=":
        result = not _equal(left, right)
    elif word in ("<", "<=", ">", ">="):
        result = _order(word, left, right)
    elif word == "in":
        result = _contains(right, left)
    elif word == "contains":
        result = _contains(left, right)
    elif word == "startswith":
        result = left is not None and right is not None and str(left).startswith(str(right))
    elif word == "endswith":
        result = left is not None and right is not None and str(left).endswith(str(right))
    elif word == "matches":
        result = _matches(left, right)
    else:
        raise _EvalError(f"unknown operator {op!r}")
    return not result if negate else result


def _arith(op: str, left: Any, right: Any) -> Any:
    if left is None or right is None:
        side = "left" if left is None else "right"
        raise _EvalError(f"the {side} side of '{op}' is missing (null)")
    if op == "+" and isinstance(left, str) and isinstance(right, str):
        return left + right
    if op == "+" and isinstance(left, list) and isinstance(right, list):
        return left + right
    a, b = to_number(left), to_number(right)
    if a is None or b is None:
        raise _EvalError(
            f"cannot compute {type(left).__name__} {left!r} {op} {type(right).__name__} {right!r}"
        )
    if op in ("/", "%") and b == 0:
        raise _EvalError("division by zero")
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    if op == "/":
        return a / b
    return a % b


def _is_empty(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return value.strip() == ""
    if isinstance(value, list | tuple | dict | set | frozenset):
        return len(value) == 0
    return False


def _numbers(values: Sequence[Any], name: str) -> list[int | float]:
    out: list[int | float] = []
    for value in values:
        if value is None:
            continue
        number = to_number(value)
        if number is None:
            raise _EvalError(f"{name}() needs numbers, got {value!r}")
        out.append(number)
    return out


def _spread(args: Sequence[Any]) -> Sequence[Any]:
    return args[0] if len(args) == 1 and isinstance(args[0], list | tuple) else args


def _f_len(value: Any) -> int:
    if value is None:
        return 0
    if isinstance(value, str | list | tuple | dict | set | frozenset):
        return len(value)
    raise _EvalError(f"len() of {type(value).__name__} {value!r}")


def _f_int(value: Any) -> int:
    number = to_number(value)
    if number is None:
        raise _EvalError(f"int() of {value!r}")
    return int(number)


def _f_float(value: Any) -> float:
    number = to_number(value)
    if number is None:
        raise _EvalError(f"float() of {value!r}")
    return float(number)


def _f_round(value: Any, digits: Any = 0) -> int | float:
    number = to_number(value)
    if number is None:
        raise _EvalError(f"round() of {value!r}")
    places = _f_int(digits)
    return round(number) if places == 0 else round(number, places)


def _f_min_max(name: str) -> Callable[..., Any]:
    def fn(*args: Any) -> Any:
        values = [v for v in _spread(args) if v is not None]
        if not values:
            return None
        if all(to_number(v) is not None for v in values):
            nums = _numbers(values, name)
            return min(nums) if name == "min" else max(nums)
        try:
            return min(values) if name == "min" else max(values)
        except TypeError:
            raise _EvalError(f"{name}() of mixed values {values!r}") from None

    return fn


def _str_fn(name: str, fn: Callable[[str], str]) -> Callable[[Any], Any]:
    def wrapped(value: Any) -> Any:
        if value is None:
            return None
        return fn(str(value))

    wrapped.__name__ = name
    return wrapped


_IMPLS: dict[str, Callable[..., Any]] = {
    "len": _f_len,
    "exists": lambda value: value is not None,
    "lower": _str_fn("lower", str.lower),
    "upper": _str_fn("upper", str.upper),
    "trim": _str_fn("trim", str.strip),
    "startswith": lambda text, prefix: _compare("startswith", text, prefix),
    "endswith": lambda text, suffix: _compare("endswith", text, suffix),
    "contains": lambda container, item: _contains(container, item),
    "matches": lambda text, pattern: _matches(text, pattern),
    "int": _f_int,
    "float": _f_float,
    "str": lambda value: "" if value is None else str(value),
    "bool": truthy,
    "abs": lambda value: abs(_f_float(value)) if not isinstance(value, int) else abs(value),
    "round": _f_round,
    "min": _f_min_max("min"),
    "max": _f_min_max("max"),
    "sum": lambda *args: sum(_numbers(_spread(args), "sum")),
    "now": lambda: dt.datetime.now(dt.UTC).isoformat(),
    "today": lambda: dt.date.today().isoformat(),
}


def _call(name: str, args: list[Any]) -> Any:
    fn = _IMPLS.get(name)
    if fn is None:
        raise _EvalError(f"unknown function {name!r}")
    try:
        return fn(*args)
    except TypeError as exc:
        raise _EvalError(f"wrong arguments for {name}(): {exc}") from None


def _eval(node: Expr, scope: Mapping[str, Any]) -> Any:
    if isinstance(node, Literal):
        return node.value
    if isinstance(node, Ref):
        return lookup_path(scope, node.path)
    if isinstance(node, Compare):
        return _compare(node.op, _eval(node.left, scope), _eval(node.right, scope))
    if isinstance(node, BoolOp):
        if node.op == "and":
            return all(truthy(_eval(value, scope)) for value in node.values)
        return any(truthy(_eval(value, scope)) for value in node.values)
    if isinstance(node, Unary):
        operand = _eval(node.operand, scope)
        if node.op == "not":
            return not truthy(operand)
        number = to_number(operand)
        if number is None:
            raise _EvalError(f"cannot apply unary '{node.op}' to {operand!r}")
        return -number if node.op == "-" else number
    if isinstance(node, Binary):
        return _arith(node.op, _eval(node.left, scope), _eval(node.right, scope))
    if isinstance(node, Check):
        value = _eval(node.operand, scope)
        if node.kind == "empty":
            result = _is_empty(value)
        else:  # "null" and "exists" are each other's negation
            result = value is None if node.kind == "null" else value is not None
        return not result if node.negated else result
    if isinstance(node, ListExpr):
        return [_eval(item, scope) for item in node.items]
    if isinstance(node, Call):
        return _call(node.name, [_eval(arg, scope) for arg in node.args])
    raise _EvalError(f"unknown expression node {type(node).__name__}")


def _where(node_id: str) -> str:
    return f" in node '{node_id}'" if node_id else ""


def _evaluate(expr: str | Expr, scope: Mapping[str, Any], node_id: str) -> Any:
    text = expr if isinstance(expr, str) else ""
    try:
        tree = parse_expression(expr) if isinstance(expr, str) else expr
    except ExpressionSyntaxError as exc:
        raise ConditionError(
            f"cannot parse expression {text!r}{_where(node_id)}: {exc}",
            details={"expression": text, "node_id": node_id, "position": exc.position},
        ) from exc
    try:
        return _eval(tree, scope)
    except (_EvalError, RecursionError, OverflowError) as exc:
        shown = repr(text) if text else repr(tree)
        raise ConditionError(
            f"cannot evaluate expression {shown}{_where(node_id)}: {exc}",
            details={"expression": text, "node_id": node_id},
        ) from None


def evaluate(expr: str | Expr, scope: Mapping[str, Any], *, node_id: str = "") -> Any:
    """The value of ``expr`` in ``scope``. Raises ``ConditionError`` for syntax or type errors."""
    return _evaluate(expr, scope, node_id)


def evaluate_condition(text: str, scope: Mapping[str, Any], *, node_id: str = "") -> bool:
    """Whether the condition ``text`` holds in ``scope`` (its value under CKP truth, see
    ``truthy``). Raises ``ConditionError`` naming ``node_id`` and the expression."""
    return truthy(_evaluate(text, scope, node_id))
