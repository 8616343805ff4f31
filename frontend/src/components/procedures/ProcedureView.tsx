"use client";

import Link from "next/link";
import { ErrorBox } from "@/components/ui/ErrorBox";
import { Loading, PageHeader } from "@/components/ui/Page";
import { StatusBadge } from "@/components/ui/StatusBadge";
import { TabPanel, Tabs } from "@/components/ui/Tabs";
import { useProcedure } from "@/hooks/useProcedure";
import { useQueryParams } from "@/hooks/useQueryParams";
import { ProcedureTriggersTab } from "@/components/triggers/ProcedureTriggersTab";
import { LifecycleActions } from "./LifecycleActions";
import { ProcedureCkpTab } from "./ProcedureCkpTab";
import { ProcedureGraphTab } from "./ProcedureGraphTab";
import { ProcedureOverview } from "./ProcedureOverview";
import { ProcedureRunTab } from "./ProcedureRunTab";
import { VersionsTab } from "./VersionsTab";

const TABS = [
  { id: "overview", label: "Overview" },
  { id: "graph", label: "Graph" },
  { id: "ckp", label: "CKP JSON" },
  { id: "versions", label: "Versions" },
  { id: "triggers", label: "Triggers" },
  { id: "run", label: "Run" },
];

export function ProcedureView() {
  const [params, setParams] = useQueryParams();
  const id = params.get("id") ?? "";
  const version = params.get("version");
  const tab = TABS.some((t) => t.id === params.get("tab")) ? (params.get("tab") ?? "overview") : "overview";
  const detail = useProcedure(id, version);

  if (!id) return <ErrorBox error={new Error("No procedure id in the address.")} />;
  if (detail.isPending) return <Loading />;
  if (detail.isError) return <ErrorBox error={detail.error} title={`Could not load ${id}`} />;
  const p = detail.data;
  return (
    <>
      <nav aria-label="Breadcrumb" className="mb-2 text-sm">
        <Link href="/procedures" className="text-blue-700 underline underline-offset-2 dark:text-blue-300">
          Procedures
        </Link>{" "}
        / {p.procedure_id}
      </nav>
      <PageHeader
        title={
          <span className="flex flex-wrap items-center gap-3">
            {p.procedure_id} <span className="font-mono text-base font-normal text-slate-600 dark:text-slate-400">v{p.version}</span>
            <StatusBadge status={p.status} />
          </span>
        }
        subtitle={p.description ? <span className="line-clamp-2" title={p.description}>{p.description}</span> : null}
        actions={<LifecycleActions procedure={p} onRun={() => setParams({ tab: "run" })} />}
      />
      <Tabs tabs={TABS} active={tab} onChange={(t) => setParams({ tab: t })} label="Procedure sections" />
      <TabPanel id={tab}>
        {tab === "overview" ? <ProcedureOverview procedure={p} /> : null}
        {tab === "graph" ? <ProcedureGraphTab procedure={p} /> : null}
        {tab === "ckp" ? <ProcedureCkpTab procedure={p} /> : null}
        {tab === "versions" ? <VersionsTab procedure={p} /> : null}
        {tab === "triggers" ? <ProcedureTriggersTab procedure={p} /> : null}
        {tab === "run" ? <ProcedureRunTab procedure={p} /> : null}
      </TabPanel>
    </>
  );
}
