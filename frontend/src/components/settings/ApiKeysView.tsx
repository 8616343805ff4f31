"use client";

import { useState, type SyntheticEvent } from "react";
import { Button } from "@/components/ui/Button";
import { ConfirmDialog } from "@/components/ui/ConfirmDialog";
import { ErrorBox } from "@/components/ui/ErrorBox";
import { SelectField, TextField } from "@/components/ui/Field";
import { Card, Empty, Loading, PageHeader } from "@/components/ui/Page";
import { Time } from "@/components/ui/Time";
import { useApiKeys } from "@/hooks/useApiKeys";
import { useCreateApiKey } from "@/hooks/useCreateApiKey";
import { useProjects } from "@/hooks/useProjects";
import { useRevokeApiKey } from "@/hooks/useRevokeApiKey";
import { useToast } from "@/hooks/useToast";
import { ApiError, errorMessage } from "@/lib/api/errors";
import type { ApiKeyCreated, ApiKeyRead, Role } from "@/lib/api/models";
import { isRole, roleLabel } from "@/lib/auth/roles";
import { CopyButton } from "./CopyButton";
import { RoleSelect } from "./RoleSelect";

/** The key just created: shown here once, never again. */
function NewKey({ created, onDismiss }: { created: ApiKeyCreated; onDismiss: () => void }) {
  return (
    <div role="alert" className="mb-4 rounded-md border border-amber-400 bg-amber-50 p-4 text-sm text-amber-950 dark:border-amber-700 dark:bg-amber-950 dark:text-amber-100" data-testid="new-api-key">
      <p className="font-semibold">API key “{created.name}” created. Copy it now: it will not be shown again.</p>
      <p className="mt-1">Send it as <code className="font-mono">Authorization: Bearer &lt;key&gt;</code> or <code className="font-mono">X-API-Key: &lt;key&gt;</code>.</p>
      <div className="mt-3 flex flex-wrap items-center gap-2">
        <code className="rounded bg-white px-2 py-1 font-mono text-xs break-all text-slate-900 select-all dark:bg-slate-900 dark:text-slate-100" data-testid="new-api-key-value">
          {created.key}
        </code>
        <CopyButton text={created.key} label="Copy key" />
        <Button size="sm" onClick={onDismiss}>
          I have stored it
        </Button>
      </div>
    </div>
  );
}

function CreateKeyForm({ onCreated }: { onCreated: (key: ApiKeyCreated) => void }) {
  const create = useCreateApiKey();
  const projects = useProjects();
  const [name, setName] = useState("");
  const [role, setRole] = useState<Role>("operator");
  const [projectId, setProjectId] = useState("");
  const fieldError = (f: string) => (create.error instanceof ApiError ? (create.error.fieldErrors.find((e) => e.field === f)?.message ?? null) : null);
  const submit = (e: SyntheticEvent) => {
    e.preventDefault();
    create.mutate(
      { name: name.trim(), role, project_id: projectId || null },
      {
        onSuccess: (created) => {
          setName("");
          onCreated(created);
        },
      },
    );
  };
  return (
    <form onSubmit={submit} aria-label="New API key" className="grid gap-3 md:grid-cols-[2fr_1fr_1fr_auto] md:items-end">
      <TextField label="Name" required value={name} onChange={(e) => setName(e.target.value)} maxLength={200} placeholder="ci-deploy" error={fieldError("name")} />
      <RoleSelect value={role} onChange={(e) => isRole(e.target.value) && setRole(e.target.value)} />
      <SelectField label="Project" value={projectId} onChange={(e) => setProjectId(e.target.value)} hint="Set: the role holds on this project only">
        <option value="">All projects</option>
        {(projects.data?.items ?? []).map((p) => (
          <option key={p.id} value={p.id}>
            {p.name}
          </option>
        ))}
      </SelectField>
      <div>
        <Button type="submit" variant="primary" disabled={create.isPending || name.trim() === ""} data-testid="create-api-key">
          {create.isPending ? "Creating…" : "Create key"}
        </Button>
      </div>
      {create.isError && fieldError("name") === null ? (
        <p role="alert" className="text-sm text-red-700 md:col-span-4 dark:text-red-400">
          {errorMessage(create.error)}
        </p>
      ) : null}
    </form>
  );
}

/** API keys (admin): list, create (the key shown once), revoke. */
export function ApiKeysView() {
  const list = useApiKeys();
  const revoke = useRevokeApiKey();
  const projects = useProjects();
  const toast = useToast();
  const [created, setCreated] = useState<ApiKeyCreated | null>(null);
  const [target, setTarget] = useState<ApiKeyRead | null>(null);
  const projectName = new Map((projects.data?.items ?? []).map((p) => [p.id, p.name]));
  return (
    <>
      <PageHeader title="API keys" subtitle="Keys for services, scripts and agents: each holds one role, on every project or on one. Only a hash is stored." />
      {created ? <NewKey created={created} onDismiss={() => setCreated(null)} /> : null}
      <Card title="New key" className="mb-4">
        <CreateKeyForm onCreated={setCreated} />
      </Card>
      <Card>
        {list.isError ? <ErrorBox error={list.error} title="Could not load the keys" /> : null}
        {list.isPending ? <Loading /> : null}
        {list.data && list.data.length === 0 ? <Empty>No API keys yet.</Empty> : null}
        {list.data && list.data.length > 0 ? (
          <div className="overflow-x-auto">
            <table className="w-full text-left text-sm">
              <caption className="sr-only">API keys</caption>
              <thead className="border-b border-slate-200 text-xs text-slate-600 uppercase dark:border-slate-700 dark:text-slate-400">
                <tr>
                  <th scope="col" className="py-2 pr-3">Name</th>
                  <th scope="col" className="py-2 pr-3">Key id</th>
                  <th scope="col" className="py-2 pr-3">Role</th>
                  <th scope="col" className="py-2 pr-3">Project</th>
                  <th scope="col" className="py-2 pr-3">Created</th>
                  <th scope="col" className="py-2 pr-3">Last used</th>
                  <th scope="col" className="py-2 pr-3">State</th>
                  <th scope="col" className="py-2"><span className="sr-only">Actions</span></th>
                </tr>
              </thead>
              <tbody className="divide-y divide-slate-100 dark:divide-slate-800">
                {list.data.map((k) => (
                  <tr key={k.key_id} data-testid="api-key-row" data-name={k.name} data-revoked={k.revoked_at ? "true" : "false"}>
                    <td className="py-2 pr-3 font-medium">{k.name}</td>
                    <td className="py-2 pr-3 font-mono text-xs">{k.key_id}</td>
                    <td className="py-2 pr-3">{roleLabel(k.role)}</td>
                    <td className="py-2 pr-3">{k.project_id ? (projectName.get(k.project_id) ?? k.project_id) : "all"}</td>
                    <td className="py-2 pr-3">
                      <Time iso={k.created_at} relative />
                      {k.created_by ? <span className="block text-xs text-slate-600 dark:text-slate-400">by {k.created_by}</span> : null}
                    </td>
                    <td className="py-2 pr-3">{k.last_used_at ? <Time iso={k.last_used_at} relative /> : "never"}</td>
                    <td className="py-2 pr-3">
                      {k.revoked_at ? (
                        <span>
                          revoked <Time iso={k.revoked_at} relative />
                        </span>
                      ) : k.expires_at ? (
                        <span>
                          expires <Time iso={k.expires_at} relative />
                        </span>
                      ) : (
                        "active"
                      )}
                    </td>
                    <td className="py-2 text-right">
                      {k.revoked_at ? null : (
                        <Button size="sm" variant="danger" onClick={() => setTarget(k)}>
                          Revoke<span className="sr-only"> {k.name}</span>
                        </Button>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ) : null}
      </Card>
      <ConfirmDialog
        open={target !== null}
        title="Revoke this API key?"
        message={`${target?.name ?? ""} (${target?.key_id ?? ""}) stops working at once for everything that uses it. This cannot be undone.`}
        confirmLabel="Revoke"
        busy={revoke.isPending}
        onCancel={() => setTarget(null)}
        onConfirm={() =>
          target &&
          revoke.mutate(target.key_id, {
            onSuccess: () => toast.show("success", `Revoked ${target.name}`),
            onError: (e) => toast.show("error", errorMessage(e)),
            onSettled: () => setTarget(null),
          })
        }
      />
    </>
  );
}
