"""subflow nodes: a child procedure from the resolver, input/output mapping, on_failure,
and an approval inside the child pausing and resuming the parent."""

from __future__ import annotations

from typing import Any

import pytest

from tests.runtime.harness import DictResolver, Harness, ckp, compile_ok, end

CHILD = ckp({
    "double": {"type": "processing", "next_node": "check", "operations": [
        {"action": "calculate", "expression": "amount * 2", "output_variable": "doubled"}]},
    "check": {"type": "logic", "rules": [{"condition": "amount < 0", "next_node": "bad"}], "default_next_node": "ok"},
    "ok": end(outputs={"result": "{{doubled}}", "note": "child saw {{customer}}"}),
    "bad": end("failed", outputs={"reason": "negative"}),
}, procedure_id="child_proc", variables={"amount": {"type": "number", "required": True},
                                         "customer": {"type": "string", "default": "nobody"}})

GATED_CHILD = ckp({
    "ask": {"type": "human_approval", "prompt": "Child approval for {{amount}}", "on_approve": "yes",
            "on_reject": "no"},
    "yes": end(outputs={"verdict": "approved"}),
    "no": end("failed", outputs={"verdict": "rejected"}),
}, procedure_id="gated_child", variables={"amount": {"type": "number"}})


def _parent(child: str = "child_proc", **sub: Any) -> dict[str, Any]:
    return ckp({
        "call": {"type": "subflow", "procedure_id": child, "input_mapping": {"amount": "{{price}}"},
                 "next_node": "done", **sub},
        "done": end(outputs={"total": "{{total}}"}),
    }, procedure_id="parent_proc", variables={"price": {"type": "number"}, "total": {"type": "any"}})


@pytest.mark.asyncio
async def test_subflow_runs_the_resolved_child_with_input_and_output_mapping() -> None:
    resolver = DictResolver(CHILD)
    h = Harness(resolver=resolver)

    out = await h.run(_parent(output_mapping={"total": "outputs.result", "child_note": "note"}), {"price": 21})

    assert out.status == "completed", out.error
    assert out.outputs == {"total": 42}
    assert out.vars["child_note"] == "child saw nobody"
    assert resolver.calls == [("child_proc", None)]
    assert [p["procedure_id"] for p in h.events.payloads("subflow_started")] == ["child_proc"]
    child_nodes = [e.node_id for e in h.events.of("node_started")]
    assert "call/double" in child_nodes  # child events are prefixed with the subflow node


@pytest.mark.asyncio
async def test_subflow_without_output_mapping_exposes_child_outputs() -> None:
    h = Harness(resolver=DictResolver(CHILD))
    doc = _parent()
    doc["workflow_graph"]["nodes"]["done"] = end(outputs={"total": "{{call_outputs.result}}"})

    out = await h.run(doc, {"price": 5})

    assert out.outputs == {"total": 10}


@pytest.mark.asyncio
async def test_failed_child_fails_the_parent_by_default() -> None:
    h = Harness(resolver=DictResolver(CHILD))

    out = await h.run(_parent(), {"price": -1})

    assert out.status == "failed"
    assert out.error is not None and out.error["type"] == "SubflowFailed"
    assert out.error["node_id"] == "call"


@pytest.mark.asyncio
async def test_failed_child_with_on_failure_continue_lets_the_parent_go_on() -> None:
    h = Harness(resolver=DictResolver(CHILD))
    doc = _parent(on_failure="continue")
    doc["workflow_graph"]["nodes"]["done"] = end(outputs={"child_failed": "{{call_error.type}}"})

    out = await h.run(doc, {"price": -1})

    assert out.status == "completed", out.error
    assert out.outputs == {"child_failed": "TerminatedAsFailed"}


@pytest.mark.asyncio
async def test_unknown_child_fails_with_procedure_not_found() -> None:
    h = Harness(resolver=DictResolver(CHILD))

    out = await h.run(_parent(child="missing"), {"price": 1})

    assert out.status == "failed"
    assert out.error is not None and out.error["type"] == "ProcedureNotFound"


@pytest.mark.asyncio
@pytest.mark.parametrize(("decision", "status", "verdict"), [("approve", "completed", "approved"),
                                                              ("reject", "completed", "none")])
async def test_approval_inside_a_subflow_pauses_the_parent_and_resumes_it(decision: str, status: str,
                                                                          verdict: str) -> None:
    h = Harness(resolver=DictResolver(GATED_CHILD))
    ir = compile_ok(ckp({
        "before": {"type": "processing", "next_node": "call",
                   "operations": [{"action": "set_variable", "variable": "stage", "value": "before"}]},
        "call": {"type": "subflow", "procedure_id": "gated_child", "input_mapping": {"amount": "{{price}}"},
                 "output_mapping": {"verdict": "outputs.verdict"}, "on_failure": "continue", "next_node": "done"},
        "done": end(outputs={"verdict": "{{verdict}}", "stage": "{{stage}}"}),
    }, procedure_id="parent_gated", variables={"price": {"type": "number"},
                                                 "verdict": {"type": "string", "default": "none"}}))

    first = await h.run(ir, {"price": 300, "verdict": "none"})
    assert first.status == "waiting_approval"
    [pending] = first.pending
    assert pending.request["prompt"] == "Child approval for 300"
    assert pending.node_id == "call/ask"

    out = await h.resume(ir, decision=decision)

    assert out.status == status, out.error
    assert out.outputs["verdict"] == verdict
    assert out.outputs["stage"] == "before"
    # the parent's nodes before the subflow ran once
    assert [e.node_id for e in h.events.of("node_started")].count("before") == 1


def _gated(version: str, verdict: str) -> dict[str, Any]:
    doc = ckp({
        "ask": {"type": "human_approval", "prompt": "Approve {{amount}}?", "on_approve": "yes", "on_reject": "no"},
        "yes": end(outputs={"verdict": verdict}),
        "no": end("failed", outputs={"verdict": "rejected"}),
    }, procedure_id="gated_child", variables={"amount": {"type": "number"}})
    doc["version"] = version
    return doc


class LatestResolver(DictResolver):
    """Resolves an unversioned call to the newest version, as the procedure catalog does."""

    def add(self, doc: dict[str, Any]) -> None:
        ir = compile_ok(doc)
        self.irs[(ir.procedure_id, ir.version)] = ir

    async def resolve(self, procedure_id: str, version: str | None = None) -> Any:
        self.calls.append((procedure_id, version))
        versions = sorted(ver for pid, ver in self.irs if pid == procedure_id and version in (None, ver))
        if not versions:
            return await super().resolve(procedure_id, version)
        return self.irs[(procedure_id, versions[-1])]


_CALLS_GATED = ckp({
    "call": {"type": "subflow", "procedure_id": "gated_child", "input_mapping": {"amount": "{{price}}"},
             "output_mapping": {"verdict": "outputs.verdict"}, "next_node": "done"},
    "done": end(outputs={"verdict": "{{verdict}}"}),
}, procedure_id="parent_pinned", variables={"price": {"type": "number"}, "verdict": {"type": "string"}})


@pytest.mark.asyncio
async def test_a_paused_call_resumes_on_the_child_version_it_started_with() -> None:
    resolver = LatestResolver(_gated("1.0.0", "approved by v1"))
    h = Harness(resolver=resolver)
    ir = compile_ok(_CALLS_GATED)
    first = await h.run(ir, {"price": 5, "verdict": "none"})
    assert first.status == "waiting_approval"

    resolver.add(_gated("2.0.0", "approved by v2"))  # a newer child is imported meanwhile
    out = await h.resume(ir, decision="approve")

    assert out.status == "completed", out.error
    assert out.outputs == {"verdict": "approved by v1"}
    assert resolver.calls[-1] == ("gated_child", "1.0.0")
    # a new run takes the newer version
    fresh = await h.run(ir, {"price": 5, "verdict": "none"}, run_id="run-2")
    assert [p["version"] for p in h.events.payloads("subflow_started")][-1] == "2.0.0"
    assert fresh.status == "waiting_approval"


@pytest.mark.asyncio
async def test_a_paused_call_whose_child_version_was_replaced_fails_clearly() -> None:
    resolver = LatestResolver(_gated("1.0.0", "approved"))
    h = Harness(resolver=resolver)
    ir = compile_ok(_CALLS_GATED)
    first = await h.run(ir, {"price": 5, "verdict": "none"})
    assert first.status == "waiting_approval"

    resolver.add(_gated("1.0.0", "approved, but by another definition"))  # same version, replaced
    out = await h.resume(ir, decision="approve")

    assert out.status == "failed"
    assert out.error is not None and out.error["type"] == "SubflowChanged"
    assert "changed since this call started" in out.error["message"]
