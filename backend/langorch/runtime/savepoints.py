"""Named checkpoints of a run's variables: ``set_checkpoint`` and ``restore_checkpoint`` steps.

``set_checkpoint`` (``value``: the name, default ``default``) saves a copy of the variables
the step sees under that name in the run's ``checkpoints`` state channel, so it survives
pauses, crashes and resumes. ``restore_checkpoint`` with the same name sets every saved
variable back to its saved value (variables first written after the checkpoint keep
their values: the state cannot forget a variable) and emits ``checkpoint_restored``. A
name no ``set_checkpoint`` of this procedure call saved fails the node with
``CheckpointNotFound``. A subflow's checkpoints belong to that call of the child.

Both actions run in the engine whatever the node's agent (``catalog.ALWAYS_INTERNAL``);
the step only names the checkpoint, and the executor running the step (sequence, terminate)
applies it with :func:`apply_checkpoint_step`, because that is where the variables are.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from typing import Any

from langorch.ckp.ir import NodeIR, StepIR
from langorch.runtime.context import RunContext
from langorch.runtime.errors import StepError

__all__ = ["CHECKPOINT_ACTIONS", "apply_checkpoint_step", "checkpoint_name"]

CHECKPOINT_ACTIONS = frozenset({"set_checkpoint", "restore_checkpoint"})


def checkpoint_name(params: Mapping[str, Any]) -> str:
    """The checkpoint a step names: its rendered ``value`` (or ``target``), else ``default``."""
    name = params.get("value", params.get("target"))
    return str(name).strip() if name not in (None, "") and str(name).strip() else "default"


async def apply_checkpoint_step(step: StepIR, result: Any, node: NodeIR, variables: MutableMapping[str, Any],
                                updates: MutableMapping[str, Any], saved: MutableMapping[str, Any],
                                state: Mapping[str, Any], ctx: RunContext) -> None:
    """Save or restore after a checkpoint step ran (``result`` is ``{"checkpoint": name}``).

    ``saved`` collects this node execution's new checkpoints (for its state update);
    ``state`` is the run state the node started from.
    """
    if step.binding.kind != "internal" or step.action not in CHECKPOINT_ACTIONS or not isinstance(result, Mapping):
        return
    name = str(result.get("checkpoint") or "default")
    if step.action == "set_checkpoint":
        saved[name] = {"vars": dict(variables), "node_id": node.node_id}
        return
    record = saved.get(name) or (state.get("checkpoints") or {}).get(name)
    if not isinstance(record, Mapping):
        known = sorted({*saved, *(state.get("checkpoints") or {})})
        raise StepError(f"node {node.node_id!r} step {step.step_id!r}: no checkpoint named {name!r} was saved in "
                        f"this run (saved: {', '.join(known) or 'none'}); save it first with a set_checkpoint step "
                        f"whose value is {name!r}", error_type="CheckpointNotFound", retryable=False,
                        details={"checkpoint": name, "saved": known})
    restored = dict(record.get("vars") or {})
    variables.update(restored)
    updates.update(restored)
    await ctx.emit("checkpoint_restored", {"label": name, "saved_by": record.get("node_id"),
                                           "variables": sorted(restored)}, node_id=node.node_id,
                   step_id=step.step_id)
