"""Binder: where each action runs, policies, variables, triggers, global config."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from langorch.ckp import ir as I
from langorch.ckp.binder import bind, bind_action, ir_content, resolve_action
from langorch.ckp.diagnostics import Code
from langorch.ckp.parser import parse_text
from tests.ckp.builders import (
    REFERENCE_DIR,
    TERMINATE,
    WORKLOADS_DIR,
    compile_doc,
    doc,
    example_files,
    json_files,
    seq,
)


def compiled(**root: Any) -> I.ProcedureIR:
    nodes = root.pop("nodes", {"a": seq(), "end": TERMINATE})
    result = compile_doc(doc(nodes, **root))
    assert result.ir is not None, [d.format() for d in result.errors]
    return result.ir


@pytest.mark.parametrize(
    ("action", "agent", "expected"),
    [
        ("log", None, I.Binding("internal", "log", side_effect=False)),
        ("http_request", "MasterAgent", I.Binding("internal", "http_request", side_effect=True)),
        ("write_file", "system", I.Binding("internal", "write_file", side_effect=True)),
        ("navigate", None, I.Binding("agent", "navigate", channel="WEB", side_effect=True)),
        ("extract_text", "WEB", I.Binding("agent", "extract_text", channel="WEB", side_effect=False)),
        ("send_email", "EMAIL", I.Binding("agent", "send_email", channel="EMAIL", side_effect=True)),
        ("http_request", "API", I.Binding("agent", "http_request", channel="API", side_effect=True)),
        ("custom.thing", "CRM", I.Binding("agent", "custom.thing", channel="CRM", side_effect=True)),
        ("llm_call", None, I.Binding("llm", "llm_call", channel="LLM", side_effect=False)),
        ("summarise", "LLMAgent", I.Binding("llm", "summarise", channel="LLMAgent", side_effect=False)),
        ("mcp:files/read_file", None, I.Binding("mcp", "read_file", server="files", side_effect=True)),
        ("mcp://files.read_file", "WEB", I.Binding("mcp", "read_file", server="files", side_effect=True)),
        ("screenshot", "DESKTOP", I.Binding("agent", "screenshot", channel="DESKTOP", side_effect=False)),
    ],
)
def test_action_binding(action: str, agent: str | None, expected: I.Binding) -> None:
    assert resolve_action(action, agent)[0] == expected


def test_action_no_catalog_lists_goes_to_the_master_agent_with_a_warning() -> None:
    diagnostics: list[Any] = []
    binding = bind_action("ticket.fetch", None, "/x", diagnostics)
    assert binding == I.Binding("agent", "ticket.fetch", channel="MasterAgent", side_effect=True)
    assert [(d.code, d.path) for d in diagnostics] == [(Code.UNKNOWN_ACTION, "/x")]


def test_action_listed_by_two_channels_needs_the_node_agent() -> None:
    # "click" is both a WEB and a DESKTOP action: without an agent it goes to MasterAgent
    binding, problem, _ = resolve_action("click", None)
    assert (binding.channel, bool(problem)) == ("MasterAgent", True)
    assert resolve_action("click", "DESKTOP")[0].channel == "DESKTOP"


def test_step_retry_on_failure_false_means_no_retries() -> None:
    ir = compiled(nodes={"a": seq({"action": "http_request", "url": "u", "retry_on_failure": False}),
                         "end": TERMINATE}, global_config={"max_retries": 5})
    step = ir.nodes["a"].payload.steps[0]  # type: ignore[union-attr]
    assert step.retry == I.RetryPolicy(max_retries=0, delay_ms=1000.0)


def test_error_handler_with_fallback_recovery_binds_as_fallback_node() -> None:
    handler = {"error_type": "X", "action": "retry", "recovery_strategy": "fallback_node", "fallback_node": "alt"}
    ir = compiled(nodes={"a": seq(error_handlers=[handler]), "alt": seq(), "end": TERMINATE})
    bound = ir.nodes["a"].error_handlers[0]
    assert (bound.action, bound.fallback_node) == ("fallback_node", "alt")
    assert bound.retry is not None and bound.retry.max_retries == 3


def test_recovery_steps_are_bound_like_steps() -> None:
    handler = {"error_type": "WindowNotFound", "action": "retry",
               "recovery_steps": [{"step_id": "close", "action": "press_keys", "keys": ["Alt", "F4"]}]}
    ir = compiled(nodes={"a": seq({"action": "launch_app", "value": "x"}, agent="DESKTOP",
                                  error_handlers=[handler]), "end": TERMINATE})
    step = ir.nodes["a"].error_handlers[0].recovery_steps[0]
    assert (step.step_id, step.binding.channel, step.params) == ("close", "DESKTOP", {"keys": ["Alt", "F4"]})


def test_variables_become_typed_declarations_with_validation() -> None:
    ir = compiled(variables_schema={
        "required": {"email": {"type": "string", "default": "a@b.c", "description": "who",
                               "validation": {"regex": "^.+@.+$", "min_length": 3, "sensitive": True}}},
        "optional": {"n": {"type": "integer", "validation": {"min": 1, "max": 9, "allowed_values": [1, 9]}}},
    })
    email, n = ir.variables
    assert (email.name, email.type, email.required, email.default, email.has_default) == (
        "email", "string", True, "a@b.c", True)
    assert (email.regex, email.min_length, email.sensitive, email.description) == ("^.+@.+$", 3, True, "who")
    assert (n.required, n.has_default, n.min, n.max, n.allowed_values) == (False, False, 1.0, 9.0, (1, 9))
    assert ir.sensitive_names == frozenset({"email"})
    assert ir.variable("n") is n and ir.variable("nope") is None


def test_global_config_defaults_when_absent() -> None:
    assert compiled().global_config == I.GlobalConfigIR()


def test_global_config_options_reach_the_ir() -> None:
    ir = compiled(global_config={
        "max_retries": 3, "retry_delay_ms": 250, "timeout_ms": 60000, "on_failure": "end",
        "execution_mode": "dry_run", "mock_external_calls": True, "test_data_overrides": {"a.s0": 1},
        "rate_limiting": {"enabled": True, "max_requests_per_minute": 30, "max_concurrent_operations": 2},
        "llm_budget": {"max_tokens_per_run": 1000, "max_cost_usd": 0.5, "warn_at_percent": 50},
        "checkpoint_strategy": "critical_nodes_only", "checkpoint_retention_days": 7,
        "screenshot_on_fail": True, "logging_level": "DEBUG", "telemetry_enabled": False,
        "default_model": "gpt-x", "audit_config": {"include_sensitive_data": True},
    })
    assert ir.global_config == I.GlobalConfigIR(
        max_retries=3, retry_delay_ms=250.0, timeout_ms=60000.0, on_failure="end", execution_mode="dry_run",
        mock_external_calls=True, test_data_overrides={"a.s0": 1}, max_requests_per_minute=30.0,
        max_concurrent_operations=2, max_cost_usd=0.5, max_tokens_per_run=1000, budget_warn_percent=50.0,
        checkpoint_strategy="critical_nodes_only", checkpoint_retention_days=7.0, screenshot_on_fail=True,
        logging_level="DEBUG", telemetry_enabled=False, default_model="gpt-x", audit_include_sensitive=True)


def test_disabled_rate_limiting_sets_no_limits() -> None:
    ir = compiled(global_config={"rate_limiting": {"enabled": False, "max_requests_per_minute": 5}})
    assert ir.global_config.max_requests_per_minute is None


def test_root_max_cost_wins_over_the_budget_one() -> None:
    ir = compiled(global_config={"max_cost_usd": 2, "llm_budget": {"max_cost_usd": 9}})
    assert ir.global_config.max_cost_usd == 2.0


def test_trigger_becomes_trigger_ir() -> None:
    ir = compiled(trigger={"type": "webhook", "webhook_config": {"endpoint": "/hooks/x", "secret_ref": "hmac"}})
    assert ir.trigger == I.TriggerIR("webhook", None, None,
                                     {"webhook_config": {"endpoint": "/hooks/x", "secret_ref": "hmac"}})
    scheduled = compiled(trigger={"type": "scheduled", "schedule": "0 9 * * 1-5", "timezone": "Europe/Paris"})
    assert scheduled.trigger == I.TriggerIR("scheduled", "0 9 * * 1-5", "Europe/Paris", {})


def test_secret_provider_defaults_to_env_vars_and_refs_are_sorted() -> None:
    ir = compiled(global_config={"secrets_config": {"secret_references": {"b": "B", "a": "A"}}})
    assert ir.secrets == (I.SecretRef("a", "env_vars", "A"), I.SecretRef("b", "env_vars", "B"))


def test_edges_list_every_declared_edge_with_kind_and_label() -> None:
    ir = compiled(nodes={
        "a": {"type": "logic", "rules": [{"condition": "true", "next_node": "end"}], "default_next_node": "b"},
        "b": seq(error_handlers=[{"error_type": "X", "action": "fallback_node", "fallback_node": "end"}]),
        "end": TERMINATE,
    })
    assert [(e.source, e.target, e.kind, e.label) for e in ir.edges] == [
        ("a", "end", "rule", "true"), ("a", "b", "default", "default"),
        ("b", "end", "next", ""), ("b", "end", "fallback", "on error")]


def test_nodes_outside_loops_and_branches_have_no_region() -> None:
    ir = compiled()
    assert all(node.region is None for node in ir.nodes.values())


def test_wait_and_log_run_in_the_engine_even_inside_an_agent_node() -> None:
    from langorch.ckp import compile_data

    doc = {"procedure_id": "p", "version": "1", "workflow_graph": {"start_node": "web", "nodes": {
        "web": {"type": "sequence", "agent": "WEB", "next_node": "done", "steps": [
            {"step_id": "open", "action": "navigate", "url": "https://example.com"},
            {"step_id": "pause", "action": "wait", "duration_ms": 10},
            {"step_id": "note", "action": "log", "message": "opened"}]},
        "done": {"type": "terminate", "status": "success"}}}}

    ir = compile_data(doc).ir
    assert ir is not None
    kinds = {s.step_id: (s.binding.kind, s.binding.channel) for s in ir.nodes["web"].payload.steps}  # type: ignore[union-attr]
    assert kinds == {"open": ("agent", "WEB"), "pause": ("internal", None), "note": ("internal", None)}


@pytest.mark.parametrize("path", [*example_files(), *json_files(REFERENCE_DIR), *json_files(WORKLOADS_DIR)],
                         ids=lambda p: p.name)
def test_ir_read_from_the_document_equals_the_ir_read_from_the_models(path: Path) -> None:
    parsed = parse_text(path.read_text(encoding="utf-8"))
    assert parsed.procedure is not None and parsed.raw is not None
    assert ir_content(bind(parsed.procedure, parsed.raw)) == ir_content(bind(parsed.procedure))


def test_step_and_operation_values_validation_converts_reach_the_ir_converted() -> None:
    result = compile_doc(doc({
        "n": seq({"action": "screenshot", "screenshot_on_complete": "yes", "duration_ms": "250",
                  "headers": None, "custom": "kept"}, next_node="p"),
        "p": {"type": "processing", "operations": [{"action": "log", "message": "hi", "level": "INFO",
                                                    "pattern": None}], "next_node": "end"},
        "end": TERMINATE,
    }))
    assert result.ir is not None, [d.format() for d in result.errors]
    payload = result.ir.nodes["n"].payload
    assert isinstance(payload, I.SequencePayload)
    assert payload.steps[0].params == {"screenshot_on_complete": True, "duration_ms": 250, "custom": "kept"}
    processing = result.ir.nodes["p"].payload
    assert isinstance(processing, I.ProcessingPayload)
    assert processing.operations == ({"action": "log", "message": "hi", "level": "INFO"},)
