"""JSON Schema (Draft 2020-12) of CKP, exported from the Pydantic models."""

from __future__ import annotations

from typing import Any

from langorch.ckp.catalog import OPERATIONS, UNSUPPORTED_OPERATIONS
from langorch.ckp.nodes import Procedure

SCHEMA_ID = "https://langorch.dev/schema/ckp.schema.json"

_SPEC_MAP = {"type": "object", "additionalProperties": {"type": "object"}}


def _variables_schema_shape() -> dict[str, Any]:
    """``variables_schema`` as :func:`langorch.ckp.models.variables_shape` reads it.

    Pydantic would export a ``oneOf`` of both shapes, which a split-shape document
    matches twice (a flat map may name a variable "required"); if/then/else picks one.
    """
    split_marker = {
        "type": "object",
        "anyOf": [{"required": ["required"]}, {"required": ["optional"]}],
        "properties": {"required": _SPEC_MAP, "optional": _SPEC_MAP},
    }
    return {
        "title": "Variables Schema",
        "description": "Either {required: {name: spec}, optional: {name: spec}} or a flat {name: spec} map.",
        "anyOf": [
            {"type": "null"},
            {
                "if": split_marker,
                "then": {"$ref": "#/$defs/VariablesSchema"},
                "else": {"type": "object", "additionalProperties": {"$ref": "#/$defs/VariableSpec"}},
            },
        ],
    }


def _terminate_action_shape() -> dict[str, Any]:
    """A terminate action as :func:`langorch.ckp.models.action_kind` reads it: an operation
    when its ``action`` is one, else a step (Pydantic would export a ``oneOf``, which a
    ``log`` action matches twice)."""
    operations = sorted(OPERATIONS | UNSUPPORTED_OPERATIONS)
    return {
        "if": {"type": "object", "required": ["action"], "properties": {"action": {"enum": operations}}},
        "then": {"$ref": "#/$defs/Operation"},
        "else": {"$ref": "#/$defs/Step"},
    }


def _ui_shape(where: str) -> dict[str, Any]:
    """``$ui``: the visual builder's annotations. Ignored by the compiler and the IR hash."""
    point = {"type": "object", "required": ["x", "y"],
             "properties": {"x": {"type": "number"}, "y": {"type": "number"}}}
    shape: dict[str, Any] = {
        "title": "UI annotations",
        "description": f"UI-only data of the {where} (the visual builder's); ignored by the compiler and "
                       "not part of the ir_hash.",
        "type": "object",
    }
    if where == "node":
        shape["properties"] = {"position": {**point, "description": "Canvas position of the node."}}
    return shape


def ckp_json_schema() -> dict[str, Any]:
    """The schema editors can use as ``$schema``; it also admits the older node-list shape."""
    body = Procedure.model_json_schema(by_alias=True, ref_template="#/$defs/{model}")
    defs: dict[str, Any] = body.pop("$defs", {})
    defs["Procedure"] = body
    body["properties"]["variables_schema"] = _variables_schema_shape()
    terminate = defs["TerminateNode"]["properties"]
    for key in ("cleanup_actions", "error_actions"):
        terminate[key]["anyOf"] = [{"type": "array", "items": _terminate_action_shape()}, {"type": "null"}]
    body["properties"]["$ui"] = _ui_shape("procedure")
    defs["WorkflowGraph"]["properties"]["$ui"] = _ui_shape("graph")
    for name, definition in defs.items():
        if name.endswith("Node") and "properties" in definition:
            definition["properties"]["$ui"] = _ui_shape("node")
    defs["LegacyNodeListProcedure"] = {
        "title": "Older CKP shape (node list)",
        "description": "Accepted and rewritten to the canonical shape with a warning.",
        "type": "object",
        "required": ["nodes"],
        "properties": {
            "id": {"type": "string"},
            "procedure_id": {"type": "string"},
            "version": {"type": ["string", "number"]},
            "procedure_version": {"type": "string"},
            "entry": {"type": "string"},
            "start_node_id": {"type": "string"},
            "nodes": {"type": "array", "items": {"type": "object"}},
        },
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "CKP procedure",
        "anyOf": [{"$ref": "#/$defs/Procedure"}, {"$ref": "#/$defs/LegacyNodeListProcedure"}],
        "$defs": defs,
    }
