"""``langorch validate | schema | compile`` run as a real process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from tests.ckp.builders import EXAMPLES_DIR, REFERENCE_DIR, REPO, TERMINATE, doc, example_files, json_files, seq

LANGORCH = REPO / ".venv" / "bin" / "langorch"
COMMAND = [str(LANGORCH)] if LANGORCH.exists() else [sys.executable, "-m", "langorch.cli"]


def langorch(*args: str | Path, stdin: bytes | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    done = subprocess.run([*COMMAND, *map(str, args)], input=stdin.decode("latin-1") if stdin else None,
                          capture_output=True, text=True, timeout=120, cwd=REPO, env=env, check=False)
    assert "Traceback" not in done.stderr, done.stderr
    return done


def write(tmp_path: Path, name: str, content: Any) -> Path:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content if isinstance(content, str) else json.dumps(content), encoding="utf-8")
    return path


BROKEN_GATE = doc({"gate": {"type": "human_approval", "prompt": "ok?", "on_approve": "end", "on_reject": "nope"},
                   "end": TERMINATE})


def test_validate_clean_file_exits_0_and_prints_no_diagnostics() -> None:
    done = langorch("validate", EXAMPLES_DIR / "sequence_example.ckp.json")
    assert done.returncode == 0
    assert done.stdout == ""
    assert "ok — 0 error(s), 0 warning(s)" in done.stderr


def test_validate_prints_compiler_style_lines_and_exits_1_on_errors(tmp_path: Path) -> None:
    path = write(tmp_path, "gate.ckp.json", BROKEN_GATE)
    done = langorch("validate", path)
    assert done.returncode == 1
    line = done.stdout.strip()
    assert line.startswith(f"{path}:/workflow_graph/nodes/gate/on_reject: error CKP202: on_reject points at 'nope'")
    assert line.endswith(")")  # the hint
    assert "FAILED — 1 error(s)" in done.stderr


def test_warnings_are_printed_unless_no_warnings(tmp_path: Path) -> None:
    path = write(tmp_path, "w.json", doc({"a": seq(next_node=None)}))
    shown = langorch("validate", path)
    assert shown.returncode == 0 and "warning CKP207" in shown.stdout
    hidden = langorch("validate", "--no-warnings", path)
    assert hidden.returncode == 0 and hidden.stdout == ""


def test_validate_json_format_reports_every_file(tmp_path: Path) -> None:
    bad = write(tmp_path, "bad.json", BROKEN_GATE)
    good = EXAMPLES_DIR / "logic_example.ckp.json"
    done = langorch("validate", "--format", "json", good, bad)
    assert done.returncode == 1
    report = json.loads(done.stdout)
    assert [(r["file"], r["ok"]) for r in report] == [(str(good), True), (str(bad), False)]
    diagnostic = report[1]["diagnostics"][0]
    assert diagnostic == {"code": "CKP202", "severity": "error", "path": "/workflow_graph/nodes/gate/on_reject",
                          "message": diagnostic["message"], "hint": diagnostic["hint"]}


def test_unreadable_file_exits_2(tmp_path: Path) -> None:
    done = langorch("validate", tmp_path / "missing.json")
    assert done.returncode == 2
    assert "cannot read" in done.stderr
    as_json = langorch("validate", "--format", "json", tmp_path / "missing.json")
    assert as_json.returncode == 2 and json.loads(as_json.stdout)[0]["readable"] is False


def test_unreadable_file_wins_over_errors_in_others(tmp_path: Path) -> None:
    bad = write(tmp_path, "bad.json", BROKEN_GATE)
    assert langorch("validate", bad, tmp_path / "missing.json").returncode == 2


MALFORMED = {
    "binary.png": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe\x00", "CKP101"),
    "array.json": ("[]", "CKP102"),
    "graph_is_a_number.json": ('{"workflow_graph": 5}', "CKP106"),
    "empty.json": ("", "CKP101"),
    "truncated.json": ('{"procedure_id": "p",\n "workflow_graph": {', "CKP101"),
    "deep.json": ("[" * 100_000 + "]" * 100_000, "CKP104"),
    "type_is_a_number.json": ('{"procedure_id": "p", "workflow_graph": {"nodes": {"a": {"type": 7}}}}', "CKP109"),
    "lone_surrogate_id.json": ('{"procedure_id": "p", "workflow_graph": {"start_node": "\\ud800", "nodes": '
                               '{"\\ud800": {"type": "sequence", "steps": [{"action": "log"}], "next_node": "x"}}}}',
                               "CKP202"),
}


def test_malformed_inputs_give_diagnostics_and_no_traceback(tmp_path: Path) -> None:
    paths = {name: write(tmp_path, name, content) for name, (content, _) in MALFORMED.items()}
    done = langorch("validate", *paths.values())
    assert done.returncode == 1
    for name, (_, code) in MALFORMED.items():
        assert f"{paths[name]}:/" in done.stdout and f"error {code}" in done.stdout, name


@pytest.mark.parametrize("name", ["binary.png", "graph_is_a_number.json", "deep.json", "lone_surrogate_id.json"])
def test_compile_of_malformed_input_gives_diagnostics_and_no_traceback(tmp_path: Path, name: str) -> None:
    content, code = MALFORMED[name]
    done = langorch("compile", write(tmp_path, name, content))
    assert done.returncode == 1 and f"error {code}" in done.stderr


def test_json_syntax_error_line_shows_line_and_column(tmp_path: Path) -> None:
    path = write(tmp_path, "syntax.json", '{\n  "procedure_id": "p",\n  "version": ,\n}')
    done = langorch("validate", path)
    assert f"{path}:/: error CKP101: invalid JSON at line 3, column 14" in done.stdout


def test_validate_accepts_a_folder_and_stdin(tmp_path: Path) -> None:
    write(tmp_path, "one.json", doc({"a": seq(), "end": TERMINATE}))
    write(tmp_path, "two.json", BROKEN_GATE)
    folder = langorch("validate", tmp_path)
    assert folder.returncode == 1 and "two.json:/workflow_graph" in folder.stdout
    piped = langorch("validate", "-", stdin=json.dumps(BROKEN_GATE).encode())
    assert piped.returncode == 1 and piped.stdout.startswith("-:/workflow_graph/nodes/gate/on_reject")


def test_procedures_dir_lets_validate_see_subflow_recursion(tmp_path: Path) -> None:
    a = doc({"call_b": {"type": "subflow", "procedure_id": "proc_b", "next_node": "end"}, "end": TERMINATE},
            procedure_id="proc_a")
    b = doc({"call_a": {"type": "subflow", "procedure_id": "proc_a", "next_node": "end"}, "end": TERMINATE},
            procedure_id="proc_b")
    write(tmp_path, "a.json", a)
    write(tmp_path, "b.json", b)
    done = langorch("validate", "--procedures-dir", tmp_path, tmp_path / "a.json")
    assert done.returncode == 1
    assert "/workflow_graph/nodes/call_b/procedure_id: error CKP500" in done.stdout
    assert "proc_a → proc_b → proc_a" in done.stdout


@pytest.mark.skipif(not REFERENCE_DIR.is_dir(), reason="../shared/ckp-reference is absent")
def test_every_reference_file_validates_with_no_errors() -> None:
    done = langorch("validate", "--no-warnings", *json_files(REFERENCE_DIR))
    assert done.returncode == 0, done.stdout
    assert done.stdout == ""


def test_every_example_validates_with_no_diagnostics() -> None:
    done = langorch("validate", "--procedures-dir", EXAMPLES_DIR, *example_files())
    assert done.returncode == 0
    assert done.stdout == ""


def test_compile_prints_a_node_and_edge_summary() -> None:
    done = langorch("compile", EXAMPLES_DIR / "logic_example.ckp.json")
    assert done.returncode == 0
    lines = done.stdout.splitlines()
    assert lines[0].startswith("logic_example v1.0.0  ir ") and lines[0].endswith("start route_order")
    assert "5 nodes:" in lines
    assert "  route_order: logic" in lines
    assert "  route_order -rule-> needs_review ({{amount}} >= 10000)" in lines
    assert "  needs_review -next-> done" in lines


def test_compile_json_summary_has_hash_nodes_bindings_and_edges() -> None:
    done = langorch("compile", "--format", "json", EXAMPLES_DIR / "sequence_example.ckp.json")
    summary = json.loads(done.stdout)
    assert summary["procedure_id"] == "sequence_example" and len(summary["ir_hash"]) == 64
    greet = next(n for n in summary["nodes"] if n["id"] == "greet")
    assert greet["steps"][0] == "log_start:log→internal"
    assert summary["edges"] == [{"from": "greet", "to": "done", "kind": "next", "label": ""}]


def test_compile_hash_is_stable_across_processes() -> None:
    path = EXAMPLES_DIR / "loop_example.ckp.json"
    first = json.loads(langorch("compile", "--format", "json", path).stdout)["ir_hash"]
    second = json.loads(langorch("compile", "--format", "json", path).stdout)["ir_hash"]
    assert first == second


def test_compile_errors_go_to_stderr_with_exit_1(tmp_path: Path) -> None:
    done = langorch("compile", write(tmp_path, "bad.json", BROKEN_GATE))
    assert done.returncode == 1 and done.stdout == ""
    assert "error CKP202" in done.stderr


def test_compile_canonical_rewrites_the_node_list_dialect(tmp_path: Path) -> None:
    legacy = {"id": "old", "version": 2, "nodes": [
        {"id": "a", "type": "sequence", "steps": [{"action": "log", "value": "hi"}]}, {"id": "b", "type": "terminate"}]}
    done = langorch("compile", "--canonical", write(tmp_path, "old.json", legacy))
    assert done.returncode == 0 and "warning CKP110" in done.stderr
    canonical = json.loads(done.stdout)
    assert canonical["workflow_graph"]["start_node"] == "a"
    again = langorch("validate", write(tmp_path, "new.json", canonical))
    assert again.returncode == 0 and again.stdout == ""


def test_compile_missing_file_exits_2(tmp_path: Path) -> None:
    assert langorch("compile", tmp_path / "nope.json").returncode == 2


def test_schema_is_draft_2020_12_and_usable_as_dollar_schema(tmp_path: Path) -> None:
    done = langorch("schema")
    assert done.returncode == 0
    schema = json.loads(done.stdout)
    Draft202012Validator.check_schema(schema)
    (tmp_path / "ckp.schema.json").write_text(done.stdout)
    example = json.loads((EXAMPLES_DIR / "sequence_example.ckp.json").read_text())
    path = write(tmp_path, "mine.ckp.json", {"$schema": "./ckp.schema.json", **example})
    assert not list(Draft202012Validator(schema).iter_errors(json.loads(path.read_text())))
    assert langorch("validate", path).stdout == ""  # "$schema" is not an unknown field


def test_bad_arguments_exit_2_with_usage() -> None:
    done = langorch("validate")
    assert done.returncode == 2 and "usage:" in done.stderr


def _many_errors(tmp_path: Path) -> str:
    """A CKP whose JSON diagnostics are far larger than a pipe's buffer (64 KiB)."""
    nodes = {f"n{i}": {**seq({"action": "log", "value": "x"}), "next_node": f"missing_{i}"} for i in range(600)}
    path = tmp_path / "many_errors.ckp.json"
    path.write_text(json.dumps(doc(nodes)))
    return str(path)


@pytest.mark.parametrize("command", ["schema", "validate-json"])
def test_a_reader_that_goes_away_ends_the_command_quietly(command: str, tmp_path: Path) -> None:
    """`langorch schema | head` and `langorch validate --format json | head` print no traceback."""
    args = ["schema"] if command == "schema" else ["validate", "--format", "json", _many_errors(tmp_path)]
    proc = subprocess.Popen([str(LANGORCH), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=REPO)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.read(64)
    proc.stdout.close()  # what `head` does after its lines
    stderr = proc.stderr.read().decode()
    proc.wait(timeout=60)
    assert "Traceback" not in stderr and "BrokenPipeError" not in stderr, stderr
    assert proc.returncode == 141  # as a shell reports a command ended by a closed pipe
