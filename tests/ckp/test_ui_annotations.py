"""``$ui``: the visual builder's annotations (canvas positions) are UI-only.

They raise no diagnostic and do not change the IR hash, in either document dialect;
any other change still does.
"""

from __future__ import annotations

import copy
from typing import Any

from jsonschema import Draft202012Validator

from langorch.ckp import ckp_json_schema
from langorch.ckp.binder import without_ui
from tests.ckp.builders import TERMINATE, compile_doc, doc, seq


def positioned(document: dict[str, Any], x: float = 120, y: float = 40) -> dict[str, Any]:
    """``document`` with a ``$ui`` on every node, on the graph and at the top level."""
    out = copy.deepcopy(document)
    for i, node in enumerate(out["workflow_graph"]["nodes"].values()):
        node["$ui"] = {"position": {"x": x + i, "y": y * i}}
    out["workflow_graph"]["$ui"] = {"viewport": {"zoom": 1.5}}
    out["$ui"] = {"layout": "manual"}
    return out


def base() -> dict[str, Any]:
    return doc({"greet": seq(), "end": TERMINATE})


def test_ui_annotations_raise_no_diagnostic() -> None:
    result = compile_doc(positioned(base()))

    assert result.diagnostics == []
    assert result.ir is not None


def test_ui_annotations_do_not_change_the_ir_hash() -> None:
    plain = compile_doc(base()).ir
    annotated = compile_doc(positioned(base())).ir
    moved = compile_doc(positioned(base(), x=900, y=-30)).ir

    assert plain is not None and annotated is not None and moved is not None
    assert plain.ir_hash == annotated.ir_hash == moved.ir_hash


def test_a_real_change_beside_ui_annotations_still_changes_the_hash() -> None:
    changed = positioned(base())
    changed["workflow_graph"]["nodes"]["greet"]["steps"][0]["value"] = "good morning"
    first = compile_doc(positioned(base())).ir
    second = compile_doc(changed).ir

    assert first is not None and second is not None
    assert first.ir_hash != second.ir_hash


def test_ui_annotations_in_the_node_list_dialect_do_not_change_the_hash() -> None:
    nodes = [{"id": "greet", "type": "sequence", "steps": [{"step_id": "s", "action": "log", "value": "hi"}],
              "next_node": "end"},
             {"id": "end", "type": "terminate", "status": "success"}]
    legacy: dict[str, Any] = {"procedure_id": "p", "version": "1.0.0", "entry": "greet", "nodes": nodes}
    annotated = copy.deepcopy(legacy)
    annotated["nodes"][0]["$ui"] = {"position": {"x": 1, "y": 2}}
    plain_ir, annotated_ir = compile_doc(legacy).ir, compile_doc(annotated).ir

    assert plain_ir is not None and annotated_ir is not None
    assert plain_ir.ir_hash == annotated_ir.ir_hash
    assert [d.code for d in compile_doc(annotated).diagnostics] == [d.code for d in compile_doc(legacy).diagnostics]


def test_without_ui_copies_only_what_it_changes_and_never_mutates_the_document() -> None:
    document = positioned(base())
    before = copy.deepcopy(document)

    stripped = without_ui(document)

    assert document == before
    assert "$ui" not in stripped and "$ui" not in stripped["workflow_graph"]
    assert all("$ui" not in node for node in stripped["workflow_graph"]["nodes"].values())
    assert stripped == base()
    plain = base()
    assert without_ui(plain) is plain


def test_a_ui_key_inside_a_step_is_data_and_still_part_of_the_hash() -> None:
    one = base()
    one["workflow_graph"]["nodes"]["greet"]["steps"][0]["$ui"] = {"note": "a"}
    two = copy.deepcopy(one)
    two["workflow_graph"]["nodes"]["greet"]["steps"][0]["$ui"] = {"note": "b"}
    first, second = compile_doc(one).ir, compile_doc(two).ir

    assert first is not None and second is not None
    assert first.ir_hash != second.ir_hash


def test_the_json_schema_describes_and_accepts_ui_annotations() -> None:
    schema = ckp_json_schema()
    validator = Draft202012Validator(schema)

    assert list(validator.iter_errors(positioned(base()))) == []
    assert "$ui" in schema["$defs"]["SequenceNode"]["properties"]
    bad = positioned(base())
    bad["workflow_graph"]["nodes"]["greet"]["$ui"] = {"position": {"x": "left", "y": 0}}
    assert list(validator.iter_errors(bad))
