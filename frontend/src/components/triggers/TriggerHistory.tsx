"use client";

import { ErrorBox } from "@/components/ui/ErrorBox";
import { Empty, Loading } from "@/components/ui/Page";
import { StatusBadge } from "@/components/ui/StatusBadge";
import { Time } from "@/components/ui/Time";
import { useTriggerHistory } from "@/hooks/useTriggerHistory";
import { RunLink } from "./TriggerParts";

const TONE: Record<string, string> = {
  queued: "completed",
  released: "completed",
  deduplicated: "info",
  waiting: "pending",
  skipped_overlap: "warning",
  refused_concurrency: "warning",
  missed: "warning",
  failed: "failed",
  canceled: "canceled",
};

/** A trigger's fires, newest first: when, for which instant, the outcome and its run. */
export function TriggerHistory({ triggerId }: { triggerId: string }) {
  const history = useTriggerHistory(triggerId);
  if (history.isPending) return <Loading />;
  if (history.isError) return <ErrorBox error={history.error} title="Could not load the fire history" />;
  const { items, total } = history.data;
  if (items.length === 0) return <Empty>Not fired yet.</Empty>;
  return (
    <div className="overflow-x-auto">
      <table className="w-full text-left text-sm" data-testid="trigger-history">
        <caption className="sr-only">Fire history ({total} fires)</caption>
        <thead className="border-b border-slate-200 text-xs text-slate-600 uppercase dark:border-slate-700 dark:text-slate-400">
          <tr>
            <th scope="col" className="py-2 pr-3">Fired</th>
            <th scope="col" className="py-2 pr-3">Scheduled for</th>
            <th scope="col" className="py-2 pr-3">Outcome</th>
            <th scope="col" className="py-2 pr-3">Run</th>
            <th scope="col" className="py-2">Detail</th>
          </tr>
        </thead>
        <tbody className="divide-y divide-slate-100 dark:divide-slate-800">
          {items.map((f) => (
            <tr key={f.id} data-testid="history-row" data-outcome={f.outcome} className="align-top">
              <td className="py-1.5 pr-3">
                <Time iso={f.fired_at} />
              </td>
              <td className="py-1.5 pr-3">{f.scheduled_for ? <Time iso={f.scheduled_for} /> : "—"}</td>
              <td className="py-1.5 pr-3">
                <StatusBadge status={TONE[f.outcome] ?? f.outcome} label={f.outcome.replace(/_/g, " ")} />
              </td>
              <td className="py-1.5 pr-3">{f.run_id ? <RunLink runId={f.run_id} testId="history-run-link" /> : "—"}</td>
              <td className="py-1.5 text-xs break-words">
                {f.detail ?? ""}
                {f.payload_hash ? <span className="block font-mono text-slate-600 dark:text-slate-400" title={`payload SHA-256 ${f.payload_hash}`}>payload {f.payload_hash.slice(0, 12)}</span> : null}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {total > items.length ? <p className="mt-2 text-xs text-slate-600 dark:text-slate-400">The latest {items.length} of {total} fires.</p> : null}
    </div>
  );
}
