"use client";

import Link from "next/link";
import { NewProcedureChooser } from "@/components/builder/NewProcedureChooser";
import { buttonClass } from "@/components/ui/Button";
import { ErrorBox } from "@/components/ui/ErrorBox";
import { SelectField, TextField } from "@/components/ui/Field";
import { Card, Empty, Loading, PageHeader } from "@/components/ui/Page";
import { Pagination } from "@/components/ui/Pagination";
import { StatusBadge } from "@/components/ui/StatusBadge";
import { Time } from "@/components/ui/Time";
import { useCan } from "@/hooks/useCan";
import { useDebouncedValue } from "@/hooks/useDebouncedValue";
import { useProcedures } from "@/hooks/useProcedures";
import { useProjects } from "@/hooks/useProjects";
import { useQueryParams } from "@/hooks/useQueryParams";
import { PROCEDURE_STATUSES, type ProcedureStatus } from "@/lib/api/models";
import { procedureHref } from "@/lib/format/links";
import { useState } from "react";

const LIMIT = 25;

export function ProcedureListView() {
  const [params, setParams] = useQueryParams();
  const [search, setSearch] = useState(params.get("search") ?? "");
  const debounced = useDebouncedValue(search, 300);
  const status = (params.get("status") ?? "") as ProcedureStatus | "";
  const project = params.get("project") ?? "";
  const [tags, setTags] = useState(params.get("tags") ?? "");
  const debouncedTags = useDebouncedValue(tags, 300);
  const offset = Number(params.get("offset") ?? "0") || 0;
  const projects = useProjects();
  const list = useProcedures({ search: debounced, status, project_id: project, tags: debouncedTags, limit: LIMIT, offset });
  const perms = useCan();
  const projectName = new Map((projects.data?.items ?? []).map((p) => [p.id, p.name]));

  return (
    <>
      <PageHeader
        title="Procedures"
        subtitle="CKP procedures this server can run. Newest version of each is shown."
        actions={
          perms.canAnywhere("author") ? (
            <>
              <NewProcedureChooser />
              <Link href="/procedures/import" className={buttonClass("secondary")} data-testid="import-procedure-link">
                Import procedure
              </Link>
            </>
          ) : null
        }
      />
      <Card>
        <form className="mb-4 grid gap-3 md:grid-cols-4" role="search" aria-label="Filter procedures" onSubmit={(e) => e.preventDefault()}>
          <TextField
            id="proc-search"
            label="Search"
            value={search}
            placeholder="id or description"
            onChange={(e) => {
              setSearch(e.target.value);
              setParams({ search: e.target.value, offset: null });
            }}
          />
          <SelectField id="proc-status" label="Status" value={status} onChange={(e) => setParams({ status: e.target.value, offset: null })}>
            <option value="">Any status</option>
            {PROCEDURE_STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </SelectField>
          <SelectField id="proc-project" label="Project" value={project} onChange={(e) => setParams({ project: e.target.value, offset: null })}>
            <option value="">Any project</option>
            {(projects.data?.items ?? []).map((p) => (
              <option key={p.id} value={p.id}>
                {p.name}
              </option>
            ))}
          </SelectField>
          <TextField
            id="proc-tags"
            label="Tags"
            value={tags}
            placeholder="finance, invoices"
            onChange={(e) => {
              setTags(e.target.value);
              setParams({ tags: e.target.value, offset: null });
            }}
          />
        </form>
        {list.isError ? <ErrorBox error={list.error} title="Could not load procedures" /> : null}
        {list.isPending ? <Loading /> : null}
        {list.data && list.data.items.length === 0 ? <Empty>No procedures match. Import one to get started.</Empty> : null}
        {list.data && list.data.items.length > 0 ? (
          <div className="overflow-x-auto">
            <table className="w-full text-left text-sm">
              <caption className="sr-only">Procedures</caption>
              <thead className="border-b border-slate-200 text-xs text-slate-600 uppercase dark:border-slate-700 dark:text-slate-400">
                <tr>
                  <th scope="col" className="py-2 pr-3">Procedure</th>
                  <th scope="col" className="py-2 pr-3">Version</th>
                  <th scope="col" className="py-2 pr-3">Status</th>
                  <th scope="col" className="py-2 pr-3">Project</th>
                  <th scope="col" className="py-2 pr-3">Tags</th>
                  <th scope="col" className="py-2 pr-3">Runs</th>
                  <th scope="col" className="py-2">Updated</th>
                </tr>
              </thead>
              <tbody className="divide-y divide-slate-100 dark:divide-slate-800">
                {list.data.items.map((p) => (
                  <tr key={p.id} className="align-top">
                    <td className="py-2 pr-3">
                      <Link href={procedureHref(p.procedure_id, p.version)} className="font-medium text-blue-700 underline underline-offset-2 dark:text-blue-300">
                        {p.procedure_id}
                      </Link>
                      {p.description ? <p className="line-clamp-2 max-w-md text-xs text-slate-600 dark:text-slate-400">{p.description}</p> : null}
                    </td>
                    <td className="py-2 pr-3 font-mono text-xs">{p.version}</td>
                    <td className="py-2 pr-3">
                      <StatusBadge status={p.status} />
                    </td>
                    <td className="py-2 pr-3">{p.project_id ? (projectName.get(p.project_id) ?? p.project_id) : "—"}</td>
                    <td className="py-2 pr-3">
                      <span className="flex flex-wrap gap-1">
                        {(p.tags ?? []).slice(0, 5).map((t) => (
                          <span key={t} className="rounded bg-slate-100 px-1.5 text-xs dark:bg-slate-800">
                            {t}
                          </span>
                        ))}
                      </span>
                    </td>
                    <td className="py-2 pr-3">{p.run_count}</td>
                    <td className="py-2">
                      <Time iso={p.updated_at} relative />
                    </td>
                  </tr>
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
