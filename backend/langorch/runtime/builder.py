"""IR → LangGraph ``StateGraph``: one graph node per CKP node, plus a join node per
parallel node. Nodes route with ``Command(goto=...)``, so the edges are data the
executors return rather than structure fixed here."""

from __future__ import annotations

from typing import Any

from langgraph.graph import START, StateGraph

from langorch.ckp.ir import ProcedureIR
from langorch.runtime.executors import EXECUTORS
from langorch.runtime.executors.parallel import join, join_name
from langorch.runtime.node_runner import make_node
from langorch.runtime.state import RunState

_BUILT: dict[str, StateGraph[Any]] = {}


def build_graph(ir: ProcedureIR) -> StateGraph[Any]:
    """The (uncompiled) graph of a procedure; cached by IR hash."""
    cached = _BUILT.get(ir.ir_hash) if ir.ir_hash else None
    if cached is not None:
        return cached
    graph: StateGraph[Any] = StateGraph(RunState)
    for node in ir.nodes.values():
        graph.add_node(node.node_id, make_node(ir, node, EXECUTORS[node.type]))
        if node.type == "parallel":
            graph.add_node(join_name(node.node_id), make_node(ir, node, join, join=True))
    graph.add_edge(START, ir.start_node)
    if ir.ir_hash:
        if len(_BUILT) > 256:
            _BUILT.clear()
        _BUILT[ir.ir_hash] = graph
    return graph


def compile_graph(ir: ProcedureIR, checkpointer: Any) -> Any:
    """Compile with a checkpointer (None: inherit the parent's, for subflows)."""
    return build_graph(ir).compile(checkpointer=checkpointer, name=ir.procedure_id)
