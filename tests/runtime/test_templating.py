from __future__ import annotations

from typing import Any

import pytest

from langorch.runtime import templating
from langorch.runtime.errors import TemplateError
from langorch.runtime.templating import render, render_text

SCOPE: dict[str, Any] = {
    "invoice_list": [
        {"amount": 10, "score": "0.5", "vendor": "b"},
        {"amount": "5.5", "score": 1, "vendor": "a"},
    ],
    "execution_date": "2024-05-01",
    "count": 3,
    "flag": True,
    "nothing": None,
    "data": {"items": [1, 2], "name": "acme", "inner": {"x": 1}},
    "title": "hello",
    "empty": [],
    "raw_json": '{"a": [1, 2]}',
}


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{{ invoice_list }}", SCOPE["invoice_list"]),
        ("  {{count}}  ", 3),
        ("{{ flag }}", True),
        ("{{ nothing }}", None),
        ("{{ data.inner }}", {"x": 1}),
        ("{{ invoice_list.length }}", 2),
        ("{{ count * 2 }}", 6),
        ("{{ raw_json | fromjson }}", {"a": [1, 2]}),
    ],
)
def test_exact_single_expression_keeps_its_type(template: str, expected: Any) -> None:
    assert render(template, SCOPE) == expected
    assert type(render(template, SCOPE)) is type(expected)


def test_strings_without_templates_are_returned_untouched_without_jinja(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def boom(source: str) -> Any:
        raise AssertionError("jinja must not be touched")

    monkeypatch.setattr(templating, "_compile_template", boom)
    monkeypatch.setattr(templating, "_compile_expression", boom)
    text = "plain { text } with $ and %"
    assert render(text, SCOPE) is text
    assert render_text(text, SCOPE) is text


def test_nested_values_are_rendered_and_non_strings_kept() -> None:
    value = {"a": ["{{ count }}", {"b": "Date {{ execution_date }}"}], "n": 5, "none": None}
    assert render(value, SCOPE) == {"a": [3, {"b": "Date 2024-05-01"}], "n": 5, "none": None}


def test_mixed_text_renders_json_for_containers_and_lowercase_booleans() -> None:
    out = render("d={{ data.inner }} f={{ flag }} n=[{{ nothing }}] l={{ empty }}", SCOPE)
    assert out == 'd={"x": 1} f=true n=[] l=[]'


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{{ invoice_list.length }}", 2),
        ("{{ invoice_list.count }}", 2),
        ("{{ invoice_list.size }}", 2),
        ("{{ invoice_list.sum(amount) }}", 15.5),
        ("{{ invoice_list.sum('amount') }}", 15.5),
        ("{{ invoice_list.avg(score) }}", 0.75),
        ("{{ invoice_list.min(amount) }}", 5.5),
        ("{{ invoice_list.max(amount) }}", 10),
        ("{{ invoice_list.min(vendor) }}", "a"),
        ("{{ invoice_list.first.vendor }}", "b"),
        ("{{ invoice_list.last.vendor }}", "a"),
        ("{{ empty.first }}", None),
        ("{{ empty.avg('x') }}", None),
        ("{{ empty.sum('x') }}", 0),
        ("{{ [1, 2, 3].sum() }}", 6),
        ("{{ title.length }}", 5),
        ("{{ invoice_list['length'] }}", 2),
    ],
)
def test_list_and_string_helpers(template: str, expected: Any) -> None:
    assert render(template, SCOPE) == expected


def test_sample_workflow_total_amount_idiom() -> None:
    text = (
        "Executive approval needed for {{invoice_list.length}} invoices "
        "totaling ${{invoice_list.sum(amount)}}"
    )
    assert render_text(text, SCOPE) == "Executive approval needed for 2 invoices totaling $15.5"


def test_dict_keys_win_over_dict_methods() -> None:
    assert render("{{ data.items }}", SCOPE) == [1, 2]
    assert render("{{ data.name }}", SCOPE) == "acme"


def test_filters_include_json_and_jinja_builtins() -> None:
    assert render("{{ data.inner | json }}", SCOPE) == '{"x": 1}'
    assert render("{{ title | upper }}", SCOPE) == "HELLO"
    assert render("{{ nothing | default('n/a', true) }}", SCOPE) == "n/a"


def test_statements_render() -> None:
    text = "{% for i in invoice_list %}{{ i.vendor }}{% if not loop.last %},{% endif %}{% endfor %}"
    assert render(text, SCOPE) == "b,a"


def test_render_text_always_returns_a_string() -> None:
    assert render_text("{{ count }}", SCOPE) == "3"
    assert render_text("{{ data.inner }}", SCOPE) == '{"x": 1}'


def test_undefined_variable_names_the_variable_and_where() -> None:
    with pytest.raises(TemplateError) as info:
        render({"url": "go to {{ missing_var }}"}, SCOPE, where="node 'fetch'")
    assert info.value.message == "undefined variable 'missing_var' in node 'fetch' (field url)"
    assert info.value.details["variable"] == "missing_var"
    assert info.value.retryable is False


def test_undefined_variable_in_exact_expression_is_reported_too() -> None:
    with pytest.raises(TemplateError, match="undefined variable 'ghost' in step s1"):
        render("{{ ghost }}", SCOPE, where="step s1")


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("{{ data.missing }}", "variable 'data' has no field 'missing' in n"),
        ("x {{ data.inner.y }}", "variable 'data.inner' has no field 'y' in n"),
        ("{{ invoice_list[7] }}", "variable 'invoice_list' has no item 7 in n"),
    ],
)
def test_missing_field_names_the_variable_and_field(template: str, message: str) -> None:
    with pytest.raises(TemplateError) as info:
        render(template, SCOPE, where="n")
    assert info.value.message == message


@pytest.mark.parametrize(
    ("template", "fragment"),
    [
        ("{{ count", "template syntax error in w"),
        ("{{ count / 0 }}", "ZeroDivisionError"),
        ("{{ data.__class__ }}", "template not allowed in w"),
        ("{{ invoice_list.sum() }}", "is not a number"),
        ("{{ title | fromjson }}", "cannot render template in w"),
    ],
)
def test_other_failures_are_template_errors(template: str, fragment: str) -> None:
    with pytest.raises(TemplateError) as info:
        render(template, SCOPE, where="w")
    assert fragment in info.value.message


def test_templates_are_compiled_once() -> None:
    templating._compile_template.cache_clear()
    for _ in range(3):
        render("Hi {{ title | upper }}", SCOPE)
    info = templating._compile_template.cache_info()
    assert info.misses == 1
    assert info.hits == 2


@pytest.mark.parametrize("text", [
    "Hi {{ title }}!", "{{a}}-{{ b.c }}", "flag={{flag}} none={{nothing}} obj={{obj}} list={{items}}",
    "plain {{ deep.x.y }} end",
])
def test_plain_reference_fast_path_renders_exactly_like_jinja(text: str) -> None:
    scope = {"title": "Ops", "a": 1, "b": {"c": 2.5}, "flag": True, "nothing": None, "obj": {"k": "v"},
             "items": [1, "x"], "deep": {"x": {"y": "z"}}}

    assert render(text, scope) == templating._compile_template(text).render(scope)


def test_fast_path_falls_back_to_jinja_for_virtual_fields_and_errors() -> None:
    assert render("n={{ items.length }}", {"items": [1, 2, 3]}) == "n=3"
    with pytest.raises(TemplateError, match="undefined variable 'missing'"):
        render("x {{ missing.field }}", {})
