"use client";

import { useMemo, useState } from "react";
import { FlowGraph, TierLegend } from "@/components/graph/FlowGraph";
import { NodeInspector, NodeList } from "@/components/graph/NodeInspector";
import { Card } from "@/components/ui/Page";
import { useProcedureGraph } from "@/hooks/useProcedureGraph";
import type { ProcedureDetail } from "@/lib/api/models";
import { mergeGraph } from "@/lib/ckp/merge";

export function ProcedureGraphTab({ procedure }: { procedure: ProcedureDetail }) {
  const server = useProcedureGraph(procedure.procedure_id, procedure.version);
  const graph = useMemo(() => mergeGraph(procedure.ckp_json, server.data), [procedure.ckp_json, server.data]);
  const [selected, setSelected] = useState<string | null>(null);
  const node = graph.nodes.find((n) => n.id === selected) ?? null;
  return (
    <div className="grid gap-4 xl:grid-cols-[1fr_22rem]">
      <div className="flex flex-col gap-3">
        <TierLegend />
        <FlowGraph graph={graph} selected={selected} onSelect={setSelected} label={`Graph of ${procedure.procedure_id}`} />
        <NodeList nodes={graph.nodes} selected={selected} onSelect={setSelected} />
      </div>
      <Card title="Node">
        <NodeInspector node={node} />
      </Card>
    </div>
  );
}
