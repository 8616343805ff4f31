"use client";

import { ErrorBox } from "@/components/ui/ErrorBox";
import { JsonView } from "@/components/ui/JsonView";
import { Card, Loading } from "@/components/ui/Page";
import { Time } from "@/components/ui/Time";
import { useRunCheckpoints } from "@/hooks/useRunCheckpoints";
import { useRunDiagnostics } from "@/hooks/useRunDiagnostics";
import { isTerminal } from "@/lib/api/models";
import { eventLabel } from "@/lib/format/labels";

function Section({ title, rows }: { title: string; rows: Record<string, unknown>[] }) {
  return (
    <Card title={`${title} (${String(rows.length)})`}>
      {rows.length === 0 ? <p className="text-sm text-slate-600 dark:text-slate-400">None.</p> : <JsonView value={rows} className="max-h-72" />}
    </Card>
  );
}

export function RunDiagnosticsTab({ runId }: { runId: string }) {
  const d = useRunDiagnostics(runId);
  const checkpoints = useRunCheckpoints(runId);
  if (d.isPending) return <Loading />;
  if (d.isError) return <ErrorBox error={d.error} />;
  const x = d.data;
  return (
    <div className="grid gap-4 lg:grid-cols-2">
      <Card title="Summary">
        <dl className="grid grid-cols-[auto_1fr] gap-x-4 gap-y-1 text-sm">
          <dt className="text-slate-600 dark:text-slate-400">Status</dt>
          <dd>{x.status}</dd>
          <dt className="text-slate-600 dark:text-slate-400">Failed at</dt>
          <dd data-testid="diag-failed-node" className="font-mono">
            {x.failed_node_id ?? "—"}
          </dd>
          <dt className="text-slate-600 dark:text-slate-400">{x.status === "waiting_approval" ? "Waiting at" : isTerminal(x.status) ? "Ended at" : "Last node"}</dt>
          <dd data-testid="diag-last-node" className="font-mono">
            {x.last_node_id ?? "—"}
            {x.failed_node_id && x.last_node_id && x.last_node_id !== x.failed_node_id ? (
              <span className="ml-2 font-sans text-xs text-slate-600 dark:text-slate-400">(the failure was routed here)</span>
            ) : null}
          </dd>
          <dt className="text-slate-600 dark:text-slate-400">Step retries</dt>
          <dd>{x.retries}</dd>
          <dt className="text-slate-600 dark:text-slate-400">Events</dt>
          <dd>{x.event_count}</dd>
          <dt className="text-slate-600 dark:text-slate-400">Error</dt>
          <dd className="break-words">{x.error_message ?? "—"}</dd>
        </dl>
        {x.error ? <JsonView value={x.error} className="mt-3" /> : null}
      </Card>
      <Card title="Events by type">
        <ul className="grid grid-cols-2 gap-x-4 text-sm">
          {Object.entries(x.event_counts).map(([type, n]) => (
            <li key={type} className="flex justify-between gap-2">
              <span className="text-xs" title={type}>
                {eventLabel(type)}
              </span>
              <span>{n}</span>
            </li>
          ))}
        </ul>
      </Card>
      <Section title="Queue jobs" rows={x.jobs} />
      <Section title="Pending approvals" rows={x.pending_approvals} />
      <Section title="Active leases" rows={x.active_leases} />
      <Section title="Idempotency records" rows={x.step_idempotency} />
      <Card title="Checkpoints" className="lg:col-span-2">
        {checkpoints.isPending ? <Loading /> : null}
        {checkpoints.isError ? <ErrorBox error={checkpoints.error} /> : null}
        {checkpoints.data ? (
          checkpoints.data.length === 0 ? (
            <p className="text-sm text-slate-600 dark:text-slate-400">No checkpoints kept for this run.</p>
          ) : (
            <table className="w-full text-left text-sm">
              <caption className="sr-only">Checkpoints</caption>
              <thead className="text-xs text-slate-600 uppercase dark:text-slate-400">
                <tr>
                  <th scope="col" className="pr-3">Step</th>
                  <th scope="col" className="pr-3">Source</th>
                  <th scope="col" className="pr-3">Last node</th>
                  <th scope="col" className="pr-3">Next</th>
                  <th scope="col">Created</th>
                </tr>
              </thead>
              <tbody>
                {checkpoints.data.map((c) => (
                  <tr key={c.checkpoint_id ?? String(c.step)}>
                    <td className="pr-3">{c.step ?? "—"}</td>
                    <td className="pr-3">{c.source ?? "—"}</td>
                    <td className="pr-3">{c.last_node ?? "—"}</td>
                    <td className="pr-3">{(c.next ?? []).join(", ") || "—"}</td>
                    <td>
                      <Time iso={c.created_at} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )
        ) : null}
      </Card>
    </div>
  );
}
