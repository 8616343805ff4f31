"use client";

import Link from "next/link";
import { useState } from "react";
import { Button } from "@/components/ui/Button";
import { ConfirmDialog } from "@/components/ui/ConfirmDialog";
import { ErrorBox } from "@/components/ui/ErrorBox";
import { SelectField, TextField } from "@/components/ui/Field";
import { Card, Empty, Loading, PageHeader } from "@/components/ui/Page";
import { Pagination } from "@/components/ui/Pagination";
import { StatusBadge } from "@/components/ui/StatusBadge";
import { Time } from "@/components/ui/Time";
import { useCan } from "@/hooks/useCan";
import { useCancelRun } from "@/hooks/useCancelRun";
import { useCleanupRuns } from "@/hooks/useCleanupRuns";
import { useDebouncedValue } from "@/hooks/useDebouncedValue";
import { useDeleteRun } from "@/hooks/useDeleteRun";
import { useQueryParams } from "@/hooks/useQueryParams";
import { useRuns } from "@/hooks/useRuns";
import { useToast } from "@/hooks/useToast";
import { errorMessage } from "@/lib/api/errors";
import { isTerminal, RUN_STATUSES, type RunRead } from "@/lib/api/models";
import { durationBetween, formatCost, formatDuration, fromLocalInput, plural, shortId, toLocalInput } from "@/lib/format/format";
import { RUN_MODE_LABELS } from "@/lib/format/labels";
import { procedureHref, runHref } from "@/lib/format/links";
import { failingNode } from "@/lib/events/timeline";

const LIMIT = 25;

const PRESETS: { id: string; label: string; hours: number | null }[] = [
  { id: "1h", label: "Last hour", hours: 1 },
  { id: "24h", label: "Last 24 hours", hours: 24 },
  { id: "7d", label: "Last 7 days", hours: 24 * 7 },
  { id: "30d", label: "Last 30 days", hours: 24 * 30 },
  { id: "all", label: "All time", hours: null },
];

const STATUS_PRESETS = [
  { value: "", label: "Any status" },
  { value: "queued,running,waiting_approval", label: "Active" },
  ...RUN_STATUSES.map((s) => ({ value: s, label: s.replace(/_/g, " ") })),
];

function hoursAgo(hours: number): string {
  return new Date(Date.now() - hours * 3600_000).toISOString();
}

type Bulk = "cancel" | "delete" | "cleanup" | null;

export function RunListView() {
  const toast = useToast();
  const [params, setParams] = useQueryParams();
  const status = params.get("status") ?? "";
  const procedure = params.get("procedure") ?? "";
  const after = params.get("after");
  const before = params.get("before");
  const offset = Number(params.get("offset") ?? "0") || 0;
  const [search, setSearch] = useState(params.get("search") ?? "");
  const debouncedSearch = useDebouncedValue(search, 300);
  const [procedureText, setProcedureText] = useState(procedure);
  const debouncedProcedure = useDebouncedValue(procedureText, 300);
  const runs = useRuns({
    status,
    procedure_id: debouncedProcedure,
    created_after: after,
    created_before: before,
    search: debouncedSearch,
    limit: LIMIT,
    offset,
  });
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [bulk, setBulk] = useState<Bulk>(null);
  const [busy, setBusy] = useState(false);
  const cancel = useCancelRun();
  const remove = useDeleteRun();
  const cleanup = useCleanupRuns();

  const perms = useCan();
  // Bulk cancel and delete are the operator's (per run's project); the history clean-up the admin's.
  const mayOperate = perms.canAnywhere("operator");
  const mayCleanup = perms.can("admin");
  const items = runs.data?.items ?? [];
  const chosen = items.filter((r) => selected.has(r.run_id) && perms.can("operator", r.project_id ?? null));
  const cancellable = chosen.filter((r) => !isTerminal(r.status));
  const deletable = chosen.filter((r) => isTerminal(r.status));
  const allChecked = items.length > 0 && items.every((r) => selected.has(r.run_id));

  const toggle = (id: string) =>
    setSelected((s) => {
      const next = new Set(s);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });

  const applyPreset = (hours: number | null) => {
    setParams({ after: hours === null ? null : hoursAgo(hours), before: null, offset: null });
  };

  const runBulk = async (rows: RunRead[], action: (id: string) => Promise<unknown>, verb: string) => {
    setBusy(true);
    const results = await Promise.allSettled(rows.map((r) => action(r.run_id)));
    setBusy(false);
    setBulk(null);
    setSelected(new Set());
    const failed = results.filter((x): x is PromiseRejectedResult => x.status === "rejected");
    if (failed.length === 0) toast.show("success", `${verb} ${plural(rows.length, "run")}`);
    else {
      const first = failed[0];
      toast.show("error", `${String(failed.length)} of ${String(rows.length)} could not be ${verb.toLowerCase()}: ${first ? errorMessage(first.reason) : ""}`);
    }
  };

  return (
    <>
      <PageHeader
        title="Runs"
        subtitle="Every run, newest first. Select runs to cancel or delete them together."
        actions={
          mayCleanup ? (
            <Button onClick={() => setBulk("cleanup")} title="Delete finished runs older than the date range start">
              Clean up history…
            </Button>
          ) : null
        }
      />
      <Card>
        <form className="grid gap-3 md:grid-cols-3 xl:grid-cols-6" role="search" aria-label="Filter runs" onSubmit={(e) => e.preventDefault()}>
          <SelectField id="run-status" label="Status" value={status} onChange={(e) => setParams({ status: e.target.value, offset: null })}>
            {STATUS_PRESETS.map((s) => (
              <option key={s.value} value={s.value}>
                {s.label}
              </option>
            ))}
          </SelectField>
          <TextField
            id="run-procedure"
            label="Procedure id"
            value={procedureText}
            onChange={(e) => {
              setProcedureText(e.target.value);
              setParams({ procedure: e.target.value, offset: null });
            }}
          />
          <TextField
            id="run-search"
            label="Search"
            value={search}
            placeholder="run id, error…"
            onChange={(e) => {
              setSearch(e.target.value);
              setParams({ search: e.target.value, offset: null });
            }}
          />
          <TextField id="run-after" label="Created after" type="datetime-local" value={toLocalInput(after)} onChange={(e) => setParams({ after: fromLocalInput(e.target.value), offset: null })} />
          <TextField id="run-before" label="Created before" type="datetime-local" value={toLocalInput(before)} onChange={(e) => setParams({ before: fromLocalInput(e.target.value), offset: null })} />
          <fieldset>
            <legend className="mb-1 block text-sm font-medium">Quick range</legend>
            <div className="flex flex-wrap gap-1">
              {PRESETS.map((p) => (
                <Button key={p.id} size="sm" onClick={() => applyPreset(p.hours)}>
                  {p.label}
                </Button>
              ))}
            </div>
          </fieldset>
        </form>
        {mayOperate ? (
        <div className="my-3 flex flex-wrap items-center gap-2" role="toolbar" aria-label="Bulk actions">
          <span className="text-sm text-slate-600 dark:text-slate-400" aria-live="polite">
            {selected.size} selected
          </span>
          <Button size="sm" variant="danger" disabled={cancellable.length === 0} onClick={() => setBulk("cancel")}>
            Cancel selected ({cancellable.length})
          </Button>
          <Button size="sm" disabled={deletable.length === 0} onClick={() => setBulk("delete")}>
            Delete selected ({deletable.length})
          </Button>
        </div>
        ) : null}
        {runs.isError ? <ErrorBox error={runs.error} title="Could not load runs" /> : null}
        {runs.isPending ? <Loading /> : null}
        {runs.data && items.length === 0 ? <Empty>No runs match these filters.</Empty> : null}
        {items.length > 0 ? (
          <div className="overflow-x-auto">
            <table className="w-full text-left text-sm">
              <caption className="sr-only">Runs</caption>
              <thead className="border-b border-slate-200 text-xs text-slate-600 uppercase dark:border-slate-700 dark:text-slate-400">
                <tr>
                  {mayOperate ? (
                    <th scope="col" className="py-2 pr-2">
                      <input
                        type="checkbox"
                        aria-label="Select all runs on this page"
                        checked={allChecked}
                        onChange={() => setSelected(allChecked ? new Set() : new Set(items.map((r) => r.run_id)))}
                      />
                    </th>
                  ) : null}
                  <th scope="col" className="py-2 pr-3">Run</th>
                  <th scope="col" className="py-2 pr-3">Procedure</th>
                  <th scope="col" className="py-2 pr-3">Status</th>
                  <th scope="col" className="py-2 pr-3">Trigger</th>
                  <th scope="col" className="py-2 pr-3">Created</th>
                  <th scope="col" className="py-2 pr-3">Duration</th>
                  <th scope="col" className="py-2 pr-3">Cost</th>
                  <th scope="col" className="py-2">Last node / error</th>
                </tr>
              </thead>
              <tbody className="divide-y divide-slate-100 dark:divide-slate-800">
                {items.map((r) => (
                  <tr key={r.run_id} data-testid="run-row" data-run={r.run_id}>
                    {mayOperate ? (
                      <td className="py-2 pr-2">
                        <input type="checkbox" aria-label={`Select run ${shortId(r.run_id)}`} checked={selected.has(r.run_id)} onChange={() => toggle(r.run_id)} />
                      </td>
                    ) : null}
                    <td className="py-2 pr-3">
                      <Link href={runHref(r.run_id)} className="font-mono text-blue-700 underline underline-offset-2 dark:text-blue-300">
                        {shortId(r.run_id)}
                      </Link>
                    </td>
                    <td className="py-2 pr-3">
                      <Link href={procedureHref(r.procedure_id, r.procedure_version)} className="underline underline-offset-2">
                        {r.procedure_id}
                      </Link>{" "}
                      <span className="font-mono text-xs text-slate-600 dark:text-slate-400">v{r.procedure_version}</span>
                    </td>
                    <td className="py-2 pr-3">
                      <span className="flex flex-wrap items-center gap-1">
                        <StatusBadge status={r.status} />
                        {r.mode !== "production" ? (
                          <span data-testid="run-row-mode" data-mode={r.mode} title={r.mode === "test" ? "Test mode: no agent or LLM reached" : "Dry run: side effects skipped"}>
                            <StatusBadge status={r.mode === "test" ? "test" : "dry_run"} label={RUN_MODE_LABELS[r.mode]} />
                          </span>
                        ) : null}
                      </span>
                    </td>
                    <td className="py-2 pr-3">{r.trigger_type}</td>
                    <td className="py-2 pr-3">
                      <Time iso={r.created_at} relative />
                    </td>
                    <td className="py-2 pr-3">{formatDuration(durationBetween(r.started_at, r.ended_at))}</td>
                    <td className="py-2 pr-3">{formatCost(r.estimated_cost_usd)}</td>
                    <td className="max-w-xs truncate py-2" title={r.error_message ?? undefined}>
                      {r.status === "failed" && r.error_message ? (
                        <span className="text-red-700 dark:text-red-400">
                          {failingNode(r) ? <span className="font-mono">{failingNode(r)}: </span> : null}
                          {r.error_message}
                        </span>
                      ) : (
                        (r.last_node_id ?? "—")
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ) : null}
        {runs.data ? <Pagination offset={offset} limit={LIMIT} total={runs.data.total} onChange={(o) => setParams({ offset: String(o) })} /> : null}
      </Card>
      <ConfirmDialog
        open={bulk === "cancel"}
        title={`Cancel ${plural(cancellable.length, "run")}?`}
        message="Each stops at its next step boundary and ends as canceled."
        confirmLabel="Cancel runs"
        busy={busy}
        onCancel={() => setBulk(null)}
        onConfirm={() => void runBulk(cancellable, (id) => cancel.mutateAsync(id), "Canceled")}
      />
      <ConfirmDialog
        open={bulk === "delete"}
        title={`Delete ${plural(deletable.length, "finished run")}?`}
        message="Their events, approvals and checkpoints are removed. This cannot be undone."
        confirmLabel="Delete runs"
        busy={busy}
        onCancel={() => setBulk(null)}
        onConfirm={() => void runBulk(deletable, (id) => remove.mutateAsync(id), "Deleted")}
      />
      <ConfirmDialog
        open={bulk === "cleanup"}
        title="Clean up run history?"
        message={`Finished runs${after ? ` created before ${new Date(after).toLocaleString()}` : " of every date"}${status && status.split(",").every((s) => isTerminal(s)) ? ` with status ${status}` : ""} are deleted with their events and checkpoints.`}
        confirmLabel="Delete history"
        busy={cleanup.isPending}
        onCancel={() => setBulk(null)}
        onConfirm={() =>
          cleanup.mutate(
            { before: after, status: status && status.split(",").every((s) => isTerminal(s)) ? status : null },
            {
              onSuccess: (res) => toast.show("success", `Deleted ${plural(res.deleted, "finished run")}`),
              onError: (e) => toast.show("error", errorMessage(e)),
              onSettled: () => setBulk(null),
            },
          )
        }
      />
    </>
  );
}
