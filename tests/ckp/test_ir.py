"""The IR: one payload per node type, determinism and the IR hash."""

from __future__ import annotations

import copy
import dataclasses
import json
import os
from pathlib import Path
from typing import Any

import pytest

from langorch.ckp import ProcedureIR, compile_data, compile_text
from langorch.ckp import ir as I
from langorch.ckp.binder import bind, ir_content, source_hash
from langorch.ckp.parser import parse_data
from tests.ckp.builders import TERMINATE, compile_doc, doc, example_files, seq


def build(node: dict[str, Any], *extra_nodes: tuple[str, dict[str, Any]], **root: Any) -> I.NodeIR:
    nodes = {"n": node, **dict(extra_nodes), "end": TERMINATE}
    result = compile_doc(doc(nodes, **root))
    assert result.ir is not None, [d.format() for d in result.errors]
    return result.ir.nodes["n"]


def test_sequence_payload_binds_steps_and_keeps_params_unrendered() -> None:
    node = build(seq(
        {"step_id": "fetch", "action": "http_request", "url": "https://x/{{run_id}}", "method": "POST",
         "output_variable": "resp", "timeout_ms": 500, "wait_after_ms": 10, "max_retries": 2},
        {"action": "navigate", "url": "https://portal", "agent": "WEB"},
        validations=[{"id": "ok", "check": "custom", "condition": "{{resp.status_code}} == 200"}],
    ))
    payload = node.payload
    assert isinstance(payload, I.SequencePayload)
    fetch, nav = payload.steps
    assert fetch.step_id == "fetch" and fetch.action == "http_request"
    assert fetch.binding == I.Binding("internal", "http_request", side_effect=True)
    assert fetch.params == {"url": "https://x/{{run_id}}", "method": "POST"}
    assert (fetch.output_variable, fetch.timeout_ms, fetch.wait_after_ms) == ("resp", 500.0, 10.0)
    assert fetch.retry == I.RetryPolicy(max_retries=2, delay_ms=1000.0)
    assert nav.step_id == "step_1"
    assert (nav.binding.kind, nav.binding.channel) == ("agent", "WEB")
    assert payload.validations[0]["condition"] == "{{resp.status_code}} == 200"


def test_logic_payload_keeps_rules_in_order_with_default() -> None:
    node = build({"type": "logic", "rules": [{"condition": "1 > 2", "next_node": "a"},
                                             {"condition": "true", "next_node": "end"}],
                  "default_next_node": "end"}, ("a", seq()))
    assert node.payload == I.LogicPayload(
        (I.LogicRuleIR("1 > 2", "a"), I.LogicRuleIR("true", "end")), "end")


def test_loop_payload_has_defaults_and_the_body_region() -> None:
    node = build({"type": "loop", "iterator": "rows", "body_node": "b1", "next_node": "end"},
                 ("b1", seq(next_node="b2")), ("b2", seq(next_node=None)),
                 variables_schema={"rows": {"type": "array"}})
    assert node.payload == I.LoopPayload(
        body_node="b1", iterator="rows", iterator_variable="item", max_iterations=1000,
        continue_on_error=False, body_nodes=frozenset({"b1", "b2"}))


def test_parallel_payload_lists_branches_with_their_nodes() -> None:
    node = build({"type": "parallel", "wait_strategy": "first", "branch_failure": "continue",
                  "branches": [{"branch_id": "x", "start_node": "x1"}, {"branch_id": "y", "start_node": "y1"}],
                  "next_node": "end"},
                 ("x1", seq(next_node="x2")), ("x2", seq(next_node="end")), ("y1", seq(next_node=None)))
    assert node.payload == I.ParallelPayload(
        branches=(I.BranchIR("x", "x1", frozenset({"x1", "x2"})), I.BranchIR("y", "y1", frozenset({"y1"}))),
        wait_strategy="any", branch_failure="continue")


def test_processing_payload_keeps_operations_as_dicts_with_schema_alias() -> None:
    node = build({"type": "processing", "next_node": "end", "operations": [
        {"action": "set_variable", "variable": "x", "value": "{{run_id}}"},
        {"action": "validate_schema", "source": "x", "schema": {"type": "string"}, "custom": 1}]})
    assert node.payload == I.ProcessingPayload((
        {"action": "set_variable", "variable": "x", "value": "{{run_id}}"},
        {"action": "validate_schema", "source": "x", "schema": {"type": "string"}, "custom": 1}))


def test_verification_payload_names_unnamed_checks() -> None:
    node = build({"type": "verification", "on_fail": "end", "next_node": "end", "checks": [
        {"id": "pos", "condition": "1 > 0", "on_fail": "warn", "message": "m"}, {"condition": "true"}]})
    assert node.payload == I.VerificationPayload(
        (I.VerificationCheckIR("pos", "1 > 0", "warn", "m"), I.VerificationCheckIR("check_1", "true")),
        on_pass=None, on_fail="end")


def test_llm_action_payload() -> None:
    node = build({"type": "llm_action", "prompt": "Summarise {{run_id}}", "system_prompt": "Be brief",
                  "model": "gpt-x", "temperature": 0, "max_tokens": 50, "json_mode": True,
                  "attachments": [{"type": "text", "source": "{{run_id}}"}], "retry": {"max_retries": 1},
                  "outputs": {"score": "json_extract: score"}, "next_node": "end"})
    assert node.payload == I.LlmPayload(
        prompt="Summarise {{run_id}}", system_prompt="Be brief", model="gpt-x", temperature=0.0,
        max_tokens=50, json_mode=True, attachments=({"type": "text", "source": "{{run_id}}"},),
        retry=I.RetryPolicy(max_retries=1, delay_ms=1000.0), outputs={"score": "json_extract: score"})


def test_human_approval_payload() -> None:
    node = build({"type": "human_approval", "prompt": "Pay?", "decision_type": "select_option",
                  "options": ["pay", "hold"], "timeout_ms": 60000, "timeout_action": "escalate",
                  "context_data": {"who": "{{run_id}}"}, "approval_level": "manager",
                  "decision_variable": "choice", "on_approve": "end", "on_reject": "end", "on_timeout": "end"})
    assert node.payload == I.ApprovalPayload(
        prompt="Pay?", decision_type="select_option", options=("pay", "hold"), timeout_ms=60000.0,
        timeout_action="escalate", context_data={"who": "{{run_id}}"}, approval_level="manager",
        on_approve="end", on_reject="end", on_timeout="end", decision_variable="choice")


def test_transform_payload_keeps_transformations_as_dicts() -> None:
    node = build({"type": "transform", "next_node": "end", "transformations": [
        {"type": "filter", "source_variable": "rows", "expression": "amount > 5", "output_variable": "big"}]},
        variables_schema={"rows": {}})
    assert node.payload == I.TransformPayload((
        {"type": "filter", "source_variable": "rows", "expression": "amount > 5", "output_variable": "big"},))


def test_subflow_payload_defaults_to_fail_parent() -> None:
    node = build({"type": "subflow", "procedure_id": "child", "version": "2.0.0",
                  "input_mapping": {"x": "{{run_id}}"}, "output_mapping": {"y": "outputs.y"}, "next_node": "end"})
    assert node.payload == I.SubflowPayload(
        procedure_id="child", version="2.0.0", input_mapping={"x": "{{run_id}}"},
        output_mapping={"y": "outputs.y"}, on_failure="fail_parent", inherit_context=False)


def test_terminate_payload() -> None:
    result = compile_doc(doc({"end": {"type": "terminate", "status": "failed", "outputs": {"e": "{{error}}"},
                                      "error_actions": [{"action": "log", "message": "x", "level": "ERROR"}],
                                      "final_audit_log": {"who": "me"}}}))
    assert result.ir is not None
    assert result.ir.nodes["end"].payload == I.TerminatePayload(
        status="failed", outputs={"e": "{{error}}"},
        error_actions=({"action": "log", "message": "x", "level": "ERROR"},), final_audit_log={"who": "me"})


def test_every_node_type_has_a_payload_class() -> None:
    payloads = {
        "sequence": I.SequencePayload, "logic": I.LogicPayload, "loop": I.LoopPayload,
        "parallel": I.ParallelPayload, "processing": I.ProcessingPayload, "verification": I.VerificationPayload,
        "llm_action": I.LlmPayload, "human_approval": I.ApprovalPayload, "transform": I.TransformPayload,
        "subflow": I.SubflowPayload, "terminate": I.TerminatePayload,
    }
    seen: dict[str, type] = {}
    for path in example_files():
        result = compile_text(path.read_text())
        assert result.ir is not None
        for node in result.ir.nodes.values():
            seen[node.type] = type(node.payload)
    assert seen == payloads


def test_node_level_fields_reach_the_ir() -> None:
    node = build(seq(agent="MasterAgent", description="d", is_checkpoint=True, idempotency_key="k-{{run_id}}",
                     sla={"max_duration_ms": 100, "on_breach": "fail"}, telemetry={"track_duration": True},
                     timeout_ms=2000, max_retries=4, retry_delay_ms=50,
                     error_handlers=[{"error_type": "Timeout", "action": "retry",
                                      "trigger": {"http_status_codes": [503], "error_code": 7},
                                      "retry_policy": {"strategy": "linear", "base_delay_ms": 10}}]))
    assert (node.agent, node.description, node.is_checkpoint, node.idempotency_key) == (
        "MasterAgent", "d", True, "k-{{run_id}}")
    assert node.sla == I.SlaIR(100.0, "fail", None)
    assert node.telemetry == {"track_duration": True}
    assert (node.timeout_ms, node.retry) == (2000.0, I.RetryPolicy(max_retries=4, delay_ms=50.0))
    handler = node.error_handlers[0]
    assert (handler.action, handler.error_type, handler.error_code, handler.http_status_codes) == (
        "retry", "Timeout", "7", (503,))
    assert handler.retry is not None and (handler.retry.strategy, handler.retry.delay_ms) == ("linear", 10.0)


def test_ir_is_frozen() -> None:
    ir = compile_doc(doc({"a": seq(), "end": TERMINATE})).ir
    assert ir is not None
    with pytest.raises(dataclasses.FrozenInstanceError):
        ir.start_node = "end"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        ir.nodes["a"].next_node = "x"  # type: ignore[misc]


# ----------------------------------------------------------------------------- determinism and hash
def _sample() -> dict[str, Any]:
    return doc({
        "start": seq({"step_id": "s", "action": "set_variable", "variable": "v", "value": "{{run_id}}"},
                     next_node="route"),
        "route": {"type": "logic", "rules": [{"condition": "{{v}} == 'x'", "next_node": "end"}],
                  "default_next_node": "end"},
        "end": TERMINATE,
    }, global_config={"max_retries": 2, "secrets_config": {"provider": "env_vars",
                                                           "secret_references": {"k": "K"}}})


def test_the_same_ckp_gives_an_equal_ir_and_the_same_hash() -> None:
    first, second = compile_data(_sample()).ir, compile_data(copy.deepcopy(_sample())).ir
    assert first is not None and second is not None
    assert first == second
    assert first.ir_hash == second.ir_hash and len(first.ir_hash) == 64


def test_whitespace_and_key_order_do_not_change_the_hash() -> None:
    data = _sample()
    compact = json.dumps(data, separators=(",", ":"))
    pretty = json.dumps(dict(reversed(list(data.items()))), indent=4)
    a, b = compile_text(compact).ir, compile_text(pretty).ir
    assert a is not None and b is not None and a.ir_hash == b.ir_hash


@pytest.mark.parametrize(
    "change",
    [
        lambda d: d["workflow_graph"]["nodes"]["start"]["steps"][0].update(value="{{procedure_id}}"),
        lambda d: d["workflow_graph"]["nodes"]["route"]["rules"][0].update(condition="{{v}} == 'y'"),
        lambda d: d["global_config"].update(max_retries=3),
        lambda d: d.update(version="1.0.1"),
        lambda d: d["workflow_graph"]["nodes"]["end"].update(description="the end"),
    ],
)
def test_any_change_gives_a_different_hash(change: Any) -> None:
    original = compile_data(_sample()).ir
    changed_doc = _sample()
    change(changed_doc)
    changed = compile_data(changed_doc).ir
    assert original is not None and changed is not None
    assert original.ir_hash != changed.ir_hash


def test_bind_without_source_hashes_the_model_dump_consistently() -> None:
    parsed = parse_data(_sample())
    assert parsed.procedure is not None
    assert bind(parsed.procedure).ir_hash == bind(parsed.procedure).ir_hash
    dumped = parsed.procedure.model_dump(mode="json", by_alias=True, exclude_unset=True)
    assert bind(parsed.procedure).ir_hash == source_hash(dumped)


def test_ir_content_is_plain_json_without_the_hash() -> None:
    ir = compile_data(_sample()).ir
    assert isinstance(ir, ProcedureIR)
    content = ir_content(ir)
    assert "ir_hash" not in content
    assert json.loads(json.dumps(content)) == content
    assert content["nodes"]["start"]["payload"]["steps"][0]["binding"]["kind"] == "internal"


def test_secret_references_become_lookups_without_values() -> None:
    ir = compile_data(_sample()).ir
    assert ir is not None
    assert ir.secrets == (I.SecretRef("k", "env_vars", "K", None),)


# ----------------------------------------------------------------------------- golden IR
GOLDEN_DIR = Path(__file__).parent / "golden"
NODE_TYPE_EXAMPLES = [p for p in example_files() if p.name.endswith("_example.ckp.json")]


@pytest.mark.parametrize("path", NODE_TYPE_EXAMPLES, ids=lambda p: p.name.removesuffix(".ckp.json"))
def test_example_compiles_to_its_golden_ir(path: Path) -> None:
    """The IR of each node-type example, as plain JSON. After a deliberate change to the
    binder or an example, regenerate with ``LANGORCH_UPDATE_GOLDEN=1 pytest tests/ckp/test_ir.py``
    and review the diff."""
    ir = compile_text(path.read_text(encoding="utf-8")).ir
    assert ir is not None
    actual = json.dumps(ir_content(ir), indent=1, sort_keys=True, ensure_ascii=False) + "\n"
    golden = GOLDEN_DIR / path.name.replace(".ckp.json", ".ir.json")
    if os.environ.get("LANGORCH_UPDATE_GOLDEN") == "1":
        GOLDEN_DIR.mkdir(exist_ok=True)
        golden.write_text(actual, encoding="utf-8")
    assert golden.exists(), f"no golden file; run with LANGORCH_UPDATE_GOLDEN=1 to create {golden.name}"
    assert actual == golden.read_text(encoding="utf-8")
