"""parallel: fan out to every branch in one super-step; the join is a graph node of its
own (``__join__<id>``) that proceeds once all branches (or the first, for ``any``) end."""

from __future__ import annotations

from langorch.ckp.ir import NodeIR, ParallelPayload
from langorch.runtime.context import RunContext
from langorch.runtime.errors import StepError
from langorch.runtime.executors.base import FOLLOW_NEXT, Invocation, NodeResult

JOIN_PREFIX = "__join__"


def join_name(fork_id: str) -> str:
    return f"{JOIN_PREFIX}{fork_id}"


async def execute(node: NodeIR, inv: Invocation, ctx: RunContext) -> NodeResult:
    payload = node.payload
    assert isinstance(payload, ParallelPayload)
    previous = (inv.state.get("joins") or {}).get(node.node_id, {})
    epoch = int(previous.get("epoch", 0)) + 1
    starts = []
    done = {}
    for branch in payload.branches:
        if branch.start_node == node.next_node:
            done[branch.branch_id] = "completed"
            continue
        starts.append(branch.start_node)
        await ctx.emit("branch_started", {"branch_id": branch.branch_id, "start_node": branch.start_node},
                       node_id=node.node_id)
    joins = {node.node_id: {"epoch": epoch, "done": done, "resolved": False}}
    if not starts:
        return NodeResult(goto=FOLLOW_NEXT, state={"joins": joins})
    return NodeResult(goto=starts, state={"joins": joins})


async def join(node: NodeIR, inv: Invocation, ctx: RunContext) -> NodeResult:
    """Runs each time a branch ends; proceeds once the wait strategy is satisfied."""
    payload = node.payload
    assert isinstance(payload, ParallelPayload)
    record = (inv.state.get("joins") or {}).get(node.node_id, {})
    if record.get("resolved"):
        return NodeResult(goto=None)
    done: dict[str, str] = record.get("done", {})
    total = len(payload.branches)
    failed = sorted(b for b, status in done.items() if status != "completed")
    succeeded = [b for b, status in done.items() if status == "completed"]
    ready = len(done) >= total or (payload.wait_strategy == "any" and bool(succeeded))
    if not ready:
        return NodeResult(goto=None)
    resolved = {node.node_id: {"epoch": record.get("epoch", 0), "done": {}, "resolved": True}}
    await ctx.emit("parallel_joined", {"completed": sorted(succeeded), "failed": failed,
                                       "wait_strategy": payload.wait_strategy}, node_id=node.node_id)
    if failed and (payload.branch_failure == "stop" or not succeeded):
        raise StepError(f"parallel branch(es) {', '.join(failed)} failed", error_type="BranchFailed",
                        retryable=False, details={"failed": failed})
    return NodeResult(goto=FOLLOW_NEXT, state={"joins": resolved},
                      updates={f"{node.node_id}_branches": {"completed": sorted(succeeded), "failed": failed}})
