"use client";

import { useMemo, useState } from "react";
import { FlowGraph, TierLegend } from "@/components/graph/FlowGraph";
import { NodeInspector, NodeList } from "@/components/graph/NodeInspector";
import { InspectorPanel } from "@/components/graph/InspectorPanel";
import { useProcedureGraph } from "@/hooks/useProcedureGraph";
import type { ProcedureDetail } from "@/lib/api/models";
import { mergeGraph } from "@/lib/ckp/merge";

/**
 * The procedure's graph, as large as the window allows (the pane fills the height below
 * the header, the graph is laid out to its shape); a selected node's configuration
 * opens over the graph's top right corner.
 */
export function ProcedureGraphTab({ procedure }: { procedure: ProcedureDetail }) {
  const server = useProcedureGraph(procedure.procedure_id, procedure.version);
  const graph = useMemo(() => mergeGraph(procedure.ckp_json, server.data), [procedure.ckp_json, server.data]);
  const [selected, setSelected] = useState<string | null>(null);
  const node = graph.nodes.find((n) => n.id === selected) ?? null;
  return (
    <div className="flex flex-col gap-3">
      <TierLegend />
      <FlowGraph
        graph={graph}
        selected={selected}
        onSelect={setSelected}
        height="fill"
        label={`Graph of ${procedure.procedure_id}`}
        panel={
          node ? (
            <InspectorPanel onClose={() => setSelected(null)}>
              <NodeInspector node={node} />
            </InspectorPanel>
          ) : null
        }
      />
      <NodeList nodes={graph.nodes} selected={selected} onSelect={setSelected} />
    </div>
  );
}
