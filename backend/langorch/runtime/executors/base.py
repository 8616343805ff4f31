"""What an executor receives and returns.

An executor is ``async def execute(node, inv, ctx) -> NodeResult``: it reads the
run's variables from ``inv``, does the node's work, and says which variables change
and where the run goes next. Routing out of loop bodies and parallel branches and
failure handling are done once, by :mod:`langorch.runtime.node_runner`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from langorch.ckp.ir import NodeIR
from langorch.runtime.context import RunContext

FOLLOW_NEXT = "__follow_next__"
"""``NodeResult.goto`` value meaning: continue with the node's ``next_node``."""


@dataclass
class Invocation:
    """One execution of a node: the state it sees and what it accumulates."""

    state: Mapping[str, Any]
    visit: int
    usage: dict[str, float] = field(default_factory=dict)

    @property
    def variables(self) -> dict[str, Any]:
        value: dict[str, Any] = self.state.get("vars") or {}
        return value


@dataclass
class NodeResult:
    updates: dict[str, Any] = field(default_factory=dict)
    """Variables to set."""
    goto: str | list[str] | None = FOLLOW_NEXT
    """A node id, several (fan-out), None (stop this path), or FOLLOW_NEXT."""
    state: dict[str, Any] = field(default_factory=dict)
    """Writes to other state channels (loops, joins, status, outputs, error)."""
    ends_run: bool = False
    """Terminate: the run is over after this node."""


class Executor(Protocol):
    async def __call__(self, node: NodeIR, inv: Invocation, ctx: RunContext) -> NodeResult: ...
