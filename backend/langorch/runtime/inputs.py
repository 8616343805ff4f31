"""Run inputs checked against variables_schema: required, type, regex, min/max,
allowed_values; defaults applied. One problem per field, all at once."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from langorch.ckp.ir import ProcedureIR, VariableIR
from langorch.runtime.errors import FieldProblem, InputError

_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,), "number": (int, float), "integer": (int,), "boolean": (bool,),
    "array": (list,), "object": (dict,),
}


def _default(var: VariableIR) -> Any:
    value = var.default
    if isinstance(value, str) and value.strip() in ("{{today}}", "{{ today }}"):
        return datetime.now(UTC).date().isoformat()
    if isinstance(value, str) and value.strip() in ("{{now}}", "{{ now }}"):
        return datetime.now(UTC).isoformat()
    return value


def apply_defaults(ir: ProcedureIR, inputs: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(inputs)
    for var in ir.variables:
        if var.name not in out and var.has_default and var.default is not None:
            out[var.name] = _default(var)
    return out


def coerce(var: VariableIR, value: Any) -> Any:
    """Turn command-line text into the declared type where that is unambiguous."""
    if not isinstance(value, str):
        return value
    try:
        if var.type == "integer":
            return int(value)
        if var.type == "number":
            return int(value) if re.fullmatch(r"-?\d+", value) else float(value)
        if var.type == "boolean" and value.lower() in ("true", "false", "1", "0", "yes", "no"):
            return value.lower() in ("true", "1", "yes")
    except ValueError:
        return value
    return value


def validate_inputs(ir: ProcedureIR, inputs: Mapping[str, Any]) -> dict[str, Any]:
    """Inputs with defaults applied; raises InputError listing every bad field."""
    values = apply_defaults(ir, inputs)
    problems: list[FieldProblem] = []
    for var in ir.variables:
        if var.name not in values or values[var.name] is None:
            if var.required and var.origin not in ("system_captured",):
                problems.append(FieldProblem(var.name, "is required"))
            continue
        problem = check_value(var, values[var.name])
        if problem:
            problems.append(FieldProblem(var.name, problem))
    if problems:
        raise InputError(problems)
    return values


def check_value(var: VariableIR, value: Any) -> str | None:
    expected = _TYPES.get(var.type)
    if expected is not None:
        if isinstance(value, bool) and var.type in ("number", "integer"):
            return f"must be a {var.type}, got boolean"
        if not isinstance(value, expected):
            return f"must be a {var.type}, got {type(value).__name__}"
    if var.allowed_values is not None and value not in var.allowed_values:
        return f"must be one of {list(var.allowed_values)}"
    if isinstance(value, str):
        if var.regex and re.fullmatch(var.regex, value) is None:
            return f"does not match the pattern {var.regex}"
        if var.min_length is not None and len(value) < var.min_length:
            return f"must be at least {var.min_length} characters"
        if var.max_length is not None and len(value) > var.max_length:
            return f"must be at most {var.max_length} characters"
    if isinstance(value, int | float) and not isinstance(value, bool):
        if var.min is not None and value < var.min:
            return f"must be ≥ {var.min:g}"
        if var.max is not None and value > var.max:
            return f"must be ≤ {var.max:g}"
    if isinstance(value, list):
        if var.min is not None and len(value) < var.min:
            return f"must have at least {var.min:g} items"
        if var.max is not None and len(value) > var.max:
            return f"must have at most {var.max:g} items"
    return None
