"""One executor module per CKP node type.

Each is wrapped by :func:`sealed`: whatever a node writes into the run's state — variables,
outputs, errors, loop and join records — holds references, never a secret's value
(runtime/redaction.py), whichever executor produced it.
"""

from __future__ import annotations

from langgraph.errors import GraphBubbleUp

from langorch.ckp.ir import NodeIR
from langorch.runtime.context import RunContext, stand_in
from langorch.runtime.errors import StepError
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
from langorch.runtime.executors.base import Executor, Invocation, NodeResult
from langorch.runtime.steps import FallbackRequested

NONCE_CHANNEL = "secret_nonce"


def sealed(executor: Executor) -> Executor:
    """``executor`` with its state writes sealed and its failures concealed; the first node of
    a run whose state has no reference nonce yet (one started before nonces) writes it."""

    async def run(node: NodeIR, inv: Invocation, ctx: RunContext) -> NodeResult:
        try:
            result = await executor(node, inv, ctx)
        except StepError as exc:
            ctx.conceal(exc)
            raise
        except FallbackRequested as fallback:
            ctx.conceal(fallback.error)
            raise
        except GraphBubbleUp:
            raise
        except Exception as exc:  # a bug or a library error: node_runner fails the node with its text
            text = str(exc)
            clean = ctx.redactor.seal_text(text, ctx.ref_nonce)
            if clean != text:
                raise stand_in(exc, clean) from None
            raise
        result.updates = ctx.seal(result.updates)
        result.state = ctx.seal(result.state)
        if ctx.parent is None and inv.state.get(NONCE_CHANNEL) != ctx.ref_nonce:
            result.state = {**result.state, NONCE_CHANNEL: ctx.ref_nonce}
        return result

    run.__name__ = getattr(executor, "__name__", "execute")
    run.__qualname__ = run.__name__
    return run


EXECUTORS: dict[str, Executor] = {name: sealed(fn) for name, fn in {
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
}.items()}

__all__ = ["EXECUTORS", "NONCE_CHANNEL", "sealed"]
