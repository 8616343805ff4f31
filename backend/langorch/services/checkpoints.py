"""LangGraph checkpoints of runs: list and inspect them, fork a failed run's thread for a
retry from the failed node, and prune the threads of finished runs.

A run's thread id is its run id. Values shown through the API pass through the run's
redactor (sensitive variables of the procedure are masked) and show secret references
without the run's nonce (the state never holds a secret's value: runtime/redaction.py).
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Mapping
from typing import Any

from langorch.ckp.ir import ProcedureIR
from langorch.runtime.builder import compile_graph
from langorch.runtime.redaction import Redactor

__all__ = ["delete_thread", "fork_for_retry", "get_checkpoint", "list_checkpoints"]

log = logging.getLogger(__name__)


def _config(thread_id: str, checkpoint_id: str | None = None) -> dict[str, Any]:
    configurable: dict[str, Any] = {"thread_id": thread_id, "checkpoint_ns": ""}
    if checkpoint_id:
        configurable["checkpoint_id"] = checkpoint_id
    return {"configurable": configurable}


def _snapshot_summary(snapshot: Any) -> dict[str, Any]:
    cfg = (snapshot.config or {}).get("configurable", {})
    parent = ((snapshot.parent_config or {}).get("configurable") or {}).get("checkpoint_id")
    metadata = snapshot.metadata or {}
    values = snapshot.values or {}
    return {"checkpoint_id": cfg.get("checkpoint_id"), "parent_checkpoint_id": parent,
            "thread_id": cfg.get("thread_id"), "step": metadata.get("step"), "source": metadata.get("source"),
            "created_at": snapshot.created_at, "next": list(snapshot.next or ()),
            "last_node": values.get("last_node"), "status": values.get("status"),
            "interrupts": [i.id for i in getattr(snapshot, "interrupts", ()) or ()]}


def _tuple_summary(tup: Any) -> dict[str, Any]:
    cfg = tup.config.get("configurable", {})
    parent = ((tup.parent_config or {}).get("configurable") or {}).get("checkpoint_id")
    metadata = tup.metadata or {}
    return {"checkpoint_id": cfg.get("checkpoint_id"), "parent_checkpoint_id": parent,
            "thread_id": cfg.get("thread_id"), "step": metadata.get("step"), "source": metadata.get("source"),
            "created_at": tup.checkpoint.get("ts"), "next": [], "last_node": None, "status": None,
            "interrupts": []}


async def list_checkpoints(checkpointer: Any, thread_id: str, ir: ProcedureIR | None,
                           limit: int = 200) -> list[dict[str, Any]]:
    """Newest first. With the IR, each entry says which nodes run next."""
    if ir is not None:
        graph = compile_graph(ir, checkpointer)
        return [_snapshot_summary(s) async for s in graph.aget_state_history(_config(thread_id), limit=limit)]
    return [_tuple_summary(t) async for t in checkpointer.alist(_config(thread_id), limit=limit)]


async def get_checkpoint(checkpointer: Any, thread_id: str, checkpoint_id: str,
                         ir: ProcedureIR | None) -> dict[str, Any] | None:
    """One checkpoint with its (redacted) state values, or None."""
    config = _config(thread_id, checkpoint_id)
    redactor = Redactor(ir.sensitive_names if ir is not None else ())
    if ir is not None:
        graph = compile_graph(ir, checkpointer)
        if await checkpointer.aget_tuple(config) is None:
            return None
        snapshot = await graph.aget_state(config)
        summary = _snapshot_summary(snapshot)
        tasks = [{"id": t.id, "name": t.name, "error": redactor.redact(repr(t.error)) if t.error else None,
                  "interrupts": [{"id": i.id, "value": redactor.redact(i.value)} for i in t.interrupts]}
                 for t in snapshot.tasks]
        return {**summary, "values": _values(snapshot.values, redactor), "tasks": tasks,
                "metadata": redactor.redact(dict(snapshot.metadata or {}))}
    tup = await checkpointer.aget_tuple(config)
    if tup is None:
        return None
    return {**_tuple_summary(tup), "values": _values(tup.checkpoint.get("channel_values"), redactor),
            "tasks": [], "metadata": redactor.redact(dict(tup.metadata or {}))}


def _values(values: Mapping[str, Any] | None, redactor: Redactor) -> Any:
    """A checkpoint's state as shown: redacted, without the run's reference nonce."""
    return redactor.redact({k: v for k, v in (values or {}).items() if k != "secret_nonce"})


async def fork_for_retry(checkpointer: Any, ir: ProcedureIR, source_thread: str, target_thread: str,
                         failed_node: str | None, changed_inputs: Mapping[str, Any]) -> str | None:
    """Copy the checkpoint taken just before ``failed_node`` ran (the newest one that has
    it next; without a node, the newest one with anything next) into ``target_thread``,
    with ``changed_inputs`` merged into the run variables. Returns the node the retry
    starts at, or None when there is no such checkpoint (the retry starts from scratch).
    """
    graph = compile_graph(ir, checkpointer)
    chosen = None
    async for snapshot in graph.aget_state_history(_config(source_thread)):
        upcoming = tuple(snapshot.next or ())
        if not upcoming:
            continue
        if failed_node is None or failed_node in upcoming:
            chosen = snapshot
            break
    if chosen is None:
        return None
    tup = await checkpointer.aget_tuple(chosen.config)
    if tup is None:
        return None
    checkpoint = copy.deepcopy(tup.checkpoint)
    if changed_inputs:
        values = checkpoint.setdefault("channel_values", {})
        values["vars"] = {**(values.get("vars") or {}), **dict(changed_inputs)}
    metadata = {**dict(tup.metadata or {}), "source": "fork", "forked_from": source_thread}
    await checkpointer.aput(_config(target_thread), checkpoint, metadata, dict(checkpoint.get("channel_versions")
                                                                                or {}))
    return failed_node or chosen.next[0]


async def delete_thread(checkpointer: Any, thread_id: str) -> None:
    """Drop every checkpoint of a run (never raises: pruning is best effort)."""
    try:
        await checkpointer.adelete_thread(thread_id)
    except Exception as exc:  # a missing table or a busy database: try again next sweep
        log.warning("deleting checkpoints of %s failed: %s", thread_id, exc)
