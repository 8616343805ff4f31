"""set_checkpoint saves the run's variables under a name; restore_checkpoint puts them back."""

from __future__ import annotations

from typing import Any

import pytest

from tests.runtime.harness import Harness, ckp, compile_ok, end, seq


def _set(name: str, value: Any) -> dict[str, Any]:
    return {"action": "set_variable", "variable": name, "value": value}


VARIABLES = {"total": {"type": "number", "default": 0}}


@pytest.mark.asyncio
async def test_restore_checkpoint_puts_back_the_variables_set_checkpoint_saved() -> None:
    h = Harness()
    doc = ckp({
        "prepare": seq(_set("total", 10), _set("status", "draft"),
                       {"step_id": "save", "action": "set_checkpoint", "value": "before_pricing"},
                       next_node="price"),
        "price": seq(_set("total", 99), _set("status", "priced"), _set("note", "tried"), next_node="undo"),
        "undo": seq({"step_id": "back", "action": "restore_checkpoint", "value": "before_pricing"},
                    {"action": "log", "value": "total is {{total}}"}, next_node="done"),
        "done": end(outputs={"total": "{{total}}", "status": "{{status}}", "note": "{{note}}"}),
    }, variables=VARIABLES)

    out = await h.run(doc)

    assert out.status == "completed", out.error
    assert out.outputs == {"total": 10, "status": "draft", "note": "tried"}
    assert [p["message"] for p in h.events.payloads("log")] == ["total is 10"]
    [saved] = h.events.payloads("checkpoint_saved")
    assert saved["label"] == "before_pricing"
    [restored] = h.events.of("checkpoint_restored")
    assert (restored.node_id, restored.step_id) == ("undo", "back")
    assert restored.payload == {"label": "before_pricing", "saved_by": "prepare",
                                "variables": ["status", "total"]}


@pytest.mark.asyncio
async def test_a_checkpoint_survives_a_pause_and_a_resume() -> None:
    h = Harness()
    ir = compile_ok(ckp({
        "prepare": seq(_set("total", 10), {"action": "set_checkpoint"}, _set("total", 11), next_node="gate"),
        "gate": {"type": "human_approval", "prompt": "go?", "on_approve": "undo", "on_reject": "done"},
        "undo": seq({"action": "restore_checkpoint"}, next_node="done"),
        "done": end(outputs={"total": "{{total}}"}),
    }, variables=VARIABLES))

    waiting = await h.run(ir)
    assert waiting.status == "waiting_approval"
    out = await h.resume(ir, decision="approve")

    assert out.status == "completed", out.error
    assert out.outputs == {"total": 10}
    assert h.events.payloads("checkpoint_restored")[0]["label"] == "default"


@pytest.mark.asyncio
async def test_restoring_a_checkpoint_nobody_saved_fails_the_node() -> None:
    h = Harness()
    doc = ckp({
        "prepare": seq({"action": "set_checkpoint", "value": "a"}, next_node="undo"),
        "undo": seq({"action": "restore_checkpoint", "value": "b"}, next_node="done"),
        "done": end(),
    }, variables={})

    out = await h.run(doc)

    assert out.status == "failed"
    assert out.error is not None and out.error["type"] == "CheckpointNotFound"
    assert "'b'" in out.error["message"] and out.error["details"]["saved"] == ["a"]


@pytest.mark.asyncio
async def test_a_checkpoint_can_be_restored_in_the_node_that_saved_it_and_by_a_terminate_action() -> None:
    h = Harness()
    doc = ckp({
        "work": seq({"action": "set_checkpoint", "value": "start"}, _set("total", 5),
                    {"action": "restore_checkpoint", "value": "start"}, _set("seen", "{{total}}"),
                    _set("total", 7), next_node="done"),
        "done": end(cleanup_actions=[{"action": "restore_checkpoint", "value": "start"}],
                    outputs={"seen": "{{seen}}", "total": "{{total}}"}),
    }, variables=VARIABLES)

    out = await h.run(doc)

    assert out.status == "completed", out.error
    assert out.outputs == {"seen": 0, "total": 0}
