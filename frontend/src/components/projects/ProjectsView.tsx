"use client";

import Link from "next/link";
import { useState, type SyntheticEvent } from "react";
import { ALLOWED_HOSTS_HINT, allowedHostsError, formatAllowedHosts, parseAllowedHosts } from "@/components/projects/allowedHosts";
import { Button } from "@/components/ui/Button";
import { ConfirmDialog } from "@/components/ui/ConfirmDialog";
import { ErrorBox } from "@/components/ui/ErrorBox";
import { TextAreaField, TextField } from "@/components/ui/Field";
import { Card, Empty, Loading, PageHeader } from "@/components/ui/Page";
import { Time } from "@/components/ui/Time";
import { useCan } from "@/hooks/useCan";
import { useDeleteProject } from "@/hooks/useDeleteProject";
import { useProjectCost } from "@/hooks/useProjectCost";
import { useProjects } from "@/hooks/useProjects";
import { useSaveProject } from "@/hooks/useSaveProject";
import { useToast } from "@/hooks/useToast";
import { ApiError, errorMessage } from "@/lib/api/errors";
import type { ProjectRead } from "@/lib/api/models";
import { formatCost, plural } from "@/lib/format/format";

function ProjectForm({ project, onDone }: { project?: ProjectRead; onDone: () => void }) {
  const save = useSaveProject();
  const toast = useToast();
  const [name, setName] = useState(project?.name ?? "");
  const [description, setDescription] = useState(project?.description ?? "");
  const [hosts, setHosts] = useState(formatAllowedHosts(project?.allowed_hosts));
  const fieldErrors = save.error instanceof ApiError ? save.error.fieldErrors : [];
  const fieldError = (f: string) => fieldErrors.find((e) => e.field === f)?.message ?? null;
  const submit = (e: SyntheticEvent) => {
    e.preventDefault();
    save.mutate(
      { id: project?.id, name: name.trim(), description: description.trim() || null, allowedHosts: parseAllowedHosts(hosts) },
      {
        onSuccess: (p) => {
          toast.show("success", `${project ? "Saved" : "Created"} ${p.name}`);
          if (!project) {
            setName("");
            setDescription("");
            setHosts("");
          }
          onDone();
        },
        onError: (err) => toast.show("error", errorMessage(err)),
      },
    );
  };
  return (
    <form onSubmit={submit} className="grid gap-3 md:grid-cols-[1fr_2fr]" aria-label={project ? `Edit ${project.name}` : "New project"}>
      <TextField label="Name" required value={name} onChange={(e) => setName(e.target.value)} error={fieldError("name")} maxLength={200} />
      <TextField label="Description" value={description} onChange={(e) => setDescription(e.target.value)} error={fieldError("description")} />
      <div className="md:col-span-2">
        <TextAreaField
          label="Allowed hosts"
          rows={3}
          value={hosts}
          onChange={(e) => setHosts(e.target.value)}
          placeholder={"erp.internal\n10.20.0.0/16"}
          hint={ALLOWED_HOSTS_HINT}
          error={allowedHostsError(fieldErrors, save.variables?.allowedHosts)}
          spellCheck={false}
          autoCapitalize="off"
          autoCorrect="off"
          data-testid="project-allowed-hosts-input"
        />
      </div>
      <div className="flex gap-2 md:col-span-2">
        <Button type="submit" variant="primary" disabled={save.isPending || name.trim() === ""}>
          {project ? "Save" : "Create project"}
        </Button>
        {project ? <Button onClick={onDone}>Cancel</Button> : null}
      </div>
    </form>
  );
}

/** The project's sandbox allowlist, read-only (shown to everyone who sees the project). */
function AllowedHosts({ hosts }: { hosts: readonly string[] | undefined }) {
  if (!hosts || hosts.length === 0) return null;
  return (
    <p className="mt-1 flex flex-wrap items-center gap-1 text-xs text-slate-600 dark:text-slate-400" data-testid="project-allowed-hosts">
      <span title={ALLOWED_HOSTS_HINT}>Allowed hosts:</span>
      {hosts.map((h) => (
        <code key={h} className="rounded bg-slate-100 px-1.5 py-0.5 text-slate-800 dark:bg-slate-800 dark:text-slate-200" data-host={h}>
          {h}
        </code>
      ))}
    </p>
  );
}

function CostLine({ projectId }: { projectId: string }) {
  const cost = useProjectCost(projectId);
  if (cost.isPending) return <span className="text-xs">…</span>;
  if (cost.isError) return <span className="text-xs">—</span>;
  return (
    <span className="text-xs text-slate-600 dark:text-slate-400">
      {plural(cost.data.run_count, "run")} · {plural(cost.data.total_tokens, "token")} · {formatCost(cost.data.estimated_cost_usd)}
    </span>
  );
}

export function ProjectsView() {
  const projects = useProjects();
  const remove = useDeleteProject();
  const toast = useToast();
  const [editing, setEditing] = useState<string | null>(null);
  const [target, setTarget] = useState<ProjectRead | null>(null);
  // Creating, editing and deleting projects is the admin's.
  const mayManage = useCan().can("admin");
  return (
    <>
      <PageHeader title="Projects" subtitle="Group procedures and runs, and see what they cost." />
      {mayManage ? (
        <Card title="New project" className="mb-4">
          <ProjectForm onDone={() => undefined} />
        </Card>
      ) : null}
      <Card>
        {projects.isError ? <ErrorBox error={projects.error} /> : null}
        {projects.isPending ? <Loading /> : null}
        {projects.data && projects.data.items.length === 0 ? <Empty>No projects yet.</Empty> : null}
        <ul className="divide-y divide-slate-200 dark:divide-slate-700">
          {(projects.data?.items ?? []).map((p) => (
            <li key={p.id} className="py-3">
              {editing === p.id ? (
                <ProjectForm project={p} onDone={() => setEditing(null)} />
              ) : (
                <div className="flex flex-wrap items-center gap-3">
                  <div className="min-w-0 flex-1">
                    <p className="font-medium">{p.name}</p>
                    {p.description ? <p className="text-sm text-slate-600 dark:text-slate-400">{p.description}</p> : null}
                    <AllowedHosts hosts={p.allowed_hosts} />
                    <p className="flex flex-wrap gap-3">
                      <CostLine projectId={p.id} />
                      <span className="text-xs text-slate-600 dark:text-slate-400">
                        created <Time iso={p.created_at} relative />
                      </span>
                    </p>
                  </div>
                  <Link href={`/procedures?project=${encodeURIComponent(p.id)}`} className="text-sm text-blue-700 underline underline-offset-2 dark:text-blue-300">
                    Procedures<span className="sr-only"> of {p.name}</span>
                  </Link>
                  {mayManage ? (
                    <>
                      <Button size="sm" onClick={() => setEditing(p.id)}>
                        Edit<span className="sr-only"> {p.name}</span>
                      </Button>
                      <Button size="sm" variant="danger" onClick={() => setTarget(p)}>
                        Delete<span className="sr-only"> {p.name}</span>
                      </Button>
                    </>
                  ) : null}
                </div>
              )}
            </li>
          ))}
        </ul>
      </Card>
      <ConfirmDialog
        open={target !== null}
        title="Delete this project?"
        message={`${target?.name ?? ""} is removed; its procedures and runs stay, without a project.`}
        confirmLabel="Delete"
        busy={remove.isPending}
        onCancel={() => setTarget(null)}
        onConfirm={() =>
          target &&
          remove.mutate(target.id, {
            onSuccess: () => toast.show("success", `Deleted ${target.name}`),
            onError: (e) => toast.show("error", errorMessage(e)),
            onSettled: () => setTarget(null),
          })
        }
      />
    </>
  );
}
