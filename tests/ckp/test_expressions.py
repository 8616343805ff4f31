from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from langorch.ckp.expressions import (
    Binary,
    BoolOp,
    Call,
    Check,
    Compare,
    ExpressionSyntaxError,
    ListExpr,
    Literal,
    Ref,
    Unary,
    expression_references,
    parse_expression,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("{{book_titles.count}} > 0", Compare(">", Ref(("book_titles", "count")), Literal(0))),
        (
            "{{page_title}} contains 'Example Domain'",
            Compare("contains", Ref(("page_title",)), Literal("Example Domain")),
        ),
        (
            "{{validation_result.amount}} == {{current_invoice.amount}}",
            Compare("==", Ref(("validation_result", "amount")), Ref(("current_invoice", "amount"))),
        ),
        ("status == 'failed'", Compare("==", Ref(("status",)), Literal("failed"))),
        ("{{ a.b[0].c }}", Ref(("a", "b", 0, "c"))),
        ("a.0.b", Ref(("a", 0, "b"))),
        ("a['key'][-1]", Ref(("a", "key", -1))),
    ],
)
def test_parses_real_ckp_conditions_and_paths(text: str, expected: object) -> None:
    assert parse_expression(text) == expected


def test_and_binds_tighter_than_or_and_lists_are_literals() -> None:
    tree = parse_expression("amount > 100 and region in ['EU','US'] or vip")
    assert tree == BoolOp(
        "or",
        (
            BoolOp(
                "and",
                (
                    Compare(">", Ref(("amount",)), Literal(100)),
                    Compare("in", Ref(("region",)), ListExpr((Literal("EU"), Literal("US")))),
                ),
            ),
            Ref(("vip",)),
        ),
    )


def test_symbolic_boolean_operators_mean_the_same_as_words() -> None:
    assert parse_expression("a && b || !c") == parse_expression("a and b or not c")


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("42", 42),
        ("3.5", 3.5),
        ("1e3", 1000.0),
        ("-2", -2),
        ("true", True),
        ("True", True),
        ("false", False),
        ("False", False),
        ("null", None),
        ("None", None),
        ("always", True),
        (r"'a\'b'", "a'b"),
        (r'"x\n\"y\""', 'x\n"y"'),
        (r"'\u00e9'", "é"),
    ],
)
def test_literals(text: str, value: object) -> None:
    assert parse_expression(text) == Literal(value)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "op", ["==", "!=", "<", "<=", ">", ">=", "in", "contains", "startswith", "endswith", "matches"]
)
def test_every_comparison_operator_parses(op: str) -> None:
    assert parse_expression(f"a {op} 'x'") == Compare(op, Ref(("a",)), Literal("x"))


@pytest.mark.parametrize("word", ["in", "contains", "startswith", "endswith", "matches"])
def test_not_prefixed_word_operators(word: str) -> None:
    assert parse_expression(f"a not {word} b") == Compare(f"not {word}", Ref(("a",)), Ref(("b",)))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("x is empty", Check("empty", Ref(("x",)))),
        ("x is not empty", Check("empty", Ref(("x",)), negated=True)),
        ("x is null", Check("null", Ref(("x",)))),
        ("x is not null", Check("null", Ref(("x",)), negated=True)),
        ("{{x}} exists", Check("exists", Ref(("x",)))),
    ],
)
def test_one_operand_checks(text: str, expected: object) -> None:
    assert parse_expression(text) == expected


def test_arithmetic_precedence_and_parentheses() -> None:
    assert parse_expression("1 + 2 * 3") == Binary("+", Literal(1), Binary("*", Literal(2), Literal(3)))
    assert parse_expression("(1 + 2) % 3") == Binary("%", Binary("+", Literal(1), Literal(2)), Literal(3))
    assert parse_expression("-x / 2") == Binary("/", Unary("-", Ref(("x",))), Literal(2))


@pytest.mark.parametrize(
    "name",
    [
        "len",
        "exists",
        "lower",
        "upper",
        "trim",
        "startswith",
        "endswith",
        "contains",
        "matches",
        "int",
        "float",
        "str",
        "bool",
        "abs",
        "round",
        "min",
        "max",
        "sum",
        "now",
        "today",
    ],
)
def test_every_function_parses(name: str) -> None:
    assert parse_expression(f"{name}(a, 1)") == Call(name, (Ref(("a",)), Literal(1)))


def test_unknown_function_is_a_syntax_error_listing_the_known_ones() -> None:
    with pytest.raises(ExpressionSyntaxError) as info:
        parse_expression("shell('rm')")
    assert "unknown function 'shell'" in info.value.message
    assert "len" in info.value.message
    assert info.value.position == 0


@pytest.mark.parametrize(
    ("text", "message", "position"),
    [
        ("(a == 1))", "unexpected ')'", 8),
        ("a ==", "unexpected end of expression", 4),
        ("'open", "unterminated string", 0),
        ("a < b < c", "comparisons cannot be chained", 6),
        ("{{ a + 1 }}", "only a variable path may stand inside {{ }}", 5),
        ("{{ 'x' }}", "only a variable path may stand inside {{ }}", 3),
        ("{{a", "'{{' is never closed", 0),
        ("a is big", "expected 'empty' or 'null'", 5),
        ("a $ b", "unexpected character '$'", 2),
        ("", "empty expression", 0),
        ("9" * 5000, "number too long", 0),
        (r"'\u12'", "bad \\u escape", 1),
    ],
)
def test_syntax_errors_say_what_and_where(text: str, message: str, position: int) -> None:
    with pytest.raises(ExpressionSyntaxError) as info:
        parse_expression(text)
    assert message in info.value.message
    assert info.value.position == position
    assert str(info.value).endswith(f"at column {position + 1}")


def test_syntax_error_str_reads_like_a_sentence() -> None:
    with pytest.raises(ExpressionSyntaxError) as info:
        parse_expression("(a == 1))")
    assert str(info.value) == "unexpected ')' at column 9"


def test_deep_nesting_is_a_syntax_error_not_a_crash() -> None:
    with pytest.raises(ExpressionSyntaxError, match="nested too deeply"):
        parse_expression("(" * 500 + "1" + ")" * 500)


def test_parse_is_cached() -> None:
    assert parse_expression("a == 1") is parse_expression("a == 1")


def test_references_in_order_without_duplicates() -> None:
    tree = parse_expression("len(items) > 0 and {{a.b}} == x[0].y or not exists(a.b) and max(z, 1) > -w")
    assert expression_references(tree) == [("items",), ("a", "b"), ("x", 0, "y"), ("z",), ("w",)]


def test_references_of_a_literal_are_empty() -> None:
    assert expression_references(parse_expression("[1, 'a', true]")) == []


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab1 .'\"[](){}<>=!&|+-*/%,_\\ue")), max_size=40) | st.text())
def test_parse_only_ever_raises_expression_syntax_error(text: str) -> None:
    try:
        parse_expression(text)
    except ExpressionSyntaxError as exc:
        assert 0 <= exc.position <= len(text)
