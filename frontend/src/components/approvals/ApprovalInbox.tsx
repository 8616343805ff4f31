"use client";

import Link from "next/link";
import { useMemo, useState } from "react";
import { ErrorBox } from "@/components/ui/ErrorBox";
import { Card, Empty, Loading, PageHeader } from "@/components/ui/Page";
import { Pagination } from "@/components/ui/Pagination";
import { StatusBadge } from "@/components/ui/StatusBadge";
import { Time } from "@/components/ui/Time";
import { useApprovals } from "@/hooks/useApprovals";
import { useApprovalsLive } from "@/hooks/useApprovalsLive";
import { useNow } from "@/hooks/useNow";
import { useQueryParams } from "@/hooks/useQueryParams";
import type { ApprovalRead } from "@/lib/api/models";
import { isOverdue } from "@/lib/format/approvals";
import { plural, shortId } from "@/lib/format/format";
import { decisionTypeLabel } from "@/lib/format/labels";
import { approvalHref, runHref } from "@/lib/format/links";
import { DecisionForm } from "./DecisionForm";
import { DeadlineBadge } from "./OverdueBadge";

const LIMIT = 25;
const VIEWS = [
  { id: "pending", label: "Pending", status: "pending" },
  { id: "decided", label: "Decided", status: "approved,rejected,timed_out,canceled" },
  { id: "all", label: "All", status: "" },
];

export function ApprovalInbox() {
  const [params, setParams] = useQueryParams();
  // The inbox opens on what needs a decision.
  const view = VIEWS.find((v) => v.id === params.get("view")) ?? VIEWS[0];
  const offset = Number(params.get("offset") ?? "0") || 0;
  const list = useApprovals({ status: view?.status, limit: LIMIT, offset });
  const live = useApprovalsLive();
  const now = useNow(true, 30_000);
  // Decided here, in this view: kept in the list (with the decision) until the view changes,
  // so an item does not vanish under the pointer the moment it is approved.
  const [decidedHere, setDecidedHere] = useState<{ view: string; items: Map<string, ApprovalRead> }>({ view: "", items: new Map() });
  const fresh = list.data?.items;
  const items = useMemo(() => {
    const rows = fresh ?? [];
    if (decidedHere.view !== view?.id) return rows;
    const present = new Set(rows.map((a) => a.approval_id));
    return [...rows.map((a) => decidedHere.items.get(a.approval_id) ?? a), ...[...decidedHere.items.values()].filter((a) => !present.has(a.approval_id))];
  }, [fresh, decidedHere, view?.id]);
  const onDecided = (a: ApprovalRead) =>
    setDecidedHere((prev) => {
      const kept = new Map(prev.view === view?.id ? prev.items : []);
      kept.set(a.approval_id, a);
      return { view: view?.id ?? "", items: kept };
    });
  const overdue = items.filter((a) => isOverdue(a, now)).length;
  return (
    <>
      <PageHeader
        title="Approvals"
        subtitle={
          <span className="flex items-center gap-2" aria-live="polite" data-testid="approvals-live" data-live={live}>
            <span className={`inline-block h-2 w-2 rounded-full ${live ? "animate-pulse bg-green-500" : "bg-amber-500"}`} aria-hidden="true" />
            {live ? "Live: new requests appear here as runs reach an approval." : "Connecting to live updates…"}
            {overdue > 0 ? <span className="font-semibold text-red-700 dark:text-red-400">{plural(overdue, "approval")} overdue</span> : null}
          </span>
        }
      />
      <Card>
        <div className="mb-3 flex gap-1" role="group" aria-label="Show">
          {VIEWS.map((v) => (
            <button
              key={v.id}
              type="button"
              aria-pressed={v.id === view?.id}
              onClick={() => {
                setDecidedHere({ view: "", items: new Map() });
                setParams({ view: v.id, offset: null });
              }}
              className={`rounded-md px-3 py-1.5 text-sm ${v.id === view?.id ? "bg-slate-900 text-white dark:bg-white dark:text-slate-900" : "hover:bg-slate-100 dark:hover:bg-slate-800"}`}
            >
              {v.label}
            </button>
          ))}
        </div>
        {list.isError ? <ErrorBox error={list.error} title="Could not load approvals" /> : null}
        {list.isPending ? <Loading /> : null}
        {list.data && items.length === 0 ? <Empty>Nothing here. Runs that reach a human_approval node appear at once.</Empty> : null}
        <ul className="flex flex-col gap-3" aria-label="Approval requests">
          {items.map((a) => (
            <li
              key={a.approval_id}
              data-testid="approval-item"
              data-run={a.run_id}
              data-status={a.status}
              className={`rounded-lg border p-4 ${isOverdue(a, now) ? "border-red-500 bg-red-50 dark:bg-red-950/40" : "border-slate-200 dark:border-slate-700"}`}
            >
              <div className="flex flex-wrap items-center gap-2">
                <StatusBadge status={a.status} />
                <DeadlineBadge approval={a} now={now} />
                <Link href={approvalHref(a.approval_id)} className="font-semibold text-blue-700 underline underline-offset-2 dark:text-blue-300">
                  {a.prompt || a.node_id}
                </Link>
              </div>
              <p className="mt-1 text-xs text-slate-600 dark:text-slate-400">
                Node <span className="font-mono">{a.node_id}</span> · run{" "}
                <Link href={runHref(a.run_id)} className="font-mono underline underline-offset-2">
                  {shortId(a.run_id)}
                </Link>{" "}
                · {decisionTypeLabel(a.decision_type)}
                {a.approval_level ? ` · ${a.approval_level}` : ""} · requested <Time iso={a.created_at} relative />
                {a.expires_at ? (
                  <>
                    {" "}
                    · expires <Time iso={a.expires_at} relative />
                  </>
                ) : null}
              </p>
              <div className="mt-3">
                {a.status === "pending" && a.decision_type !== "approve_reject" ? (
                  <Link href={approvalHref(a.approval_id)} className="text-sm font-medium text-blue-700 underline dark:text-blue-300">
                    Open to decide{a.decision_type === "provide_input" ? " and provide input" : ""}
                  </Link>
                ) : (
                  <DecisionForm approval={a} compact onDecided={onDecided} />
                )}
              </div>
            </li>
          ))}
        </ul>
        {list.data && list.data.total === 0 && items.length > 0 ? (
          <p className="mt-3 text-sm text-slate-600 dark:text-slate-400">Nothing else is waiting for a decision.</p>
        ) : list.data ? (
          <Pagination offset={offset} limit={LIMIT} total={list.data.total} onChange={(o) => setParams({ offset: String(o) })} />
        ) : null}
      </Card>
    </>
  );
}
