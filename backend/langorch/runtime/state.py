"""The LangGraph state of a run and its reducers.

Every channel has a reducer, so parallel branches may write any of them in the same
super-step; LangGraph applies writes in task order, which makes merges deterministic.
"""

from __future__ import annotations

from typing import Annotated, Any, TypedDict


def merge_dicts(left: dict[str, Any] | None, right: dict[str, Any] | None) -> dict[str, Any]:
    """Shallow merge: keys of ``right`` win."""
    if not right:
        return left or {}
    if not left:
        return dict(right)
    out = dict(left)
    out.update(right)
    return out


def merge_joins(left: dict[str, Any] | None, right: dict[str, Any] | None) -> dict[str, Any]:
    """Join bookkeeping per parallel node: a new ``epoch`` resets it; ``done`` maps merge."""
    out = dict(left or {})
    for fork, update in (right or {}).items():
        current = out.get(fork)
        if current is None or update.get("epoch", current.get("epoch")) != current.get("epoch"):
            out[fork] = {"epoch": update.get("epoch", 0), "done": dict(update.get("done", {})),
                         "resolved": bool(update.get("resolved", False)),
                         "retried": dict(update.get("retried", {}))}
            continue
        out[fork] = {
            "epoch": current.get("epoch", 0),
            "done": {**current.get("done", {}), **update.get("done", {})},
            "resolved": bool(current.get("resolved")) or bool(update.get("resolved")),
            "retried": {**current.get("retried", {}), **update.get("retried", {})},
        }
    return out


def add_usage(left: dict[str, float] | None, right: dict[str, float] | None) -> dict[str, float]:
    """LLM usage is written as deltas and summed (so branches and loops add up)."""
    out = dict(left or {})
    for key, value in (right or {}).items():
        out[key] = out.get(key, 0) + value
    return out


def last_value(left: Any, right: Any) -> Any:
    return right


class RunState(TypedDict, total=False):
    vars: Annotated[dict[str, Any], merge_dicts]
    usage: Annotated[dict[str, float], add_usage]
    loops: Annotated[dict[str, Any], merge_dicts]
    joins: Annotated[dict[str, Any], merge_joins]
    visits: Annotated[dict[str, int], merge_dicts]
    status: Annotated[str, last_value]
    outputs: Annotated[dict[str, Any], last_value]
    error: Annotated[dict[str, Any] | None, last_value]
    last_node: Annotated[str, last_value]
    recovering: Annotated[bool, last_value]
    checkpoints: Annotated[dict[str, Any], merge_dicts]
    """Named copies of the variables saved by set_checkpoint steps (runtime/savepoints.py)."""
    started_at: Annotated[float, last_value]
    """When the run started (Services.clock), written once at the start."""
    mode: Annotated[str, last_value]
    """The run mode (runtime/modes.py), written once at the start."""
    secret_nonce: Annotated[str, last_value]
    """The nonce of the run's secret references (runtime/redaction.py), written once at the
    start: only a reference carrying it is resolved for an outgoing call. Not a secret value."""
