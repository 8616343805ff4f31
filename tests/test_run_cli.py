"""``langorch run`` / ``langorch resume``: inputs, dry run, decisions, exit codes, the
--json summary, pause in one process and resume in another, pinning, and a SIGKILL
crash resumed without repeating a side effect."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from langorch.cli import main
from tests.fakes.agent_server import FakeAgentServer

EXAMPLES = Path(__file__).resolve().parents[1] / "ckp_examples"

REPO_ROOT = Path(__file__).resolve().parents[1]
LANGORCH = [sys.executable, "-m", "langorch.cli"]


# ----------------------------------------------------------------------------- helpers
def _write(tmp_path: Path, doc: dict[str, Any], name: str = "proc.ckp.json") -> str:
    path = tmp_path / name
    path.write_text(json.dumps(doc), encoding="utf-8")
    return str(path)


def _summary(stdout: str) -> dict[str, Any]:
    lines = [line for line in stdout.splitlines() if line.strip()]
    summary: dict[str, Any] = json.loads(lines[-1])
    return summary


def _events(stdout: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stdout.splitlines()[:-1] if line.startswith("{")]


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    return env


def _cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*LANGORCH, *args], capture_output=True, text=True, timeout=timeout, env=_env(),
                          stdin=subprocess.DEVNULL, cwd=REPO_ROOT)


@pytest.fixture(autouse=True)
def _no_llm_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OPENAI_BASE_URL", "OPENAI_API_KEY"):
        monkeypatch.delenv(name, raising=False)


def _approval_doc(result: str = "approved-v1") -> dict[str, Any]:
    return {
        "procedure_id": "cli_approval", "version": "1.0.0",
        "variables_schema": {"amount": {"type": "number", "default": 10}},
        "workflow_graph": {"start_node": "prep", "nodes": {
            "prep": {"type": "processing", "next_node": "gate",
                     "operations": [{"action": "set_variable", "variable": "stage", "value": "prepped"}]},
            "gate": {"type": "human_approval", "prompt": "Pay {{amount}}?", "on_approve": "ok",
                     "on_reject": "no"},
            "ok": {"type": "terminate", "status": "success", "outputs": {"result": result, "amount": "{{amount}}"}},
            "no": {"type": "terminate", "status": "failed", "outputs": {"result": "rejected"}},
        }},
    }


TYPED: dict[str, Any] = {
    "procedure_id": "cli_typed", "version": "1.0.0",
    "variables_schema": {"required": {
        "count": {"type": "integer", "validation": {"min": 1}},
        "ratio": {"type": "number"},
        "flag": {"type": "boolean"},
        "code": {"type": "string", "validation": {"regex": "[A-Z]{3}"}},
    }, "optional": {"tags": {"type": "array"}, "meta": {"type": "object"}}},
    "workflow_graph": {"start_node": "done", "nodes": {
        "done": {"type": "terminate", "status": "success",
                 "outputs": {"count": "{{count}}", "ratio": "{{ratio}}", "flag": "{{flag}}", "code": "{{code}}"}},
    }},
}


# ----------------------------------------------------------------------------- inputs
def test_input_pairs_are_coerced_to_the_declared_types(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["run", _write(tmp_path, TYPED), "--state-db", str(tmp_path / "s.db"), "--json",
                 "--input", "count=3", "--input", "ratio=0.5", "--input", "flag=true", "--input", "code=007",
                 "--input", 'tags=["a","b"]', "--input", 'meta={"k": 1}'])

    out = capsys.readouterr()
    assert code == 2, out.err  # "007" is a string but not [A-Z]{3}
    assert out.err.strip() == "input code: does not match the pattern [A-Z]{3}"

    code = main(["run", _write(tmp_path, TYPED), "--state-db", str(tmp_path / "s.db"), "--json",
                 "--input", "count=3", "--input", "ratio=0.5", "--input", "flag=true", "--input", "code=ABC",
                 "--input", 'tags=["a","b"]', "--input", 'meta={"k": 1}'])

    summary = _summary(capsys.readouterr().out)
    assert code == 0
    assert summary["outputs"] == {"count": 3, "ratio": 0.5, "flag": True, "code": "ABC"}
    assert summary["vars"]["tags"] == ["a", "b"] and summary["vars"]["meta"] == {"k": 1}


def test_inputs_file_is_read_and_input_pairs_override_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    inputs = tmp_path / "inputs.json"
    inputs.write_text(json.dumps({"count": 2, "ratio": 1.5, "flag": False, "code": "XYZ"}), encoding="utf-8")

    code = main(["run", _write(tmp_path, TYPED), "--state-db", str(tmp_path / "s.db"), "--json",
                 "--inputs-file", str(inputs), "--input", "count=9"])

    summary = _summary(capsys.readouterr().out)
    assert code == 0
    assert summary["outputs"] == {"count": 9, "ratio": 1.5, "flag": False, "code": "XYZ"}


def test_bad_inputs_exit_2_with_one_message_per_field(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["run", _write(tmp_path, TYPED), "--state-db", str(tmp_path / "s.db"),
                 "--input", "count=0", "--input", "ratio=abc", "--input", "flag=maybe"])

    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert err == ["input count: must be ≥ 1", "input ratio: must be a number, got str",
                   "input flag: must be a boolean, got str", "input code: is required"]
    assert not (tmp_path / "s.db").exists(), "nothing runs when inputs are bad"


def test_unreadable_inputs_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "inputs.json"
    bad.write_text("[1, 2]", encoding="utf-8")

    code = main(["run", _write(tmp_path, TYPED), "--state-db", str(tmp_path / "s.db"), "--inputs-file", str(bad)])

    assert code == 2
    assert "inputs must be a JSON object" in capsys.readouterr().err


def test_a_ckp_that_does_not_compile_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    doc = {"procedure_id": "broken", "workflow_graph": {"start_node": "a", "nodes": {
        "a": {"type": "sequence", "steps": [], "next_node": "nowhere"}}}}

    code = main(["run", _write(tmp_path, doc), "--state-db", str(tmp_path / "s.db")])

    assert code == 2
    assert "nowhere" in capsys.readouterr().err


# ----------------------------------------------------------------------------- modes and decisions
def test_dry_run_skips_agent_side_effects(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                          fake_agent: FakeAgentServer) -> None:
    doc = {"procedure_id": "cli_dry", "workflow_graph": {"start_node": "send", "nodes": {
        "send": {"type": "sequence", "agent": "EMAIL", "next_node": "done",
                 "steps": [{"action": "send_email", "recipients": ["a@x.test"], "subject": "hi"}]},
        "done": {"type": "terminate", "status": "success"}}}}

    code = main(["run", _write(tmp_path, doc), "--state-db", str(tmp_path / "s.db"), "--json", "--dry-run",
                 "--agent", f"EMAIL={fake_agent.url}"])

    out = capsys.readouterr().out
    assert code == 0
    assert fake_agent.calls == []
    assert [e["type"] for e in _events(out)].count("step_skipped_dry_run") == 1
    assert _events(out)[0]["payload"]["mode"] == "dry_run"


@pytest.mark.parametrize(("flag", "code", "result"), [("--approve", 0, "approved-v1"), ("--reject", 1, "rejected")])
def test_approve_and_reject_flags_decide_without_asking(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                        flag: str, code: int, result: str) -> None:
    exit_code = main(["run", _write(tmp_path, _approval_doc()), "--state-db", str(tmp_path / "s.db"), "--json", flag])

    summary = _summary(capsys.readouterr().out)
    assert exit_code == code
    assert summary["outputs"]["result"] == result
    assert summary["vars"]["approval"]["outcome"] == result.split("-")[0]


def test_approve_flag_decides_every_gate_of_the_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    doc = {"procedure_id": "cli_three", "workflow_graph": {"start_node": "fork", "nodes": {
        "fork": {"type": "parallel", "next_node": "done",
                 "branches": [{"branch_id": g, "start_node": g} for g in ("a", "b", "c")]},
        **{g: {"type": "human_approval", "prompt": g, "on_approve": "done", "on_reject": "done"} for g in "abc"},
        "done": {"type": "terminate", "status": "success"}}}}

    code = main(["run", _write(tmp_path, doc), "--state-db", str(tmp_path / "s.db"), "--json", "--approve"])

    out = capsys.readouterr().out
    assert code == 0, out
    assert [e["type"] for e in _events(out)].count("approval_decided") == 3
    assert [e["type"] for e in _events(out)].count("approval_requested") == 3


def test_no_terminal_and_no_decision_exits_3_with_the_pending_approval(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["run", _write(tmp_path, _approval_doc()), "--state-db", str(tmp_path / "s.db"), "--json"])

    summary = _summary(capsys.readouterr().out)
    assert code == 3
    assert summary["status"] == "waiting_approval"
    assert summary["pending_approvals"][0]["node_id"] == "gate"
    assert summary["pending_approvals"][0]["prompt"] == "Pay 10?"


def test_json_last_line_is_the_run_summary(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["run", _write(tmp_path, _approval_doc()), "--state-db", str(tmp_path / "s.db"), "--json",
                 "--approve", "--run-id", "fixed-id", "--input", "amount=25"])

    out = capsys.readouterr().out
    summary = _summary(out)
    assert code == 0
    assert {"run_id", "status", "outputs", "vars", "error"} <= set(summary)
    assert summary["run_id"] == "fixed-id" and summary["status"] == "completed" and summary["error"] is None
    assert summary["outputs"] == {"result": "approved-v1", "amount": 25}
    assert summary["vars"]["stage"] == "prepped"
    events = _events(out)
    assert events and all({"type", "run_id", "payload"} <= set(e) for e in events)


def test_json_summary_masks_sensitive_variables(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    doc = {"procedure_id": "masked", "version": "1.0.0",
           "variables_schema": {"tax_id": {"type": "string", "sensitive": True}},
           "workflow_graph": {"start_node": "copy", "nodes": {
               "copy": {"type": "processing", "next_node": "done", "operations": [
                   {"action": "set_variable", "variable": "note", "value": "id {{tax_id}}"}]},
               "done": {"type": "terminate", "status": "success", "outputs": {"echo": "{{tax_id}}"}}}}}

    code = main(["run", _write(tmp_path, doc), "--state-db", str(tmp_path / "s.db"), "--json",
                 "--input", "tax_id=94-1234567"])

    out = capsys.readouterr().out
    assert code == 0
    assert "94-1234567" not in out
    summary = _summary(out)
    assert summary["vars"]["tax_id"] == "***" and summary["outputs"]["echo"] == "***"


def test_failed_run_exits_1_with_the_error_in_the_summary(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    doc = {"procedure_id": "cli_fail", "workflow_graph": {"start_node": "check", "nodes": {
        "check": {"type": "verification", "next_node": "done",
                  "checks": [{"id": "c", "condition": "1 > 2", "message": "one is not above two"}]},
        "done": {"type": "terminate", "status": "success"}}}}

    code = main(["run", _write(tmp_path, doc), "--state-db", str(tmp_path / "s.db"), "--json"])

    summary = _summary(capsys.readouterr().out)
    assert code == 1
    assert summary["status"] == "failed"
    assert summary["error"]["message"] == "one is not above two"


def test_resume_of_an_unknown_run_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["run", _write(tmp_path, _approval_doc()), "--state-db", str(tmp_path / "s.db"), "--approve"])
    capsys.readouterr()

    code = main(["resume", "no-such-run", "--state-db", str(tmp_path / "s.db")])

    assert code == 2
    assert "no-such-run" in capsys.readouterr().err


def test_reusing_a_run_id_exits_2_instead_of_overwriting(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["run", _write(tmp_path, _approval_doc()), "--state-db", str(tmp_path / "s.db"), "--run-id", "same"]
    assert main([*args, "--approve"]) == 0
    capsys.readouterr()

    code = main([*args, "--approve"])

    assert code == 2
    assert "already exists" in capsys.readouterr().err


# ----------------------------------------------------------------------------- across processes
def test_pause_in_one_process_and_resume_in_another(tmp_path: Path) -> None:
    db = str(tmp_path / "state.db")
    ckp_file = _write(tmp_path, _approval_doc())

    first = _cli("run", ckp_file, "--state-db", db, "--json", "--input", "amount=42")
    assert first.returncode == 3, first.stderr
    paused = _summary(first.stdout)
    assert paused["status"] == "waiting_approval"
    run_id = paused["run_id"]

    second = _cli("resume", run_id, "--state-db", db, "--decision", "approve", "--json")

    assert second.returncode == 0, second.stderr
    done = _summary(second.stdout)
    assert done["run_id"] == run_id and done["status"] == "completed"
    assert done["outputs"] == {"result": "approved-v1", "amount": 42}
    assert done["vars"]["stage"] == "prepped"
    started = [e["node_id"] for e in _events(second.stdout) if e["type"] == "node_started"]
    assert "prep" not in started, "nodes before the pause do not run again"


def test_resume_uses_the_definition_the_run_started_with(tmp_path: Path) -> None:
    db = str(tmp_path / "state.db")
    ckp_file = _write(tmp_path, _approval_doc("approved-v1"))
    first = _cli("run", ckp_file, "--state-db", db, "--json")
    assert first.returncode == 3, first.stderr
    run_id = _summary(first.stdout)["run_id"]

    edited = _approval_doc("approved-v2")
    edited["workflow_graph"]["nodes"]["gate"]["on_approve"] = "no"
    _write(tmp_path, edited)
    second = _cli("resume", run_id, "--state-db", db, "--decision", "approve", "--json")

    assert second.returncode == 0, second.stderr
    assert _summary(second.stdout)["outputs"]["result"] == "approved-v1"


# ----------------------------------------------------------------------------- crash
@pytest.fixture
def agent_process(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    log = tmp_path / "agent-calls.jsonl"
    proc = subprocess.Popen([sys.executable, "-m", "tests.fakes.agent_server", "--port", "0", "--log", str(log)],
                            stdout=subprocess.PIPE, text=True, cwd=REPO_ROOT, env=_env())
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("listening on "), line
        yield line.split("listening on ", 1)[1].strip(), log
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _logged(log: Path) -> list[dict[str, Any]]:
    if not log.exists():
        return []
    return [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines() if line.strip()]


CRASH_DOC: dict[str, Any] = {
    "procedure_id": "cli_crash", "version": "1.0.0",
    "workflow_graph": {"start_node": "prep", "nodes": {
        "prep": {"type": "processing", "next_node": "charge",
                 "operations": [{"action": "set_variable", "variable": "order", "value": "o-1"}]},
        "charge": {"type": "sequence", "agent": "API", "next_node": "confirm", "steps": [
            {"step_id": "charge_card", "action": "execute_query", "query": "charge {{order}}",
             "output_variable": "charged"},
            {"step_id": "settle", "action": "wait", "agent": "MasterAgent", "duration_ms": 3000},
        ]},
        "confirm": {"type": "sequence", "agent": "API", "next_node": "done", "steps": [
            {"step_id": "confirm_order", "action": "execute_procedure", "query": "confirm {{order}}"}]},
        "done": {"type": "terminate", "status": "success", "outputs": {"charged": "{{charged.echo.query}}"}},
    }},
}


def test_sigkill_during_a_wait_then_resume_does_not_repeat_the_side_effect(
        tmp_path: Path, agent_process: tuple[str, Path]) -> None:
    url, log = agent_process
    db = str(tmp_path / "state.db")
    ckp_file = _write(tmp_path, CRASH_DOC)

    run = subprocess.Popen([*LANGORCH, "run", ckp_file, "--state-db", db, "--json", "--run-id", "crash-1",
                            "--agent", f"API={url}"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           env=_env(), stdin=subprocess.DEVNULL, cwd=REPO_ROOT)
    try:
        deadline = time.monotonic() + 30
        while not any(c["action"] == "execute_query" for c in _logged(log)):
            assert run.poll() is None, run.communicate()
            assert time.monotonic() < deadline, "the agent never saw the side effect"
            time.sleep(0.05)
        # The agent has the call; wait until the run is inside its 3 s wait step (the
        # side effect's result is recorded by then), then kill it without warning.
        assert run.stdout is not None
        for line in run.stdout:
            event = json.loads(line)
            if event.get("type") == "step_started" and event.get("step_id") == "settle":
                break
        time.sleep(0.2)
        assert run.poll() is None, "the run finished before it could be killed"
        run.send_signal(signal.SIGKILL)
        run.wait(timeout=10)
    finally:
        if run.poll() is None:
            run.kill()
        run.communicate()
    assert run.returncode == -signal.SIGKILL

    resumed = _cli("resume", "crash-1", "--state-db", db, "--agent", f"API={url}", "--json")

    assert resumed.returncode == 0, resumed.stderr
    summary = _summary(resumed.stdout)
    assert summary["status"] == "completed"
    assert summary["outputs"] == {"charged": "charge o-1"}
    actions = [c["action"] for c in _logged(log)]
    assert actions.count("execute_query") == 1, actions
    assert actions.count("execute_procedure") == 1, actions
    cached = [e for e in _events(resumed.stdout) if e["type"] == "step_completed" and e["step_id"] == "charge_card"]
    assert cached and cached[0]["payload"]["cached"] is True


def test_the_cli_reads_the_servers_settings_for_env_name(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from langorch.settings import get_settings

    monkeypatch.setenv("LANGORCH_ENV_NAME", "staging")
    get_settings.cache_clear()
    doc = {"procedure_id": "cli_env", "workflow_graph": {"start_node": "done", "nodes": {
        "done": {"type": "terminate", "status": "success", "outputs": {"env": "{{env_name}}"}}}}}
    try:
        code = main(["run", _write(tmp_path, doc), "--state-db", str(tmp_path / "s.db"), "--json"])
    finally:
        get_settings.cache_clear()

    assert code == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["outputs"] == {"env": "staging"}


def test_an_input_the_procedure_does_not_declare_is_an_error_naming_the_declared_ones(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["run", str(EXAMPLES / "sequence_example.ckp.json"), "--state-db", str(tmp_path / "s.db"),
                 "--input", "name=Ada"])

    assert code == 2
    assert "input name: not a variable of sequence_example (its variables_schema declares: customer_name" \
        in capsys.readouterr().err


def test_test_mode_runs_a_showcase_workflow_with_no_agent_or_llm(tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["run", str(EXAMPLES / "invoice_processing.ckp.json"), "--state-db", str(tmp_path / "s.db"),
                 "--mode", "test", "--approve", "--json"])

    lines = capsys.readouterr().out.strip().splitlines()
    assert code == 0
    assert json.loads(lines[-1])["outputs"]["erp_document_id"] == "5100004471"
    assert json.loads(lines[0])["payload"]["mode"] == "test"


def test_a_procedures_request_to_loopback_is_refused_unless_allowed_with_allow_host(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], fake_agent: FakeAgentServer) -> None:
    doc = {"procedure_id": "cli_ssrf", "workflow_graph": {"start_node": "get", "nodes": {
        "get": {"type": "sequence", "next_node": "done",
                "steps": [{"action": "http_request", "method": "GET", "url": f"{fake_agent.url}/health",
                           "output_variable": "got"}]},
        "done": {"type": "terminate", "status": "success", "outputs": {"status": "{{got.status_code}}"}}}}}
    path = _write(tmp_path, doc)

    refused = main(["run", path, "--state-db", str(tmp_path / "a.db"), "--json"])
    refused_out = capsys.readouterr().out
    allowed = main(["run", path, "--state-db", str(tmp_path / "b.db"), "--json", "--allow-host", "127.0.0.1"])
    allowed_out = capsys.readouterr().out

    assert refused == 1
    assert json.loads(refused_out.strip().splitlines()[-1])["error"]["type"] == "UrlNotAllowed"
    assert allowed == 0
    assert json.loads(allowed_out.strip().splitlines()[-1])["outputs"] == {"status": 200}
