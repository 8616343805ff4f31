"""One executor module per CKP node type."""

from __future__ import annotations

from langorch.runtime.executors import (
    human_approval,
    llm_action,
    logic,
    loop,
    parallel,
    processing,
    sequence,
    subflow,
    terminate,
    transform,
    verification,
)
from langorch.runtime.executors.base import Executor

EXECUTORS: dict[str, Executor] = {
    "sequence": sequence.execute,
    "logic": logic.execute,
    "loop": loop.execute,
    "parallel": parallel.execute,
    "processing": processing.execute,
    "verification": verification.execute,
    "llm_action": llm_action.execute,
    "human_approval": human_approval.execute,
    "transform": transform.execute,
    "subflow": subflow.execute,
    "terminate": terminate.execute,
}

__all__ = ["EXECUTORS"]
