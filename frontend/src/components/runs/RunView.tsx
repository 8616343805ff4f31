"use client";

import Link from "next/link";
import { RunAlertsPanel } from "@/components/alerts/RunAlertsPanel";
import { ErrorBox } from "@/components/ui/ErrorBox";
import { Loading, PageHeader } from "@/components/ui/Page";
import { StatusBadge } from "@/components/ui/StatusBadge";
import { TabPanel, Tabs } from "@/components/ui/Tabs";
import { useQueryParams } from "@/hooks/useQueryParams";
import { useRun } from "@/hooks/useRun";
import { useRunEvents } from "@/hooks/useRunEvents";
import { shortId } from "@/lib/format/format";
import { procedureHref } from "@/lib/format/links";
import { RunActions } from "./RunActions";
import { RunArtifactsTab } from "./RunArtifactsTab";
import { RunDiagnosticsTab } from "./RunDiagnosticsTab";
import { RunGraphTab } from "./RunGraphTab";
import { RunHeader } from "./RunHeader";
import { RunIoTab } from "./RunIoTab";
import { RunTimeline } from "./RunTimeline";

const TABS = [
  { id: "timeline", label: "Timeline" },
  { id: "graph", label: "Graph" },
  { id: "io", label: "Inputs & outputs" },
  { id: "artifacts", label: "Artifacts" },
  { id: "diagnostics", label: "Diagnostics" },
];

export function RunView() {
  const [params, setParams] = useQueryParams();
  const id = params.get("id") ?? "";
  const tab = TABS.some((t) => t.id === params.get("tab")) ? (params.get("tab") ?? "timeline") : "timeline";
  const run = useRun(id);
  const { events, state } = useRunEvents(id);

  if (!id) return <ErrorBox error={new Error("No run id in the address.")} />;
  if (run.isPending) return <Loading />;
  if (run.isError) return <ErrorBox error={run.error} title={`Could not load run ${id}`} />;
  const r = run.data;
  return (
    <>
      <nav aria-label="Breadcrumb" className="mb-2 text-sm">
        <Link href="/runs" className="text-blue-700 underline underline-offset-2 dark:text-blue-300">
          Runs
        </Link>{" "}
        / {shortId(r.run_id)}
      </nav>
      <PageHeader
        title={
          <span className="flex flex-wrap items-center gap-3">
            Run <span className="font-mono text-lg">{shortId(r.run_id)}</span>
            <span data-testid="run-status">
              <StatusBadge status={r.status} />
            </span>
          </span>
        }
        subtitle={
          <>
            <Link href={procedureHref(r.procedure_id, r.procedure_version)} className="text-blue-700 underline underline-offset-2 dark:text-blue-300">
              {r.procedure_id} v{r.procedure_version}
            </Link>
            {r.retry_of ? (
              <>
                {" "}
                · retry of{" "}
                <Link href={`/runs/view?id=${encodeURIComponent(r.retry_of)}`} className="text-blue-700 underline underline-offset-2 dark:text-blue-300">
                  {shortId(r.retry_of)}
                </Link>
              </>
            ) : null}
          </>
        }
        actions={<RunActions run={r} />}
      />
      <RunHeader run={r} />
      <RunAlertsPanel runId={r.run_id} />
      <div className="mt-4">
        <Tabs tabs={TABS} active={tab} onChange={(t) => setParams({ tab: t })} label="Run sections" />
        <TabPanel id={tab}>
          {tab === "timeline" ? <RunTimeline events={events} state={state} runStatus={r.status} /> : null}
          {tab === "graph" ? <RunGraphTab run={r} events={events} /> : null}
          {tab === "io" ? <RunIoTab run={r} /> : null}
          {tab === "artifacts" ? <RunArtifactsTab runId={r.run_id} /> : null}
          {tab === "diagnostics" ? <RunDiagnosticsTab runId={r.run_id} /> : null}
        </TabPanel>
      </div>
    </>
  );
}
