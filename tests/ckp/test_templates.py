from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from langorch.ckp.templates import (
    TemplateSyntaxProblem,
    has_template,
    iter_strings,
    normalize_template,
    template_references,
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("plain", False), ("{{ x }}", True), ("{% if a %}b{% endif %}", True), ("{ x }", False), ("", False)],
)
def test_has_template(value: str, expected: bool) -> None:
    assert has_template(value) is expected


def test_iter_strings_walks_nested_values_with_paths() -> None:
    value = {"a": "x", "b": [1, "y", {"c": "z"}], "d": None}
    assert list(iter_strings(value)) == [(("a",), "x"), (("b", 1), "y"), (("b", 2, "c"), "z")]
    assert list(iter_strings("s", ("root",))) == [(("root",), "s")]


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("{{invoice_list.sum(amount)}}", "{{invoice_list.sum('amount')}}"),
        (
            "${{ items.avg( score ) }} and {{ x.max(a, b) }}",
            "${{ items.avg('score') }} and {{ x.max('a', 'b') }}",
        ),
        ("{{ x.sum('amount') }}", "{{ x.sum('amount') }}"),
        ("{{ x.get(none) }}", "{{ x.get(none) }}"),
        ("outside.sum(amount) {{ y }}", "outside.sum(amount) {{ y }}"),
        ("no braces", "no braces"),
    ],
)
def test_normalize_quotes_bare_word_method_arguments_inside_braces(source: str, expected: str) -> None:
    assert normalize_template(source) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("{{ a.b.c }}", [("a", "b", "c")]),
        ("{{ x[0].y }}", [("x", 0, "y")]),
        ("{{ x.0 }} {{ x['k'] }}", [("x", 0), ("x", "k")]),
        ("{{ invoice_list.sum(amount) }}", [("invoice_list",)]),
        ("{{ invoice_list.length }}", [("invoice_list", "length")]),
        ("{{ d[k].v }}", [("d",), ("k",)]),
        ("{{ name | default('x') | upper }}", [("name",)]),
        ("{{ a is defined }}{{ range(3) }}", [("a",)]),
        ("{% for i in items %}{{ i.name }}{{ loop.index }}{{ other }}{% endfor %}", [("items",), ("other",)]),
        ("{% set z = q.r %}{{ z }}", [("q", "r")]),
        ("{{ a }} {{ a }} {{ b }}", [("a",), ("b",)]),
        ("Hello {{ secrets.portal_credentials.username }}!", [("secrets", "portal_credentials", "username")]),
        ("no template here", []),
    ],
)
def test_template_references(text: str, expected: list[tuple[object, ...]]) -> None:
    assert template_references(text) == expected


def test_references_returns_a_fresh_list_each_time() -> None:
    first = template_references("{{ a }}")
    first.append(("junk",))
    assert template_references("{{ a }}") == [("a",)]


@pytest.mark.parametrize(
    ("text", "line"),
    [("{{ a", 1), ("line one\n{% for %}", 2), ("{{ a b }}", 1), ("{% if x %}", 1)],
)
def test_bad_syntax_raises_template_syntax_problem_with_line(text: str, line: int) -> None:
    with pytest.raises(TemplateSyntaxProblem) as info:
        template_references(text)
    assert info.value.line == line
    assert info.value.message
    assert f"(line {line})" in str(info.value)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("{}%#ab1 .()[]|'\"-+=\n")), max_size=40) | st.text())
def test_template_references_only_ever_raises_template_syntax_problem(text: str) -> None:
    try:
        template_references(text)
    except TemplateSyntaxProblem as exc:
        assert exc.line >= 1
