"""Run inputs against variables_schema: every bad field reported at once, one message
each; defaults applied; command-line text coerced to the declared type."""

from __future__ import annotations

from typing import Any

import pytest

from langorch.ckp.ir import ProcedureIR
from langorch.runtime.errors import InputError
from langorch.runtime.inputs import coerce, validate_inputs
from tests.runtime.harness import Harness, ckp, compile_ok, end

SCHEMA: dict[str, Any] = {
    "required": {
        "invoice_id": {"type": "string", "validation": {"regex": "INV-[0-9]{4}"}},
        "amount": {"type": "number", "validation": {"min": 1, "max": 10000}},
        "currency": {"type": "string", "validation": {"allowed_values": ["EUR", "USD"]}},
    },
    "optional": {
        "priority": {"type": "integer", "default": 3, "validation": {"min": 1, "max": 5}},
        "rush": {"type": "boolean", "default": False},
        "lines": {"type": "array", "validation": {"min": 1}},
        "note": {"type": "string", "validation": {"max_length": 10}},
    },
}


def _ir() -> ProcedureIR:
    return compile_ok(ckp({"done": end()}, variables=SCHEMA))


def _problems(inputs: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(InputError) as info:
        validate_inputs(_ir(), inputs)
    fields = [p.field for p in info.value.problems]
    assert len(fields) == len(set(fields)), "one message per field"
    return {p.field: p.message for p in info.value.problems}


def test_valid_inputs_pass_and_get_defaults() -> None:
    values = validate_inputs(_ir(), {"invoice_id": "INV-0042", "amount": 99.5, "currency": "EUR"})

    assert values == {"invoice_id": "INV-0042", "amount": 99.5, "currency": "EUR", "priority": 3, "rush": False}


def test_every_missing_required_field_is_reported() -> None:
    assert _problems({}) == {"invoice_id": "is required", "amount": "is required", "currency": "is required"}


def test_each_rule_gives_one_message_for_its_field() -> None:
    problems = _problems({"invoice_id": "INV-42", "amount": 0, "currency": "GBP", "priority": 9,
                          "lines": [], "note": "far too long a note"})

    assert problems == {
        "invoice_id": "does not match the pattern INV-[0-9]{4}",
        "amount": "must be ≥ 1",
        "currency": "must be one of ['EUR', 'USD']",
        "priority": "must be ≤ 5",
        "lines": "must have at least 1 items",
        "note": "must be at most 10 characters",
    }


def test_wrong_types_are_reported_and_booleans_are_not_numbers() -> None:
    problems = _problems({"invoice_id": 42, "amount": True, "currency": "EUR", "priority": 2.5, "rush": "yes"})

    assert problems == {
        "invoice_id": "must be a string, got int",
        "amount": "must be a number, got boolean",
        "priority": "must be a integer, got float",
        "rush": "must be a boolean, got str",
    }


def test_an_error_lists_all_problems_in_its_message() -> None:
    with pytest.raises(InputError) as info:
        validate_inputs(_ir(), {"amount": 0})

    assert info.value.code == "invalid_input"
    assert str(info.value) == "invoice_id: is required; amount: must be ≥ 1; currency: is required"


@pytest.mark.parametrize(("kind", "text", "value"), [
    ("integer", "42", 42), ("number", "2.5", 2.5), ("number", "7", 7), ("boolean", "true", True),
    ("boolean", "no", False), ("string", "42", "42"), ("integer", "x", "x"),
])
def test_command_line_text_is_coerced_to_the_declared_type(kind: str, text: str, value: Any) -> None:
    ir = compile_ok(ckp({"done": end()}, variables={"v": {"type": kind}}))
    var = ir.variable("v")
    assert var is not None

    assert coerce(var, text) == value


@pytest.mark.asyncio
async def test_runner_start_applies_defaults() -> None:
    h = Harness()

    out = await h.run(_ir(), {"invoice_id": "INV-0001", "amount": 5, "currency": "USD"})

    assert out.vars["priority"] == 3 and out.vars["rush"] is False
