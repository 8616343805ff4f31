"use client";

import { Fragment, useState } from "react";
import { buttonClass, Button } from "@/components/ui/Button";
import { ErrorBox } from "@/components/ui/ErrorBox";
import { TextField } from "@/components/ui/Field";
import { JsonView } from "@/components/ui/JsonView";
import { Card, Empty, Loading, PageHeader } from "@/components/ui/Page";
import { Pagination } from "@/components/ui/Pagination";
import { Time } from "@/components/ui/Time";
import { useAudit } from "@/hooks/useAudit";
import { useDebouncedValue } from "@/hooks/useDebouncedValue";
import { useQueryParams } from "@/hooks/useQueryParams";
import { apiUrl } from "@/lib/api/base";
import { fromLocalInput, toLocalInput } from "@/lib/format/format";
import { auditQuery, exportQuery } from "./auditFilters";
import { VerifyChain } from "./VerifyChain";

const LIMIT = 50;

function outcomeClass(outcome: number | null | undefined): string {
  if (outcome === null || outcome === undefined) return "";
  if (outcome >= 400) return "text-red-700 dark:text-red-400";
  return "text-green-800 dark:text-green-300";
}

/** The audit log (admin): who did what to which subject, filtered and paged; verify and export. */
export function AuditView() {
  const [params, setParams] = useQueryParams();
  const offset = Number(params.get("offset") ?? "0") || 0;
  const [text, setText] = useState(() => ({
    actor: params.get("actor") ?? "",
    action: params.get("action") ?? "",
    subject_type: params.get("subject_type") ?? "",
    subject_id: params.get("subject_id") ?? "",
  }));
  const debounced = useDebouncedValue(text, 300);
  const merged = new URLSearchParams(params.toString());
  for (const [k, v] of Object.entries(debounced)) merged.set(k, v);
  const query = auditQuery(merged, LIMIT, offset);
  const list = useAudit(query);
  const [open, setOpen] = useState<number | null>(null);
  const setFilter = (name: keyof typeof text, value: string) => {
    setText((t) => ({ ...t, [name]: value }));
    setParams({ [name]: value, offset: null });
  };

  return (
    <>
      <PageHeader
        title="Audit log"
        subtitle="Every change made through the API: who, with which role, what, to which subject, when and with what outcome. Entries are hash-chained: an edited, inserted or deleted entry breaks the chain."
        actions={
          <a href={apiUrl("/api/audit/export", exportQuery(query))} download="audit.ndjson" className={buttonClass("secondary")} data-testid="audit-export">
            Export JSON lines
          </a>
        }
      />
      <Card className="mb-4">
        <VerifyChain />
      </Card>
      <Card>
        <form className="mb-4 grid gap-3 md:grid-cols-3 xl:grid-cols-6" role="search" aria-label="Filter the audit log" onSubmit={(e) => e.preventDefault()}>
          <TextField id="audit-actor" label="Actor" value={text.actor} placeholder="admin" onChange={(e) => setFilter("actor", e.target.value)} />
          <TextField
            id="audit-action"
            label="Action"
            value={text.action}
            placeholder="run. or procedure.import"
            hint="An action, or a prefix ending in a dot"
            onChange={(e) => setFilter("action", e.target.value)}
          />
          <TextField id="audit-subject-type" label="Subject type" value={text.subject_type} placeholder="run" onChange={(e) => setFilter("subject_type", e.target.value)} />
          <TextField id="audit-subject-id" label="Subject id" value={text.subject_id} onChange={(e) => setFilter("subject_id", e.target.value)} />
          <TextField
            id="audit-since"
            label="From"
            type="datetime-local"
            value={toLocalInput(params.get("since"))}
            onChange={(e) => setParams({ since: fromLocalInput(e.target.value), offset: null })}
          />
          <TextField
            id="audit-until"
            label="Before"
            type="datetime-local"
            value={toLocalInput(params.get("until"))}
            onChange={(e) => setParams({ until: fromLocalInput(e.target.value), offset: null })}
          />
        </form>
        {list.isError ? <ErrorBox error={list.error} title="Could not load the audit log" /> : null}
        {list.isPending ? <Loading /> : null}
        {list.data && list.data.items.length === 0 ? <Empty>No entries match these filters.</Empty> : null}
        {list.data && list.data.items.length > 0 ? (
          <div className="overflow-x-auto">
            <table className="w-full text-left text-sm" data-testid="audit-table">
              <caption className="sr-only">Audit entries, newest first</caption>
              <thead className="border-b border-slate-200 text-xs text-slate-600 uppercase dark:border-slate-700 dark:text-slate-400">
                <tr>
                  <th scope="col" className="py-2 pr-3">#</th>
                  <th scope="col" className="py-2 pr-3">When</th>
                  <th scope="col" className="py-2 pr-3">Actor</th>
                  <th scope="col" className="py-2 pr-3">Action</th>
                  <th scope="col" className="py-2 pr-3">Subject</th>
                  <th scope="col" className="py-2 pr-3">Outcome</th>
                  <th scope="col" className="py-2">Details</th>
                </tr>
              </thead>
              <tbody className="divide-y divide-slate-100 dark:divide-slate-800">
                {list.data.items.map((e) => (
                  <Fragment key={e.seq}>
                    <tr className="align-top" data-testid="audit-row" data-action={e.action} data-actor={e.actor}>
                      <td className="py-2 pr-3 font-mono text-xs">{e.seq}</td>
                      <td className="py-2 pr-3 whitespace-nowrap">
                        <Time iso={e.at} />
                      </td>
                      <td className="py-2 pr-3">
                        <span className="font-medium">{e.actor}</span>
                        <span className="block text-xs text-slate-600 dark:text-slate-400">
                          {e.actor_kind}
                          {e.role ? ` · ${e.role}` : ""}
                        </span>
                      </td>
                      <td className="py-2 pr-3 font-mono text-xs">{e.action}</td>
                      <td className="py-2 pr-3 text-xs">
                        {e.subject_type ? <span className="font-medium">{e.subject_type}</span> : "—"}
                        {e.subject_id ? <span className="block font-mono break-all">{e.subject_id}</span> : null}
                        {e.project_id && !(e.subject_type === "project" && e.subject_id === e.project_id) ? (
                          <span className="block text-slate-600 dark:text-slate-400">project {e.project_id}</span>
                        ) : null}
                      </td>
                      <td className={`py-2 pr-3 font-mono text-xs ${outcomeClass(e.outcome)}`}>{e.outcome ?? "—"}</td>
                      <td className="py-2">
                        {e.details && Object.keys(e.details).length > 0 ? (
                          <Button size="sm" aria-expanded={open === e.seq} onClick={() => setOpen(open === e.seq ? null : e.seq)}>
                            {open === e.seq ? "Hide" : "Show"}
                            <span className="sr-only"> details of entry {e.seq}</span>
                          </Button>
                        ) : (
                          <span className="text-xs text-slate-600 dark:text-slate-400">{e.request_id ? `request ${e.request_id.slice(0, 12)}` : "—"}</span>
                        )}
                      </td>
                    </tr>
                    {open === e.seq ? (
                      <tr>
                        <td colSpan={7} className="pb-3">
                          <JsonView value={{ request_id: e.request_id, ...e.details }} label={`Details of audit entry ${String(e.seq)}`} />
                        </td>
                      </tr>
                    ) : null}
                  </Fragment>
                ))}
              </tbody>
            </table>
          </div>
        ) : null}
        {list.data ? <Pagination offset={offset} limit={LIMIT} total={list.data.total} onChange={(o) => setParams({ offset: String(o) })} /> : null}
      </Card>
    </>
  );
}
