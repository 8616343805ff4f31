from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from langorch.runtime.errors import ConditionError, StepError, TemplateError
from langorch.runtime.operations import SUPPORTED_OPERATIONS, OpContext, run_operations
from langorch.runtime.workspace import PathNotAllowed, confined_path


class Recorder:
    def __init__(self) -> None:
        self.logs: list[tuple[str, str]] = []
        self.notifications: list[Mapping[str, Any]] = []

    async def log(self, level: str, message: str) -> None:
        self.logs.append((level, message))

    async def notify(self, op: Mapping[str, Any], index: int, updates: Mapping[str, Any]) -> None:
        self.notifications.append({"op": dict(op), "index": index, "updates": dict(updates)})


async def run(
    ops: Sequence[Mapping[str, Any]], scope: Mapping[str, Any] | None = None, *, notify: bool = False,
    files: Path | None = None,
) -> tuple[dict[str, Any], Recorder]:
    """Run ``ops``; ``files`` is the run's work folder that file paths are confined to."""
    rec = Recorder()
    resolve = None
    if files is not None:
        def resolve(raw: str) -> Path:
            return confined_path(str(files.parent), files.name, raw)
    ctx = OpContext(scope=scope or {}, node_id="proc", log=rec.log, notify=rec.notify if notify else None,
                    resolve_path=resolve)
    return await run_operations(ops, ctx), rec


@pytest.mark.asyncio
async def test_set_variable_renders_and_keeps_type_of_exact_template() -> None:
    out, _ = await run(
        [
            {"action": "set_variable", "variable": "items", "value": "{{ src }}"},
            {"action": "set_variable", "variable": "greeting", "value": "Hi {{ name }}"},
            {"action": "set_variable", "variable": "obj", "value": {"n": "{{ src.length }}"}},
            {"action": "set_variable", "variable": "calc", "expression": "len(src) * 10"},
        ],
        {"src": [1, 2], "name": "Ann"},
    )
    assert out == {"items": [1, 2], "greeting": "Hi Ann", "obj": {"n": 2}, "calc": 20}


@pytest.mark.asyncio
async def test_each_operation_sees_earlier_updates_and_input_scope_is_not_mutated() -> None:
    scope = {"a": 1}
    out, _ = await run(
        [
            {"action": "set_variable", "variable": "b", "value": "{{ a + 1 }}"},
            {"action": "calculate", "expression": "b * 10", "output_variable": "c"},
            {"action": "set_variable", "variable": "a", "value": 5},
        ],
        scope,
    )
    assert out == {"b": 2, "c": 20, "a": 5}
    assert scope == {"a": 1}


@pytest.mark.asyncio
async def test_append_to_array_creates_and_extends_without_mutating() -> None:
    existing = [1]
    out, _ = await run(
        [
            {"action": "append_to_array", "array": "fresh", "value": "{{ x }}"},
            {"action": "append_to_array", "array": "{{existing}}", "value": 2},
            {"action": "append_to_array", "array": "existing", "value": 3},
        ],
        {"x": {"k": 1}, "existing": existing},
    )
    assert out == {"fresh": [{"k": 1}], "existing": [1, 2, 3]}
    assert existing == [1]


@pytest.mark.asyncio
async def test_append_to_a_non_array_fails() -> None:
    with pytest.raises(StepError, match="variable 's' is a str, not an array"):
        await run([{"action": "append_to_array", "array": "s", "value": 1}], {"s": "text"})


@pytest.mark.asyncio
async def test_parse_json_from_template_or_bare_variable_name() -> None:
    out, _ = await run(
        [
            {"action": "parse_json", "source": "{{ raw }}", "output_variable": "a"},
            {"action": "parse_json", "source": "raw", "output_variable": "b"},
            {"action": "parse_json", "source": "{{ already }}", "output_variable": "c"},
        ],
        {"raw": '{"x": [1, 2]}', "already": {"y": 1}},
    )
    assert out == {"a": {"x": [1, 2]}, "b": {"x": [1, 2]}, "c": {"y": 1}}


@pytest.mark.asyncio
async def test_parse_json_failure_is_non_retryable_parse_error() -> None:
    with pytest.raises(StepError) as info:
        await run([{"action": "parse_json", "source": "{nope", "output_variable": "a"}])
    assert info.value.error_type == "ParseError"
    assert info.value.retryable is False
    assert "node 'proc' operation 0 (parse_json)" in info.value.message


@pytest.mark.asyncio
async def test_parse_csv_with_delimiter() -> None:
    out, _ = await run(
        [
            {"action": "parse_csv", "source": "{{ text }}", "output_variable": "rows"},
            {"action": "parse_csv", "source": "a;b\n1;2", "delimiter": ";", "output_variable": "semi"},
        ],
        {"text": "name,amount\nacme,10\nglobex,20\n"},
    )
    assert out["rows"] == [{"name": "acme", "amount": "10"}, {"name": "globex", "amount": "20"}]
    assert out["semi"] == [{"a": "1", "b": "2"}]


@pytest.mark.asyncio
async def test_parse_xml_to_nested_dict() -> None:
    xml = (
        '<invoice id="7"><line>a</line><line>b</line><total currency="EUR">10</total><note>x</note></invoice>'
    )
    out, _ = await run([{"action": "parse_xml", "source": xml, "output_variable": "doc"}])
    assert out["doc"] == {
        "invoice": {
            "@id": "7",
            "line": ["a", "b"],
            "total": {"@currency": "EUR", "#text": "10"},
            "note": "x",
        }
    }


@pytest.mark.asyncio
async def test_parse_xml_failure() -> None:
    with pytest.raises(StepError, match="source is not valid XML"):
        await run([{"action": "parse_xml", "source": "<a>", "output_variable": "doc"}])


@pytest.mark.asyncio
async def test_parse_excel_data_from_rows() -> None:
    out, _ = await run(
        [
            {"action": "parse_excel_data", "source": "{{ rows }}", "output_variable": "as_lists"},
            {"action": "parse_excel_data", "source": "{{ dicts }}", "output_variable": "as_dicts"},
        ],
        {"rows": [["id", "amount"], [1, 10], [None, None], [2, 20]], "dicts": [{"id": 1}]},
    )
    assert out == {"as_lists": [{"id": 1, "amount": 10}, {"id": 2, "amount": 20}], "as_dicts": [{"id": 1}]}


@pytest.mark.asyncio
async def test_parse_excel_data_reads_csv_files_listed_in_a_variable(tmp_path: Path) -> None:
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    first.write_text("invoice,amount\nA1,10\n", encoding="utf-8")
    second.write_text("invoice,amount\nB1,20\n", encoding="utf-8")
    out, _ = await run(
        [
            {
                "action": "parse_excel_data",
                "source": "{{ downloaded_files }}",
                "output_variable": "invoice_list",
            }
        ],
        {"downloaded_files": [first.name, second.name]},
        files=tmp_path,
    )
    assert out["invoice_list"] == [{"invoice": "A1", "amount": "10"}, {"invoice": "B1", "amount": "20"}]


@pytest.mark.asyncio
@pytest.mark.parametrize("source", ["/etc/hostname", "../../../../etc/hostname"])
async def test_parse_excel_data_reads_only_inside_the_runs_work_folder(source: str, tmp_path: Path) -> None:
    with pytest.raises(PathNotAllowed) as info:
        await run([{"action": "parse_excel_data", "source": source, "output_variable": "x"}], files=tmp_path)
    assert info.value.error_type == "PathNotAllowed"


@pytest.mark.asyncio
async def test_parse_excel_data_missing_file_fails(tmp_path: Path) -> None:
    with pytest.raises(StepError) as info:
        await run(
            [{"action": "parse_excel_data", "source": "none.xlsx", "output_variable": "x"}], files=tmp_path
        )
    assert info.value.error_type == "FileNotFound"


def _workbook(path: Path) -> Path:
    """A real .xlsx: the active sheet "Invoices" and a second sheet "Credits"."""
    book = openpyxl.Workbook()
    invoices = book.active
    assert invoices is not None
    invoices.title = "Invoices"
    invoices.append(["invoice", "amount"])
    invoices.append(["A1", 10])
    invoices.append([None, None])  # blank rows are skipped
    invoices.append(["A2", 12.5])
    credits = book.create_sheet("Credits")
    credits.append(["credit", "amount"])
    credits.append(["C1", -3])
    book.save(path)
    return path


@pytest.mark.asyncio
async def test_parse_excel_data_reads_the_active_sheet_of_an_xlsx_file(tmp_path: Path) -> None:
    book = _workbook(tmp_path / "invoices.xlsx")
    out, _ = await run([{"action": "parse_excel_data", "source": "{{ path }}", "output_variable": "rows"}],
                       {"path": book.name}, files=tmp_path)
    assert out["rows"] == [{"invoice": "A1", "amount": 10}, {"invoice": "A2", "amount": 12.5}]


@pytest.mark.asyncio
async def test_parse_excel_data_reads_the_sheet_it_names(tmp_path: Path) -> None:
    book = _workbook(tmp_path / "invoices.xlsx")
    out, _ = await run([{"action": "parse_excel_data", "source": book.name, "sheet_name": "Credits",
                         "output_variable": "rows"}], files=tmp_path)
    assert out["rows"] == [{"credit": "C1", "amount": -3}]


@pytest.mark.asyncio
async def test_parse_excel_data_names_a_missing_sheet_and_the_ones_there_are(tmp_path: Path) -> None:
    book = _workbook(tmp_path / "invoices.xlsx")
    with pytest.raises(StepError) as info:
        await run([{"action": "parse_excel_data", "source": book.name, "sheet_name": "Debits",
                    "output_variable": "rows"}], files=tmp_path)
    assert info.value.error_type == "SheetNotFound"
    assert "'Debits'" in info.value.message and "Invoices, Credits" in info.value.message


@pytest.mark.asyncio
async def test_parse_excel_data_refuses_a_file_that_is_not_a_workbook(tmp_path: Path) -> None:
    book = tmp_path / "invoices.xlsx"
    book.write_bytes(b"not really a workbook")
    with pytest.raises(StepError) as info:
        await run([{"action": "parse_excel_data", "source": book.name, "output_variable": "x"}], files=tmp_path)
    assert info.value.error_type == "ParseError"
    assert "invoices.xlsx" in info.value.message


@pytest.mark.asyncio
async def test_calculate_uses_the_safe_expression_language() -> None:
    out, _ = await run(
        [{"action": "calculate", "expression": "{{ price }} * qty + 1", "output_variable": "total"}],
        {"price": "2.5", "qty": 4},
    )
    assert out == {"total": 11.0}


@pytest.mark.asyncio
async def test_calculate_error_is_a_condition_error_naming_the_node() -> None:
    with pytest.raises(ConditionError, match="node 'proc'"):
        await run([{"action": "calculate", "expression": "1 / 0", "output_variable": "x"}])


@pytest.mark.asyncio
async def test_format_string_from_template_or_value() -> None:
    out, _ = await run(
        [
            {"action": "format_string", "template": "{{ n }} items", "output_variable": "a"},
            {"action": "format_string", "value": "{{ n }}", "output_variable": "b"},
        ],
        {"n": 3},
    )
    assert out == {"a": "3 items", "b": "3"}


@pytest.mark.asyncio
async def test_extract_regex_whole_match_one_group_many_groups_or_none() -> None:
    text = "Result ID: 4711 at 12:30"
    out, _ = await run(
        [
            {"action": "extract_regex", "source": "{{ t }}", "pattern": r"\d+", "output_variable": "whole"},
            {
                "action": "extract_regex",
                "source": "{{ t }}",
                "pattern": r"ID: (\d+)",
                "output_variable": "one",
            },
            {
                "action": "extract_regex",
                "source": "{{ t }}",
                "pattern": r"(\d+):(\d+)",
                "output_variable": "two",
            },
            {"action": "extract_regex", "source": "{{ t }}", "pattern": r"zzz", "output_variable": "none"},
        ],
        {"t": text},
    )
    assert out == {"whole": "4711", "one": "4711", "two": ["12", "30"], "none": None}


@pytest.mark.asyncio
async def test_extract_regex_bad_pattern() -> None:
    with pytest.raises(StepError, match="bad regular expression"):
        await run([{"action": "extract_regex", "source": "x", "pattern": "(", "output_variable": "o"}])


@pytest.mark.asyncio
@pytest.mark.parametrize("algorithm", [None, "md5", "sha1", "SHA-512"])
async def test_hash_algorithms(algorithm: str | None) -> None:
    op: dict[str, Any] = {"action": "hash", "source": "{{ s }}", "output_variable": "h"}
    if algorithm:
        op["algorithm"] = algorithm
    out, _ = await run([op], {"s": "abc"})
    name = (algorithm or "sha256").lower().replace("-", "")
    assert out["h"] == hashlib.new(name, b"abc").hexdigest()


@pytest.mark.asyncio
async def test_hash_of_an_object_is_stable_and_unknown_algorithm_fails() -> None:
    a, _ = await run(
        [{"action": "hash", "source": "{{ o }}", "output_variable": "h"}], {"o": {"b": 1, "a": 2}}
    )
    b, _ = await run(
        [{"action": "hash", "source": "{{ o }}", "output_variable": "h"}], {"o": {"a": 2, "b": 1}}
    )
    assert a == b
    with pytest.raises(StepError, match="unknown hash algorithm 'crc32'"):
        await run([{"action": "hash", "source": "x", "algorithm": "crc32", "output_variable": "h"}])


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("value", "target", "expected"),
    [
        (5, "string", "5"),
        ({"a": 1}, "string", '{"a": 1}'),
        ("12", "number", 12),
        ("1.5", "number", 1.5),
        ("7.9", "integer", 7),
        ("yes", "boolean", True),
        ("false", "boolean", False),
        ("a, b", "array", ["a", "b"]),
        ("[1, 2]", "array", [1, 2]),
        (3, "array", [3]),
        ('{"k": 1}', "object", {"k": 1}),
        ({"k": 1}, "json", '{"k": 1}'),
    ],
)
async def test_convert_type(value: Any, target: str, expected: Any) -> None:
    out, _ = await run(
        [{"action": "convert_type", "source": "{{ v }}", "target_type": target, "output_variable": "o"}],
        {"v": value},
    )
    assert out["o"] == expected


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("value", "target"), [("abc", "number"), ("maybe", "boolean"), ("[1]", "object"), (1, "blob")]
)
async def test_convert_type_failures(value: Any, target: str) -> None:
    with pytest.raises(StepError) as info:
        await run(
            [{"action": "convert_type", "source": "{{ v }}", "target_type": target, "output_variable": "o"}],
            {"v": value},
        )
    assert info.value.error_type == "ConversionError"


SCHEMA = {"type": "object", "required": ["id", "amount"], "properties": {"amount": {"type": "number"}}}


@pytest.mark.asyncio
async def test_validate_schema_passes_and_sets_output_true() -> None:
    out, _ = await run(
        [{"action": "validate_schema", "source": "{{ inv }}", "schema": SCHEMA, "output_variable": "ok"}],
        {"inv": {"id": 1, "amount": 2}},
    )
    assert out == {"ok": True}


@pytest.mark.asyncio
async def test_validate_schema_failure_lists_every_error() -> None:
    with pytest.raises(StepError) as info:
        await run(
            [{"action": "validate_schema", "source": "{{ inv }}", "schema": SCHEMA}], {"inv": {"amount": "x"}}
        )
    err = info.value
    assert err.error_type == "SchemaValidationError"
    assert err.retryable is False
    assert "'id' is a required property" in err.message
    assert "amount: 'x' is not of type 'number'" in err.message
    assert len(err.details["errors"]) == 2


@pytest.mark.asyncio
async def test_validate_schema_rejects_an_invalid_schema() -> None:
    with pytest.raises(StepError, match="the schema itself is invalid"):
        await run([{"action": "validate_schema", "source": "x", "schema": {"type": 12}}])


@pytest.mark.asyncio
async def test_log_renders_message_and_normalizes_level() -> None:
    _, rec = await run(
        [
            {"action": "log", "message": "Parsed {{invoice_list.length}} invoices", "level": "INFO"},
            {"action": "log", "message": "careful", "level": "warn"},
            {"action": "log", "message": "default level"},
        ],
        {"invoice_list": [1, 2, 3]},
    )
    assert rec.logs == [("INFO", "Parsed 3 invoices"), ("WARNING", "careful"), ("INFO", "default level")]


NOTIFY = {
    "action": "notify",
    "channel": "email",
    "recipients": ["ap.team@company.com", "{{ boss }}"],
    "subject": "No invoices on {{ day }}",
    "message": "Nothing for {{ day }}",
}


@pytest.mark.asyncio
async def test_notify_hands_the_operation_to_the_notifier_with_what_earlier_operations_set() -> None:
    _, rec = await run([{"action": "set_variable", "variable": "day", "value": "Mon"}, NOTIFY],
                       {"boss": "boss@company.com"}, notify=True)
    assert rec.notifications == [{"op": NOTIFY, "index": 1, "updates": {"day": "Mon"}}]


@pytest.mark.asyncio
async def test_notify_without_a_notifier_fails_instead_of_logging() -> None:
    with pytest.raises(StepError) as info:
        await run([NOTIFY], {"boss": "boss@company.com", "day": "Mon"})
    assert info.value.error_type == "NotificationUndeliverable"
    assert "operation 0 (notify)" in info.value.message


@pytest.mark.asyncio
@pytest.mark.parametrize("action", ["encrypt", "decrypt"])
async def test_encrypt_and_decrypt_are_refused_clearly(action: str) -> None:
    with pytest.raises(StepError) as info:
        await run([{"action": action, "source": "x", "key_reference": "k", "output_variable": "o"}])
    assert info.value.error_type == "UnsupportedOperation"
    assert info.value.retryable is False
    assert f"'{action}' is not supported" in info.value.message


@pytest.mark.asyncio
async def test_unknown_action_names_it_and_lists_supported() -> None:
    with pytest.raises(StepError) as info:
        await run([{"action": "log", "message": "ok"}, {"action": "teleport"}])
    message = info.value.message
    assert "operation 1 (teleport)" in message
    assert "unknown action 'teleport'" in message
    assert all(name in message for name in SUPPORTED_OPERATIONS)
    assert info.value.retryable is False


@pytest.mark.asyncio
async def test_missing_output_variable_is_reported() -> None:
    with pytest.raises(StepError, match="needs 'output_variable'"):
        await run([{"action": "parse_json", "source": "{}"}])


@pytest.mark.asyncio
async def test_undefined_template_variable_names_node_operation_and_field() -> None:
    with pytest.raises(TemplateError) as info:
        await run([{"action": "set_variable", "variable": "x", "value": "{{ ghost }}"}])
    assert (
        info.value.message
        == "undefined variable 'ghost' in node 'proc' operation 0 (set_variable) field 'value'"
    )


def test_supported_operations_are_exported() -> None:
    assert {
        "set_variable",
        "append_to_array",
        "parse_json",
        "parse_csv",
        "parse_xml",
        "parse_excel_data",
        "calculate",
        "format_string",
        "extract_regex",
        "hash",
        "convert_type",
        "validate_schema",
        "log",
        "notify",
    } == SUPPORTED_OPERATIONS
