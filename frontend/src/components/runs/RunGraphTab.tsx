"use client";

import { useMemo, useState } from "react";
import { FlowGraph, TierLegend } from "@/components/graph/FlowGraph";
import { InspectorPanel } from "@/components/graph/InspectorPanel";
import { NodeInspector, NodeList } from "@/components/graph/NodeInspector";
import { ErrorBox } from "@/components/ui/ErrorBox";
import { Loading } from "@/components/ui/Page";
import { useProcedure } from "@/hooks/useProcedure";
import { useProcedureGraph } from "@/hooks/useProcedureGraph";
import type { RunRead } from "@/lib/api/models";
import { mergeGraph } from "@/lib/ckp/merge";
import { runOverlay, type RunEvent } from "@/lib/events/timeline";

/** The procedure's graph with this run drawn on it: visited (green ring), current (pulsing), failed (red, with the error). */
export function RunGraphTab({ run, events }: { run: RunRead; events: RunEvent[] }) {
  const procedure = useProcedure(run.procedure_id, run.procedure_version);
  const server = useProcedureGraph(run.procedure_id, run.procedure_version);
  const graph = useMemo(() => mergeGraph(procedure.data?.ckp_json, server.data), [procedure.data, server.data]);
  const overlay = useMemo(() => runOverlay(events, run), [events, run]);
  const firstFailed = [...overlay.failed][0] ?? null;
  // undefined: nothing chosen yet (the first failed node is shown); null: the panel was closed.
  const [selected, setSelected] = useState<string | null | undefined>(undefined);
  const current = selected === undefined ? firstFailed : selected;
  const node = graph.nodes.find((n) => n.id === current) ?? null;
  if (procedure.isPending && server.isPending) return <Loading />;
  if (procedure.isError && server.isError) return <ErrorBox error={procedure.error} title="The procedure version of this run is gone" />;
  return (
    <div className="flex flex-col gap-3">
      <TierLegend />
      <p className="flex flex-wrap gap-4 text-xs" aria-label="Run overlay legend">
        <span>
          <span className="mr-1 inline-block h-3 w-3 rounded-sm ring-2 ring-green-600" aria-hidden="true" />
          visited
        </span>
        <span>
          <span className="mr-1 inline-block h-3 w-3 rounded-sm ring-4 ring-blue-500" aria-hidden="true" />
          current
        </span>
        <span>
          <span className="mr-1 inline-block h-3 w-3 rounded-sm bg-red-200 ring-2 ring-red-600" aria-hidden="true" />
          failed
        </span>
        <span className="opacity-60">faded: not reached</span>
      </p>
      <FlowGraph
        graph={graph}
        overlay={overlay}
        selected={current}
        onSelect={setSelected}
        height="fill"
        label={`Graph of run ${run.run_id}`}
        panel={
          node ? (
            <InspectorPanel onClose={() => setSelected(null)}>
              <NodeInspector
                node={node}
                extra={
                  overlay.errors.get(node.id) ? (
                    <p role="alert" className="mt-2 rounded bg-red-50 p-2 text-sm text-red-900 dark:bg-red-950 dark:text-red-100">
                      {overlay.errors.get(node.id)}
                    </p>
                  ) : null
                }
              />
            </InspectorPanel>
          ) : null
        }
      />
      <NodeList nodes={graph.nodes} selected={current ?? null} onSelect={setSelected} />
    </div>
  );
}
