"""The Pydantic models of CKP: node union, defaults, unknown fields, variables_schema shapes."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from langorch.ckp.models import Operation, VariablesSchema, declared_variables, variables_shape
from langorch.ckp.nodes import (
    NODE_ADAPTER,
    NODE_TYPES,
    HumanApprovalNode,
    LlmActionNode,
    LogicNode,
    LoopNode,
    ParallelNode,
    Procedure,
    ProcessingNode,
    SequenceNode,
    SubflowNode,
    TerminateNode,
    TransformNode,
    VerificationNode,
)

MINIMAL: dict[str, dict[str, Any]] = {
    "sequence": {"steps": [{"action": "log"}]},
    "logic": {"rules": [{"condition": "true", "next_node": "x"}]},
    "loop": {"iterator": "items", "body_node": "x"},
    "parallel": {"branches": [{"branch_id": "b", "start_node": "x"}]},
    "processing": {"operations": [{"action": "log"}]},
    "verification": {"checks": [{"condition": "true"}]},
    "llm_action": {"prompt": "hi"},
    "human_approval": {"prompt": "ok?", "on_approve": "x", "on_reject": "y"},
    "transform": {"transformations": [{"type": "sort", "source_variable": "a", "output_variable": "b"}]},
    "subflow": {"procedure_id": "other"},
    "terminate": {},
}
CLASSES = {
    "sequence": SequenceNode, "logic": LogicNode, "loop": LoopNode, "parallel": ParallelNode,
    "processing": ProcessingNode, "verification": VerificationNode, "llm_action": LlmActionNode,
    "human_approval": HumanApprovalNode, "transform": TransformNode, "subflow": SubflowNode,
    "terminate": TerminateNode,
}


def test_there_are_eleven_node_types_each_with_a_model() -> None:
    assert set(NODE_TYPES) == set(MINIMAL) == set(CLASSES)
    assert len(NODE_TYPES) == 11


@pytest.mark.parametrize("node_type", NODE_TYPES)
def test_type_field_selects_the_node_model(node_type: str) -> None:
    node = NODE_ADAPTER.validate_python({"type": node_type, **MINIMAL[node_type]})
    assert type(node) is CLASSES[node_type]
    assert node.type == node_type


def test_every_node_accepts_the_shared_fields() -> None:
    shared = {"agent": "WEB", "description": "d", "inputs": {"a": 1}, "outputs": {"b": "x"},
              "next_node": "n", "is_checkpoint": True, "sla": {"max_duration_ms": 5, "on_breach": "warn"},
              "telemetry": {"track_duration": True}, "idempotency_key": "k", "max_retries": 2,
              "retry_delay_ms": 10, "timeout_ms": 100,
              "error_handlers": [{"error_type": "X", "action": "retry", "max_retries": 1}]}
    for node_type in NODE_TYPES:
        node = NODE_ADAPTER.validate_python({"type": node_type, **MINIMAL[node_type], **shared})
        assert node.sla is not None and node.sla.max_duration_ms == 5
        assert node.error_handlers is not None and node.error_handlers[0].max_retries == 1


def test_defaults_of_terminate_and_approval() -> None:
    terminate = TerminateNode.model_validate({"type": "terminate"})
    assert terminate.status == "success"
    approval = HumanApprovalNode.model_validate({"type": "human_approval"})
    assert approval.decision_type == "approve_reject"


def test_unknown_fields_are_kept_at_every_level() -> None:
    node = NODE_ADAPTER.validate_python(
        {"type": "sequence", "colour": "blue", "steps": [{"action": "log", "flavour": "mint"}]})
    assert isinstance(node, SequenceNode)
    assert node.model_extra == {"colour": "blue"}
    assert node.steps[0].model_extra == {"flavour": "mint"}


@pytest.mark.parametrize(
    "bad",
    [
        {"type": "terminate", "status": "maybe"},
        {"type": "llm_action", "temperature": 3},
        {"type": "sequence", "steps": [{"value": 1}]},
        {"type": "loop", "iterator": "x"},
        {"type": "parallel", "branches": [{"branch_id": "b"}]},
    ],
)
def test_wrong_values_and_missing_required_fields_fail_validation(bad: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        NODE_ADAPTER.validate_python(bad)


def test_operation_schema_field_is_read_and_written_as_schema() -> None:
    op = Operation.model_validate({"action": "validate_schema", "schema": {"type": "object"}})
    assert op.schema_ == {"type": "object"}
    assert op.model_dump(by_alias=True, exclude_none=True)["schema"] == {"type": "object"}


@pytest.mark.parametrize(
    ("value", "shape"),
    [
        ({"required": {"a": {"type": "string"}}}, "split"),
        ({"optional": {}}, "split"),
        ({"required": {"a": {}}, "b": {}}, "split"),
        ({"a": {"type": "string"}}, "flat"),
        ({"required": {"type": "string", "description": "a variable named required"}}, "flat"),
        ({}, "flat"),
    ],
)
def test_variables_schema_shape_is_recognised(value: dict[str, Any], shape: str) -> None:
    assert variables_shape(value) == shape


def test_declared_variables_reads_both_shapes_with_required_flags() -> None:
    split = Procedure.model_validate({"procedure_id": "p", "workflow_graph": {}, "variables_schema": {
        "required": {"a": {}, "b": {"required": False}}, "optional": {"c": {}, "d": {"required": True}}}})
    assert isinstance(split.variables_schema, VariablesSchema)
    flags = {name: required for name, (_, required) in declared_variables(split.variables_schema).items()}
    assert flags == {"a": True, "b": False, "c": False, "d": True}

    flat = Procedure.model_validate({"procedure_id": "p", "workflow_graph": {}, "variables_schema": {
        "a": {"type": "number", "required": True}, "b": {}}})
    flags = {name: required for name, (_, required) in declared_variables(flat.variables_schema).items()}
    assert flags == {"a": True, "b": False}


def test_flat_variable_named_required_is_not_mistaken_for_the_split_shape() -> None:
    proc = Procedure.model_validate({"procedure_id": "p", "workflow_graph": {}, "variables_schema": {
        "required": {"type": "boolean"}}})
    assert set(declared_variables(proc.variables_schema)) == {"required"}


def test_procedure_needs_procedure_id_and_workflow_graph() -> None:
    with pytest.raises(ValidationError) as info:
        Procedure.model_validate({})
    assert {e["loc"][0] for e in info.value.errors()} == {"procedure_id", "workflow_graph"}


def test_procedure_version_defaults_to_1_0_0() -> None:
    assert Procedure.model_validate({"procedure_id": "p", "workflow_graph": {}}).version == "1.0.0"
