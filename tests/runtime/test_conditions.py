from __future__ import annotations

import contextlib
import datetime as dt
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from langorch.ckp.expressions import parse_expression
from langorch.runtime.conditions import (
    evaluate,
    evaluate_condition,
    lookup_path,
    to_number,
    truthy,
)
from langorch.runtime.errors import ConditionError

SCOPE: dict[str, Any] = {
    "book_titles": {"count": 3, "texts": ["a", "b", "c"]},
    "page_title": "Example Domain",
    "validation_result": {"amount": "100.00", "vendor_status": "Active"},
    "current_invoice": {"amount": 100},
    "invoice_list": [{"amount": 10}, {"amount": "5.5"}],
    "status": "failed",
    "amount": 150,
    "region": "EU",
    "empty_list": [],
    "blank": "  ",
    "nothing": None,
    "flag": "false",
    "nested": {"rows": [[1, 2], [3, 4]], "0": "zero-key"},
}


@pytest.mark.parametrize(
    "text",
    [
        "{{book_titles.count}} > 0",
        "{{page_title}} contains 'Example Domain'",
        "{{validation_result.amount}} == {{current_invoice.amount}}",
        "{{validation_result.vendor_status}} == 'Active'",
        "{{invoice_list.length}} > 0",
        "status == 'failed'",
        "amount > 100 and region in ['EU','US']",
        "always",
        "true",
    ],
)
def test_real_ckp_conditions_hold(text: str) -> None:
    assert evaluate_condition(text, SCOPE) is True


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("invoice_list.length", 2),
        ("invoice_list.count", 2),
        ("invoice_list.size", 2),
        ("page_title.length", 14),
        ("invoice_list[1].amount", "5.5"),
        ("invoice_list.1.amount", "5.5"),
        ("invoice_list[-1].amount", "5.5"),
        ("nested.rows[1][0]", 3),
        ("nested.0", "zero-key"),
        ("book_titles.count", 3),
        ("missing.deeply.nested", None),
        ("invoice_list[9]", None),
        ("amount.field", None),
    ],
)
def test_path_lookup(text: str, expected: Any) -> None:
    assert evaluate(text, SCOPE) == expected


def test_dict_key_wins_over_virtual_length() -> None:
    assert lookup_path({"x": {"length": "long"}}, ("x", "length")) == "long"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1 == 1", True),
        ("1 != 2", True),
        ("1 < 2", True),
        ("2 <= 2", True),
        ("3 > 2", True),
        ("2 >= 3", False),
        ("'b' > 'a'", True),
        ("'x' in ['x', 'y']", True),
        ("'z' not in ['x', 'y']", True),
        ("'Dom' in page_title", True),
        ("'count' in book_titles", True),
        ("1 in nothing", False),
        ("page_title contains 'Domain'", True),
        ("page_title not contains 'Nope'", True),
        ("invoice_list contains {'amount': 10} == false", None),
        ("page_title startswith 'Ex'", True),
        ("page_title not startswith 'Ex'", False),
        ("page_title endswith 'main'", True),
        ("page_title not endswith 'main'", False),
        ("page_title matches '^Ex.*n$'", True),
        ("page_title not matches '\\d'", True),
        ("nothing matches 'x'", False),
        ("nothing startswith 'x'", False),
    ],
)
def test_comparison_operators(text: str, expected: Any) -> None:
    if expected is None:
        with pytest.raises(ConditionError):
            evaluate(text, SCOPE)
        return
    assert evaluate(text, SCOPE) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("'5' > 3", True),
        ("3 < '5'", True),
        ("'100.0' == 100", True),
        ("'10' > '9'", False),
        ("validation_result.amount >= 99.5", True),
        ("'abc' == 1", False),
        ("'true' == true", True),
        ("'False' == false", True),
    ],
)
def test_numeric_strings_compare_numerically_with_numbers(text: str, expected: bool) -> None:
    assert evaluate(text, SCOPE) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("nothing == null", True),
        ("nothing != null", False),
        ("missing == null", True),
        ("nothing < 1", False),
        ("nothing > 1", False),
        ("1 >= nothing", False),
    ],
)
def test_none_compares_only_by_equality(text: str, expected: bool) -> None:
    assert evaluate(text, SCOPE) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("nothing is empty", True),
        ("missing is empty", True),
        ("empty_list is empty", True),
        ("blank is empty", True),
        ("page_title is empty", False),
        ("page_title is not empty", True),
        ("amount is empty", False),
        ("nothing is null", True),
        ("amount is not null", True),
        ("amount exists", True),
        ("missing exists", False),
        ("exists(missing)", False),
        ("exists(nothing)", False),
        ("exists(empty_list)", True),
    ],
)
def test_emptiness_and_existence(text: str, expected: bool) -> None:
    assert evaluate(text, SCOPE) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("true and false", False),
        ("true or false", True),
        ("not nothing", True),
        ("!amount", False),
        ("flag", False),
        ("not flag", True),
        ("'no' or 0", False),
        ("'yes' && 1", True),
        ("empty_list || blank", False),
        ("empty_list || page_title", True),
    ],
)
def test_boolean_operators_use_ckp_truth(text: str, expected: bool) -> None:
    assert evaluate_condition(text, SCOPE) is expected


def test_and_short_circuits_before_an_error() -> None:
    assert evaluate("false and 1 / 0 > 1", SCOPE) is False
    assert evaluate("true or 'a' < 1", SCOPE) is True


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1 + 2 * 3", 7),
        ("(1 + 2) * 3", 9),
        ("7 / 2", 3.5),
        ("7 % 4", 3),
        ("10 - -2", 12),
        ("-amount", -150),
        ("'5' + 1", 6),
        ("'a' + 'b'", "ab"),
        ("[1] + [2]", [1, 2]),
        ("validation_result.amount * 2", 200.0),
    ],
)
def test_arithmetic(text: str, expected: Any) -> None:
    assert evaluate(text, SCOPE) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("len(invoice_list)", 2),
        ("len(page_title)", 14),
        ("len(nothing)", 0),
        ("exists(amount)", True),
        ("lower(page_title)", "example domain"),
        ("upper('a')", "A"),
        ("trim('  x ')", "x"),
        ("lower(nothing)", None),
        ("startswith(page_title, 'Ex')", True),
        ("endswith(page_title, 'x')", False),
        ("contains(invoice_list, {'amount': 10})", None),
        ("contains(book_titles.texts, 'b')", True),
        ("matches('abc123', '\\d+')", True),
        ("int('42')", 42),
        ("int(3.9)", 3),
        ("int('4.0')", 4),
        ("float('2.5')", 2.5),
        ("str(5)", "5"),
        ("str(nothing)", ""),
        ("bool('false')", False),
        ("bool(1)", True),
        ("abs(-3)", 3),
        ("abs('-2.5')", 2.5),
        ("round(2.567, 2)", 2.57),
        ("round(2.5)", 2),
        ("min(3, 1, 2)", 1),
        ("max([3, '10', 2])", 10),
        ("min(['b', 'a'])", "a"),
        ("max(nothing)", None),
        ("sum([1, '2', 3.5])", 6.5),
        ("sum(1, 2)", 3),
    ],
)
def test_functions(text: str, expected: Any) -> None:
    if expected is None and "{" in text:
        with pytest.raises(ConditionError):
            evaluate(text, SCOPE)
        return
    assert evaluate(text, SCOPE) == expected


def test_now_and_today_are_iso_strings() -> None:
    today = evaluate("today()", {})
    assert today == dt.date.today().isoformat()
    now = evaluate("now()", {})
    assert dt.datetime.fromisoformat(now).tzinfo is not None
    assert evaluate("due < today()", {"due": "2000-01-01"}) is True


def test_dates_compare_with_iso_strings() -> None:
    assert evaluate("d > '2020-01-01'", {"d": dt.date(2024, 5, 1)}) is True


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("'a' < 1", "cannot compare str 'a' < int 1"),
        ("nothing + 1", "left side of '+' is missing"),
        ("1 / 0", "division by zero"),
        ("5 % 0", "division by zero"),
        ("page_title matches '('", "bad regular expression"),
        ("len(amount)", "len() of int"),
        ("int('x')", "int() of 'x'"),
        ("round(1, 2, 3)", "wrong arguments for round()"),
        ("sum(['a'])", "sum() needs numbers"),
        ("-page_title", "cannot apply unary '-'"),
        ("1 in amount", "cannot look inside int"),
        ("a <", "cannot parse expression"),
        ("nope(1)", "unknown function 'nope'"),
    ],
)
def test_errors_raise_condition_error_naming_node_and_expression(text: str, fragment: str) -> None:
    with pytest.raises(ConditionError) as info:
        evaluate_condition(text, SCOPE, node_id="check_totals")
    message = info.value.message
    assert fragment in message
    assert "node 'check_totals'" in message
    assert repr(text) in message
    assert info.value.retryable is False
    assert info.value.details["expression"] == text


def test_evaluate_accepts_a_parsed_tree() -> None:
    assert evaluate(parse_expression("amount * 2"), SCOPE) == 300


def test_evaluate_condition_returns_a_real_bool() -> None:
    assert evaluate_condition("amount", SCOPE) is True
    assert evaluate_condition("nothing", SCOPE) is False


@pytest.mark.parametrize(
    ("value", "expected"),
    [("5", 5), (" 2.5 ", 2.5), ("1e2", 100.0), ("x", None), (True, None), ("nan", None), ("1_000", None)],
)
def test_to_number(value: Any, expected: Any) -> None:
    assert to_number(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("false", False),
        ("No", False),
        ("off", False),
        ("0", False),
        ("", False),
        ("yes", True),
        (0, False),
        ([], False),
        ([0], True),
        (None, False),
    ],
)
def test_truthy(value: Any, expected: bool) -> None:
    assert truthy(value) is expected


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab1 .'\"[](){}<>=!&|+-*/%,_notisempy")), max_size=30))
def test_evaluating_any_text_only_ever_raises_condition_error(text: str) -> None:
    with contextlib.suppress(ConditionError):
        evaluate(text, {"a": [1, "2"], "b": {"x": None}})
