"""subflow: run another procedure as a nested graph.

The child is resolved through the ProcedureResolver port, compiled without a
checkpointer of its own so it inherits the parent's (its checkpoints live under the
parent's thread, in the subflow node's namespace): an approval inside the child pauses
the parent, and a crash resumes inside the child.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from langchain_core.runnables import RunnableConfig

from langorch.ckp.ir import NodeIR, ProcedureIR, SubflowPayload
from langorch.runtime.context import RunContext
from langorch.runtime.errors import StepError
from langorch.runtime.executors.base import Invocation, NodeResult
from langorch.runtime.templating import render

_NAME = re.compile(r"^[A-Za-z_][\w.]*$")


async def execute(node: NodeIR, inv: Invocation, ctx: RunContext) -> NodeResult:
    payload = node.payload
    assert isinstance(payload, SubflowPayload)
    child_ir = await _pinned_child(node, payload, inv, ctx)
    from langorch.runtime.builder import compile_graph
    from langorch.runtime.inputs import apply_defaults
    from langorch.runtime.node_runner import CTX_KEY

    scope = ctx.scope(inv.variables, node)
    inputs: dict[str, Any] = dict(inv.variables) if payload.inherit_context else {}
    inputs.update(render(dict(payload.input_mapping), scope, where=f"node {node.node_id!r} input_mapping"))
    inputs = apply_defaults(child_ir, inputs)
    ctx.redactor.sensitive_names.update(child_ir.sensitive_names)
    ctx.redactor.add_sensitive_values(inputs)
    child_ctx = RunContext(
        run_id=ctx.run_id, ir=child_ir, services=ctx.services, redactor=ctx.redactor, limiter=ctx.limiter,
        is_cancelled=ctx.is_cancelled, secret_values={}, ref_nonce=ctx.ref_nonce, parent=ctx,
        node_prefix=f"{ctx.node_prefix}/{node.node_id}" if ctx.node_prefix else node.node_id,
        key_run_id=ctx.key_run_id, key_prefix=f"{ctx.key_prefix}{node.node_id}#{inv.visit}/", mode=ctx.mode,
        started_at=ctx.started_at, net_policy=ctx.net_policy,
    )
    await child_ctx.prime_secrets()  # the child's own secrets are sealed and masked too
    await ctx.emit("subflow_started", {"procedure_id": child_ir.procedure_id, "version": child_ir.version,
                                       "ir_hash": child_ir.ir_hash}, node_id=node.node_id)
    graph = compile_graph(child_ir, None)
    config: RunnableConfig = {"configurable": {CTX_KEY: child_ctx}, "recursion_limit": 10_000}
    ctx.children.append(child_ctx)
    try:
        final = await graph.ainvoke({"vars": inputs, "usage": {}}, config)
    finally:
        ctx.children.remove(child_ctx)
    usage = final.get("usage") or {}
    if usage:
        ctx.add_usage(node.node_id, usage)
    status = final.get("status") or ("failed" if final.get("error") else "completed")
    outputs = final.get("outputs") or {}
    child_vars = final.get("vars") or {}
    await ctx.emit("subflow_completed", {"procedure_id": child_ir.procedure_id, "status": status,
                                         "outputs": outputs}, node_id=node.node_id)
    if status == "failed":
        error = final.get("error") or {"message": "subflow failed"}
        if payload.on_failure == "continue":
            return NodeResult(updates={f"{node.node_id}_error": error})
        raise StepError(f"subflow {child_ir.procedure_id!r} failed: {error.get('message')}",
                        error_type="SubflowFailed", retryable=False, details={"child_error": error})
    return NodeResult(updates=_map_outputs(payload.output_mapping, child_vars, outputs, node))


async def _pinned_child(node: NodeIR, payload: SubflowPayload, inv: Invocation, ctx: RunContext) -> ProcedureIR:
    """The child procedure of this call: resolved on the first execution, then pinned.

    The version and IR hash the call started with are kept in the step store (durable,
    beside the idempotency records), so a call re-run after a pause or a crash continues
    on the same child even when a newer version has been imported since, and fails with
    a clear error, instead of resuming a checkpoint on another graph, when that version's
    definition was replaced.
    """
    resolver = ctx.services.resolver
    if resolver is None:
        raise StepError(f"subflow {payload.procedure_id!r} cannot be resolved: no procedure resolver configured",
                        error_type="ProcedureNotFound", retryable=False)
    from langorch.runtime.errors import ProcedureNotFound

    store = ctx.services.step_store
    key = f"{ctx.node_key(node.node_id, own_run=True)}#{inv.visit}:subflow"  # a retry resolves afresh
    found, pin = await store.get(key) if store is not None else (False, None)
    pinned = pin if found and isinstance(pin, dict) else None
    try:
        if pinned is not None:
            child_ir = await resolver.resolve(str(pinned["procedure_id"]), str(pinned["version"]))
        else:
            child_ir = await resolver.resolve(payload.procedure_id, payload.version)
    except ProcedureNotFound as exc:
        raise StepError(str(exc), error_type="ProcedureNotFound", retryable=False) from exc
    if pinned is None:
        if store is not None:
            await store.put(key, {"procedure_id": child_ir.procedure_id, "version": child_ir.version,
                                  "ir_hash": child_ir.ir_hash})
    elif child_ir.ir_hash != pinned.get("ir_hash"):
        raise StepError(
            f"subflow {child_ir.procedure_id!r} v{child_ir.version} changed since this call started "
            f"(IR {str(pinned.get('ir_hash'))[:12]} → {child_ir.ir_hash[:12]}); the call cannot continue on "
            "another definition", error_type="SubflowChanged", retryable=False,
            details={"procedure_id": child_ir.procedure_id, "version": child_ir.version,
                     "pinned_ir_hash": pinned.get("ir_hash"), "ir_hash": child_ir.ir_hash})
    return child_ir


def _map_outputs(mapping: Mapping[str, Any], child_vars: Mapping[str, Any], outputs: Mapping[str, Any],
                 node: NodeIR) -> dict[str, Any]:
    if not mapping:
        return {f"{node.node_id}_outputs": dict(outputs)}
    scope = {**child_vars, "outputs": outputs}
    result: dict[str, Any] = {}
    for parent_name, source in mapping.items():
        if isinstance(source, str) and _NAME.match(source):
            head, _, rest = source.partition(".")
            if head == "outputs" and rest:
                result[parent_name] = outputs.get(rest)
            else:
                result[parent_name] = outputs.get(source, child_vars.get(source))
        else:
            result[parent_name] = render(source, scope, where=f"node {node.node_id!r} output_mapping")
    return result
