from __future__ import annotations

from typing import Any

import pytest

from langorch.runtime.errors import ConditionError, StepError
from langorch.runtime.transforms import SUPPORTED_TRANSFORMATIONS, apply_transformation, apply_transformations

RESULTS: list[dict[str, Any]] = [
    {"id": 1, "amount": "10", "confidence_score": 0.9, "status": "ok", "vendor": {"code": "B"}},
    {"id": 2, "amount": 5, "confidence_score": 0.7, "status": "failed", "vendor": {"code": "A"}},
    {"id": 3, "amount": None, "status": "failed", "vendor": {"code": "A"}},
]
SCOPE: dict[str, Any] = {
    "processing_results": RESULTS,
    "vendors": [{"id": 1, "name": "Acme"}, {"id": 2, "name": "Globex"}, {"id": 2, "name": "Globex EU"}],
    "threshold": 6,
    "numbers": [3, 1, 2],
    "nothing": None,
    "text": "abc",
}


def apply(t: dict[str, Any], scope: dict[str, Any] | None = None) -> Any:
    t.setdefault("output_variable", "out")
    return apply_transformation(t, SCOPE if scope is None else scope)["out"]


def test_filter_with_item_fields_in_scope() -> None:
    out = apply(
        {"type": "filter", "source_variable": "processing_results", "expression": "status == 'failed'"}
    )
    assert [r["id"] for r in out] == [2, 3]


def test_filter_sees_item_and_run_variables() -> None:
    out = apply(
        {
            "type": "filter",
            "source_variable": "{{processing_results}}",
            "expression": "item.amount > threshold",
        }
    )
    assert [r["id"] for r in out] == [1]


def test_map_with_expression() -> None:
    assert apply({"type": "map", "source_variable": "numbers", "expression": "item * 10"}) == [30, 10, 20]


def test_map_with_fields_builds_objects() -> None:
    out = apply(
        {
            "type": "map",
            "source_variable": "processing_results",
            "params": {"fields": {"key": "id", "vendor": "vendor.code", "big": "amount > 6", "fixed": 1}},
        }
    )
    assert out == [
        {"key": 1, "vendor": "B", "big": True, "fixed": 1},
        {"key": 2, "vendor": "A", "big": False, "fixed": 1},
        {"key": 3, "vendor": "A", "big": False, "fixed": 1},
    ]


def test_aggregate_like_the_sample_workflow() -> None:
    out = apply(
        {
            "type": "aggregate",
            "source_variable": "processing_results",
            "expression": "count, sum(amount), avg(confidence_score), min(amount), max(id)",
        }
    )
    assert out == {"count": 3, "sum_amount": 15, "avg_confidence_score": 0.8, "min_amount": 5, "max_id": 3}


def test_aggregate_of_an_empty_list_gives_zero_count_and_none() -> None:
    out = apply(
        {"type": "aggregate", "source_variable": "nothing", "expression": "count, sum(amount), avg(x)"}
    )
    assert out == {"count": 0, "sum_amount": None, "avg_x": None}


def test_aggregate_aliases_count_of_field_and_group_by() -> None:
    out = apply(
        {
            "type": "aggregate",
            "source_variable": "processing_results",
            "expression": "count(amount) as priced, sum(amount) as total",
            "params": {"group_by": "status"},
        }
    )
    assert out == {"ok": {"priced": 1, "total": 10}, "failed": {"priced": 1, "total": 5}}


def test_aggregate_rejects_unknown_terms_and_non_numbers() -> None:
    with pytest.raises(StepError, match="cannot read aggregate 'median"):
        apply({"type": "aggregate", "source_variable": "numbers", "expression": "median(x)"})
    with pytest.raises(StepError, match="field 'status' has a non-numeric value 'ok'"):
        apply({"type": "aggregate", "source_variable": "processing_results", "expression": "sum(status)"})


@pytest.mark.parametrize(
    ("order", "expected"),
    [("asc", [2, 1, 3]), ("desc", [1, 2, 3])],
)
def test_sort_numeric_strings_with_none_last(order: str, expected: list[int]) -> None:
    out = apply(
        {"type": "sort", "source_variable": "processing_results", "params": {"key": "amount", "order": order}}
    )
    assert [r["id"] for r in out] == expected


def test_sort_is_stable_and_accepts_expression_as_key_and_dotted_paths() -> None:
    out = apply({"type": "sort", "source_variable": "processing_results", "expression": "vendor.code"})
    assert [r["id"] for r in out] == [2, 3, 1]


def test_sort_whole_items_and_bad_order() -> None:
    assert apply({"type": "sort", "source_variable": "numbers"}) == [1, 2, 3]
    with pytest.raises(StepError, match="order must be 'asc' or 'desc'"):
        apply({"type": "sort", "source_variable": "numbers", "params": {"order": "up"}})


def test_deduplicate_by_field_keeps_first() -> None:
    out = apply({"type": "deduplicate", "source_variable": "vendors", "params": {"key": "id"}})
    assert [v["name"] for v in out] == ["Acme", "Globex"]


def test_deduplicate_whole_items() -> None:
    scope = {"rows": [{"a": 1}, {"a": 1}, {"a": 2}, [1], [1], 3, 3]}
    assert apply({"type": "deduplicate", "source_variable": "rows"}, scope) == [{"a": 1}, {"a": 2}, [1], 3]


def test_join_inner_and_left() -> None:
    base = {
        "type": "join",
        "source_variable": "processing_results",
        "params": {"with": "vendors", "on": "id"},
    }
    inner = apply({**base, "params": {**base["params"], "how": "inner"}})
    assert [(r["id"], r["name"]) for r in inner] == [(1, "Acme"), (2, "Globex"), (2, "Globex EU")]
    left = apply({**base, "params": {**base["params"], "how": "left"}})
    assert [(r["id"], r.get("name")) for r in left] == [
        (1, "Acme"),
        (2, "Globex"),
        (2, "Globex EU"),
        (3, None),
    ]


def test_join_needs_a_known_other_list_and_valid_how() -> None:
    with pytest.raises(StepError, match=r"params\.with 'ghost' is not defined"):
        apply({"type": "join", "source_variable": "vendors", "params": {"with": "ghost", "on": "id"}})
    with pytest.raises(StepError, match="how must be 'inner' or 'left'"):
        apply(
            {
                "type": "join",
                "source_variable": "vendors",
                "params": {"with": "vendors", "on": "id", "how": "x"},
            }
        )


def test_reduce_with_acc_and_item() -> None:
    out = apply(
        {"type": "reduce", "source_variable": "numbers", "expression": "acc + item", "params": {"initial": 0}}
    )
    assert out == 6
    out = apply(
        {
            "type": "reduce",
            "source_variable": "vendors",
            "expression": "acc + [name]",
            "params": {"initial": []},
        }
    )
    assert out == ["Acme", "Globex", "Globex EU"]


def test_reduce_without_initial_starts_from_null() -> None:
    with pytest.raises(ConditionError, match="left side of '\\+' is missing"):
        apply({"type": "reduce", "source_variable": "numbers", "expression": "acc + item"})


def test_pivot_builds_a_dict_of_dicts() -> None:
    sales = {
        "sales": [
            {"region": "EU", "month": "jan", "total": 1},
            {"region": "EU", "month": "feb", "total": 2},
            {"region": "US", "month": "jan", "total": 3},
            {"region": "US", "month": "jan", "total": 4},
        ]
    }
    params = {"index": "region", "columns": "month", "values": "total"}
    assert apply({"type": "pivot", "source_variable": "sales", "params": params}, sales) == {
        "EU": {"jan": 1, "feb": 2},
        "US": {"jan": 4},
    }
    summed = apply(
        {"type": "pivot", "source_variable": "sales", "params": {**params, "aggregate": "sum"}}, sales
    )
    assert summed["US"] == {"jan": 7}
    with pytest.raises(StepError, match=r"needs params\.index, params\.columns and params\.values"):
        apply({"type": "pivot", "source_variable": "sales", "params": {"index": "region"}}, sales)


def test_transformations_run_in_order_seeing_earlier_outputs() -> None:
    out = apply_transformations(
        [
            {
                "type": "filter",
                "source_variable": "processing_results",
                "expression": "status == 'failed'",
                "output_variable": "failed",
            },
            {
                "type": "aggregate",
                "source_variable": "failed",
                "expression": "count",
                "output_variable": "stats",
            },
        ],
        SCOPE,
        node_id="summary",
    )
    assert out["stats"] == {"count": 2}
    assert "failed" not in SCOPE


@pytest.mark.parametrize(
    ("t", "fragment"),
    [
        ({"type": "explode", "source_variable": "numbers"}, "unknown type 'explode'; supported: aggregate"),
        (
            {"type": "filter", "source_variable": "ghost", "expression": "x"},
            "source_variable 'ghost' is not defined",
        ),
        ({"type": "filter", "source_variable": "text", "expression": "x"}, "'text' is a str, not a list"),
        ({"type": "filter", "source_variable": "numbers"}, "needs 'expression'"),
        ({"type": "filter", "expression": "x"}, "needs 'source_variable'"),
    ],
)
def test_errors_name_the_transformation_index_type_and_node(t: dict[str, Any], fragment: str) -> None:
    t.setdefault("output_variable", "out")
    with pytest.raises(StepError) as info:
        apply_transformation(t, SCOPE, index=4, node_id="summary")
    message = info.value.message
    assert message.startswith(f"transformation 4 ({t['type']}) in node 'summary': ")
    assert fragment in message
    assert info.value.retryable is False
    assert info.value.error_type == "TransformError"


def test_bad_expression_is_a_condition_error_with_the_same_prefix() -> None:
    with pytest.raises(ConditionError) as info:
        apply_transformation(
            {"type": "filter", "source_variable": "numbers", "expression": "item <", "output_variable": "o"},
            SCOPE,
            index=0,
        )
    assert info.value.message.startswith("transformation 0 (filter): cannot parse expression 'item <'")
    assert str(info.value) == info.value.message


def test_missing_output_variable() -> None:
    with pytest.raises(StepError, match="needs 'output_variable'"):
        apply_transformation({"type": "sort", "source_variable": "numbers"}, SCOPE)


def test_supported_transformations_are_exported() -> None:
    assert {
        "filter",
        "map",
        "aggregate",
        "sort",
        "deduplicate",
        "join",
        "reduce",
        "pivot",
    } == SUPPORTED_TRANSFORMATIONS
