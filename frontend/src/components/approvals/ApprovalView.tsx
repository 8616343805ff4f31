"use client";

import Link from "next/link";
import { useMemo } from "react";
import { RunTimeline } from "@/components/runs/RunTimeline";
import { ErrorBox } from "@/components/ui/ErrorBox";
import { JsonView } from "@/components/ui/JsonView";
import { Card, Loading, PageHeader } from "@/components/ui/Page";
import { StatusBadge } from "@/components/ui/StatusBadge";
import { Time } from "@/components/ui/Time";
import { useApproval } from "@/hooks/useApproval";
import { useNow } from "@/hooks/useNow";
import { useProcedure } from "@/hooks/useProcedure";
import { useQueryParams } from "@/hooks/useQueryParams";
import { useRun } from "@/hooks/useRun";
import { useRunEvents } from "@/hooks/useRunEvents";
import { ckpNodes } from "@/lib/ckp/graph";
import { shortId } from "@/lib/format/format";
import { decisionTypeLabel } from "@/lib/format/labels";
import { procedureHref, runHref } from "@/lib/format/links";
import { DecisionForm } from "./DecisionForm";
import { DeadlineBadge } from "./OverdueBadge";

/** A prompt as a page title: its first line, cut at a word near 140 characters (the full prompt is shown below). */
function headline(prompt: string): string | null {
  const line = prompt.trim().split("\n")[0]?.trim() ?? "";
  if (line === "") return null;
  if (line.length <= 140) return line;
  const cut = line.slice(0, 140);
  return `${cut.slice(0, Math.max(cut.lastIndexOf(" "), 100))}…`;
}

export function ApprovalView() {
  const [params] = useQueryParams();
  const id = params.get("id") ?? "";
  const approval = useApproval(id);
  const runId = approval.data?.run_id ?? "";
  const run = useRun(runId);
  const { events, state } = useRunEvents(runId);
  const procedure = useProcedure(run.data?.procedure_id ?? "", run.data?.procedure_version ?? null);
  const nodeId = approval.data?.node_id ?? "";
  // The gate's own description names what is being decided; the prompt when it has none.
  const description = useMemo(() => {
    const node = ckpNodes(procedure.data?.ckp_json).nodes.find(([id]) => id === nodeId)?.[1];
    return typeof node?.description === "string" && node.description.trim() !== "" ? node.description.trim() : null;
  }, [procedure.data, nodeId]);
  const now = useNow(true, 30_000);
  if (!id) return <ErrorBox error={new Error("No approval id in the address.")} />;
  if (approval.isPending) return <Loading />;
  if (approval.isError) return <ErrorBox error={approval.error} title="Could not load the approval" />;
  const a = approval.data;
  return (
    <>
      <nav aria-label="Breadcrumb" className="mb-2 text-sm">
        <Link href="/approvals" className="text-blue-700 underline underline-offset-2 dark:text-blue-300">
          Approvals
        </Link>{" "}
        / {a.node_id}
      </nav>
      <PageHeader
        title={
          <span className="flex flex-wrap items-center gap-3">
            <span data-testid="approval-title">{description ?? headline(a.prompt) ?? a.node_id}</span> <StatusBadge status={a.status} /> <DeadlineBadge approval={a} now={now} />
          </span>
        }
        subtitle={
          <>
            <span className="block" data-testid="approval-node">
              Node <code className="font-mono">{a.node_id}</code>
            </span>
            Run{" "}
            <Link href={runHref(a.run_id)} className="font-mono text-blue-700 underline underline-offset-2 dark:text-blue-300">
              {shortId(a.run_id)}
            </Link>
            {run.data ? (
              <>
                {" "}
                of{" "}
                <Link href={procedureHref(run.data.procedure_id, run.data.procedure_version)} className="text-blue-700 underline underline-offset-2 dark:text-blue-300">
                  {run.data.procedure_id} v{run.data.procedure_version}
                </Link>
              </>
            ) : null}
            {" · requested "}
            <Time iso={a.created_at} />
            {a.expires_at ? (
              <>
                {" · expires "}
                <Time iso={a.expires_at} />
              </>
            ) : null}
          </>
        }
      />
      <div className="grid gap-4 lg:grid-cols-2">
        <Card title="Request">
          <p className="text-lg whitespace-pre-wrap" data-testid="approval-prompt">
            {a.prompt}
          </p>
          <p className="mt-1 text-xs text-slate-600 dark:text-slate-400">
            {decisionTypeLabel(a.decision_type)}
            {a.approval_level ? ` · level ${a.approval_level}` : ""}
            {a.options && a.options.length > 0 ? ` · options: ${a.options.map(String).join(", ")}` : ""}
          </p>
          <h3 className="mt-4 mb-1 text-sm font-semibold">Context</h3>
          {a.context_data && Object.keys(a.context_data).length > 0 ? <JsonView value={a.context_data} /> : <p className="text-sm text-slate-600 dark:text-slate-400">No context data.</p>}
          {a.payload ? (
            <>
              <h3 className="mt-4 mb-1 text-sm font-semibold">Input given</h3>
              <JsonView value={a.payload} />
            </>
          ) : null}
        </Card>
        <Card title="Decision">
          <DecisionForm approval={a} />
        </Card>
        <Card title="Run timeline so far" className="lg:col-span-2">
          <RunTimeline events={events} state={state} runStatus={run.data?.status} />
        </Card>
      </div>
    </>
  );
}
