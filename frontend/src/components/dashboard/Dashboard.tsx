"use client";

import Link from "next/link";
import { DeadlineBadge } from "@/components/approvals/OverdueBadge";
import { ErrorBox } from "@/components/ui/ErrorBox";
import { Card, Empty, Loading, PageHeader } from "@/components/ui/Page";
import { StatusBadge } from "@/components/ui/StatusBadge";
import { Time } from "@/components/ui/Time";
import { useApprovals } from "@/hooks/useApprovals";
import { useHealth } from "@/hooks/useHealth";
import { useNow } from "@/hooks/useNow";
import { useQueueStats } from "@/hooks/useQueueStats";
import { useRunMetrics } from "@/hooks/useRunMetrics";
import { useRuns } from "@/hooks/useRuns";
import { RUN_STATUSES } from "@/lib/api/models";
import { isOverdue } from "@/lib/format/approvals";
import { formatCost, formatNumber, plural, shortId } from "@/lib/format/format";
import { approvalHref, runHref } from "@/lib/format/links";

function num(v: unknown): number {
  return typeof v === "number" && Number.isFinite(v) ? v : 0;
}

function seconds(v: unknown): string {
  return typeof v === "number" ? `${v.toFixed(2)} s` : "—";
}

function Metric({ label, value, hint }: { label: string; value: React.ReactNode; hint?: React.ReactNode }) {
  return (
    <div className="rounded-lg border border-slate-200 bg-white p-4 dark:border-slate-700 dark:bg-slate-900">
      <p className="text-xs text-slate-600 uppercase dark:text-slate-400">{label}</p>
      <p className="mt-1 text-2xl font-semibold">{value}</p>
      {hint ? <p className="mt-1 text-xs text-slate-600 dark:text-slate-400">{hint}</p> : null}
    </div>
  );
}

const BAR: Record<string, string> = {
  queued: "bg-slate-400",
  running: "bg-blue-600",
  waiting_approval: "bg-amber-500",
  completed: "bg-green-600",
  failed: "bg-red-600",
  canceled: "bg-slate-600",
};

export function Dashboard() {
  const metrics = useRunMetrics();
  const recent = useRuns({ limit: 8, offset: 0 });
  const pending = useApprovals({ status: "pending", limit: 6, offset: 0 });
  const health = useHealth();
  const queue = useQueueStats();
  const now = useNow(true, 30_000);
  const m = metrics.data;
  const week = m?.this_week ?? {};
  const total = m ? Math.max(1, Object.values(m.by_status).reduce((a, b) => a + b, 0)) : 1;
  const overdue = (pending.data?.items ?? []).filter((a) => isOverdue(a, now)).length;
  return (
    <>
      <PageHeader
        title="Dashboard"
        subtitle={
          health.data ? (
            <span>
              Server {health.data.status} · v{health.data.version} · database {health.data.db}
              {queue.data ? ` · ${plural(queue.data.workers.filter((w) => w.alive).length, "worker")} · ${plural(queue.data.jobs.queued ?? 0, "queued job")}` : ""}
            </span>
          ) : health.isError ? (
            <span className="text-red-700 dark:text-red-400">The server does not answer.</span>
          ) : (
            "Checking the server…"
          )
        }
      />
      {metrics.isError ? <ErrorBox error={metrics.error} title="Could not load run metrics" /> : null}
      <div className="grid gap-4 sm:grid-cols-2 xl:grid-cols-5">
        <Metric label="Active runs" value={m ? formatNumber(m.active_runs) : "…"} hint={m ? `${plural(m.total_runs, "run")} in total` : undefined} />
        <Metric
          label="Pending approvals"
          value={pending.data ? formatNumber(pending.data.total) : "…"}
          hint={overdue > 0 ? <span className="font-semibold text-red-700 dark:text-red-400">{plural(overdue, "approval")} overdue</span> : "none overdue"}
        />
        <Metric label="Failure rate" value={m ? `${(m.failure_rate * 100).toFixed(1)}%` : "…"} hint="failed ÷ finished, all time" />
        <Metric
          label="LLM tokens this week"
          value={m ? formatNumber(num(week.prompt_tokens) + num(week.completion_tokens)) : "…"}
          hint={m ? `${formatNumber(num(week.prompt_tokens))} prompt · ${formatNumber(num(week.completion_tokens))} completion` : undefined}
        />
        <Metric label="LLM cost this week" value={m ? formatCost(num(week.cost_usd)) : "…"} hint={m ? `${plural(num(week.runs), "run")}, ${formatNumber(num(week.failed))} failed` : undefined} />
      </div>
      <div className="mt-4 grid gap-4 xl:grid-cols-3">
        <Card title="Runs by status">
          {m ? (
            <ul className="flex flex-col gap-2">
              {RUN_STATUSES.map((s) => {
                const n = m.by_status[s] ?? 0;
                return (
                  <li key={s}>
                    <Link href={`/runs?status=${s}`} className="flex items-center gap-2 text-sm hover:underline">
                      <span className="w-36">
                        <StatusBadge status={s} />
                      </span>
                      <span className="h-2 flex-1 overflow-hidden rounded bg-slate-100 dark:bg-slate-800" aria-hidden="true">
                        <span className={`block h-2 ${BAR[s] ?? "bg-slate-500"}`} style={{ width: `${String((n / total) * 100)}%` }} />
                      </span>
                      <span className="w-12 text-right tabular-nums">{n}</span>
                    </Link>
                  </li>
                );
              })}
            </ul>
          ) : (
            <Loading />
          )}
          {m && (m.duration_s.p50 !== undefined || m.duration_s.p95 !== undefined) ? (
            <p className="mt-3 text-xs text-slate-600 dark:text-slate-400">
              Completed this week: p50 {seconds(m.duration_s.p50)} · p95 {seconds(m.duration_s.p95)}
            </p>
          ) : null}
        </Card>
        <Card title="Recent runs" actions={<Link href="/runs" className="text-sm text-blue-700 underline underline-offset-2 dark:text-blue-300">All runs</Link>}>
          {recent.isPending ? <Loading /> : null}
          {recent.data && recent.data.items.length === 0 ? <Empty>No runs yet. Open a procedure and press Run.</Empty> : null}
          <ul className="divide-y divide-slate-100 dark:divide-slate-800">
            {(recent.data?.items ?? []).map((r) => (
              <li key={r.run_id} className="flex items-center gap-2 py-1.5 text-sm">
                <Link href={runHref(r.run_id)} className="font-mono text-blue-700 underline underline-offset-2 dark:text-blue-300">
                  {shortId(r.run_id)}
                </Link>
                <span className="min-w-0 flex-1 truncate">{r.procedure_id}</span>
                <StatusBadge status={r.status} />
                <span className="shrink-0 text-right text-xs text-slate-600 dark:text-slate-400">
                  <Time iso={r.created_at} relative />
                </span>
              </li>
            ))}
          </ul>
        </Card>
        <Card title="Waiting for a decision" actions={<Link href="/approvals" className="text-sm text-blue-700 underline underline-offset-2 dark:text-blue-300">Inbox</Link>}>
          {pending.isPending ? <Loading /> : null}
          {pending.data && pending.data.items.length === 0 ? <Empty>No approvals pending.</Empty> : null}
          <ul className="divide-y divide-slate-100 dark:divide-slate-800">
            {(pending.data?.items ?? []).map((a) => (
              <li key={a.approval_id} className="flex items-center gap-2 py-1.5 text-sm">
                <Link href={approvalHref(a.approval_id)} className="min-w-0 flex-1 truncate text-blue-700 underline underline-offset-2 dark:text-blue-300">
                  {a.prompt || a.node_id}
                </Link>
                <DeadlineBadge approval={a} now={now} />
                <span className="shrink-0 text-xs text-slate-600 dark:text-slate-400">
                  <Time iso={a.created_at} relative />
                </span>
              </li>
            ))}
          </ul>
        </Card>
      </div>
    </>
  );
}
