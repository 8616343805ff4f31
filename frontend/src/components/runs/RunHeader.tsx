"use client";

import { Time } from "@/components/ui/Time";
import { useNow } from "@/hooks/useNow";
import { isTerminal, type RunRead } from "@/lib/api/models";
import { durationBetween, formatCost, formatDuration, formatNumber } from "@/lib/format/format";

function Stat({ label, children, testId }: { label: string; children: React.ReactNode; testId?: string }) {
  return (
    <div className="min-w-0">
      <dt className="text-xs text-slate-600 uppercase dark:text-slate-400">{label}</dt>
      <dd className="truncate text-sm font-medium" data-testid={testId}>
        {children}
      </dd>
    </div>
  );
}

export function RunHeader({ run: r }: { run: RunRead }) {
  const now = useNow(!isTerminal(r.status) && r.started_at !== null);
  const error = r.error_message ?? (typeof r.error?.message === "string" ? r.error.message : null);
  return (
    <section aria-label="Run summary" className="rounded-lg border border-slate-200 bg-white p-4 dark:border-slate-700 dark:bg-slate-900">
      <dl className="grid grid-cols-2 gap-4 sm:grid-cols-4 lg:grid-cols-8">
        <Stat label="Duration">{formatDuration(durationBetween(r.started_at ?? r.created_at, r.ended_at, now))}</Stat>
        <Stat label="Trigger">
          {r.trigger_type}
          {r.triggered_by ? ` · ${r.triggered_by}` : ""}
        </Stat>
        <Stat label="Prompt tokens">{formatNumber(r.total_prompt_tokens)}</Stat>
        <Stat label="Completion tokens">{formatNumber(r.total_completion_tokens)}</Stat>
        <Stat label="Est. cost">{formatCost(r.estimated_cost_usd)}</Stat>
        <Stat label="Started">
          <Time iso={r.started_at} />
        </Stat>
        <Stat label="Ended">
          <Time iso={r.ended_at} />
        </Stat>
        <Stat label="Last node" testId="run-last-node">
          {r.last_node_id ?? "—"}
        </Stat>
      </dl>
      {r.status === "failed" && error ? (
        <div role="alert" className="mt-3 rounded-md border border-red-300 bg-red-50 p-3 text-sm text-red-900 dark:border-red-800 dark:bg-red-950 dark:text-red-100" data-testid="run-error">
          <span className="font-semibold">Failed{r.last_node_id ? ` at ${r.last_node_id}` : ""}:</span> {error}
        </div>
      ) : null}
      {r.cancellation_requested && !isTerminal(r.status) ? (
        <p className="mt-3 text-sm text-amber-800 dark:text-amber-300">Cancellation requested; the run stops at its next step boundary.</p>
      ) : null}
    </section>
  );
}
