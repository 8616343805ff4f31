"use client";

import { useState, type SyntheticEvent } from "react";
import { Button } from "@/components/ui/Button";
import { ConfirmDialog } from "@/components/ui/ConfirmDialog";
import { Dialog } from "@/components/ui/Dialog";
import { ErrorBox } from "@/components/ui/ErrorBox";
import { SelectField, TextField } from "@/components/ui/Field";
import { Card, Empty, Loading, PageHeader } from "@/components/ui/Page";
import { Time } from "@/components/ui/Time";
import { useCan } from "@/hooks/useCan";
import { useDeleteSecret } from "@/hooks/useDeleteSecret";
import { useProjects } from "@/hooks/useProjects";
import { useSaveSecret } from "@/hooks/useSaveSecret";
import { useSecrets } from "@/hooks/useSecrets";
import { useToast } from "@/hooks/useToast";
import { ApiError, errorMessage } from "@/lib/api/errors";
import type { SecretRead } from "@/lib/api/models";
import { SecretValueField } from "./SecretValueField";

const NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

function fieldError(error: unknown, field: string): string | null {
  return error instanceof ApiError ? (error.fieldErrors.find((e) => e.field === field)?.message ?? null) : null;
}

function CreateSecretForm() {
  const save = useSaveSecret();
  const projects = useProjects();
  const toast = useToast();
  const [name, setName] = useState("");
  const [value, setValue] = useState("");
  const [projectId, setProjectId] = useState("");
  const [description, setDescription] = useState("");
  const badName = name !== "" && !NAME_PATTERN.test(name);
  const submit = (e: SyntheticEvent) => {
    e.preventDefault();
    save.mutate(
      { create: { name: name.trim(), value, project_id: projectId || null, description: description.trim() || null } },
      {
        onSuccess: (s) => {
          toast.show("success", `Secret ${s.name} stored`);
          setName("");
          setDescription("");
        },
        onError: (err) => toast.show("error", `Not stored: ${errorMessage(err)}`),
        // The value leaves the page whatever the answer.
        onSettled: () => setValue(""),
      },
    );
  };
  return (
    <form onSubmit={submit} aria-label="New secret" className="grid gap-3 md:grid-cols-2" autoComplete="off">
      <TextField
        id="secret-name"
        label="Name"
        required
        value={name}
        onChange={(e) => setName(e.target.value)}
        placeholder="erp_api_token"
        autoComplete="off"
        error={badName ? "Letters, digits, _ . and -, not starting with a digit." : fieldError(save.error, "name")}
      />
      <SecretValueField id="secret-new-value" value={value} onChange={setValue} error={fieldError(save.error, "value")} />
      <SelectField label="Project" value={projectId} onChange={(e) => setProjectId(e.target.value)} hint="Set: only this project's runs can read it">
        <option value="">All projects</option>
        {(projects.data?.items ?? []).map((p) => (
          <option key={p.id} value={p.id}>
            {p.name}
          </option>
        ))}
      </SelectField>
      <TextField label="Description" value={description} onChange={(e) => setDescription(e.target.value)} />
      <div className="md:col-span-2">
        <Button type="submit" variant="primary" disabled={save.isPending || name.trim() === "" || badName || value === ""} data-testid="create-secret">
          {save.isPending ? "Storing…" : "Store secret"}
        </Button>
      </div>
    </form>
  );
}

function RotateDialog({ secret, onClose }: { secret: SecretRead | null; onClose: () => void }) {
  const save = useSaveSecret();
  const toast = useToast();
  const [value, setValue] = useState("");
  const close = () => {
    setValue("");
    save.reset();
    onClose();
  };
  const submit = (e: SyntheticEvent) => {
    e.preventDefault();
    if (!secret) return;
    save.mutate(
      { secretId: secret.secret_id, rotate: { value } },
      {
        onSuccess: (s) => {
          toast.show("success", `${s.name} rotated to version ${String(s.version)}`);
          close();
        },
        onSettled: () => setValue(""),
      },
    );
  };
  return (
    <Dialog open={secret !== null} title={`Rotate ${secret?.name ?? ""}`} onClose={close}>
      <form onSubmit={submit} className="flex flex-col gap-3" autoComplete="off">
        <p className="text-sm">
          The new value replaces version {secret?.version ?? ""} at once; runs that read the secret from now on get the new one.
        </p>
        <SecretValueField id="secret-rotate-value" label="New value" value={value} onChange={setValue} error={fieldError(save.error, "value")} />
        {save.isError && fieldError(save.error, "value") === null ? (
          <p role="alert" className="text-sm text-red-700 dark:text-red-400">
            {errorMessage(save.error)}
          </p>
        ) : null}
        <div className="flex justify-end gap-2">
          <Button onClick={close}>Cancel</Button>
          <Button type="submit" variant="primary" disabled={save.isPending || value === ""} data-testid="rotate-secret-submit">
            {save.isPending ? "Rotating…" : "Rotate"}
          </Button>
        </div>
      </form>
    </Dialog>
  );
}

/** The built-in secret store: authors see the names; operators create, rotate and delete. Values are never shown. */
export function SecretsView() {
  const secrets = useSecrets();
  const projects = useProjects();
  const remove = useDeleteSecret();
  const toast = useToast();
  const perms = useCan();
  const [rotating, setRotating] = useState<SecretRead | null>(null);
  const [target, setTarget] = useState<SecretRead | null>(null);
  const projectName = new Map((projects.data?.items ?? []).map((p) => [p.id, p.name]));
  const mayCreate = perms.canAnywhere("operator");
  return (
    <>
      <PageHeader
        title="Secrets"
        subtitle="The built-in secret store: values are encrypted at rest and write-only. A procedure reads one it declares in secrets_config as {{secrets.NAME}}."
      />
      {mayCreate ? (
        <Card title="New secret" className="mb-4">
          <CreateSecretForm />
        </Card>
      ) : null}
      <Card>
        {secrets.isError ? <ErrorBox error={secrets.error} title="Could not load the secrets" /> : null}
        {secrets.isPending ? <Loading /> : null}
        {secrets.data && secrets.data.length === 0 ? <Empty>No secrets stored.</Empty> : null}
        {secrets.data && secrets.data.length > 0 ? (
          <div className="overflow-x-auto">
            <table className="w-full text-left text-sm">
              <caption className="sr-only">Secrets</caption>
              <thead className="border-b border-slate-200 text-xs text-slate-600 uppercase dark:border-slate-700 dark:text-slate-400">
                <tr>
                  <th scope="col" className="py-2 pr-3">Name</th>
                  <th scope="col" className="py-2 pr-3">Project</th>
                  <th scope="col" className="py-2 pr-3">Version</th>
                  <th scope="col" className="py-2 pr-3">Updated</th>
                  <th scope="col" className="py-2 pr-3">Last used</th>
                  <th scope="col" className="py-2"><span className="sr-only">Actions</span></th>
                </tr>
              </thead>
              <tbody className="divide-y divide-slate-100 dark:divide-slate-800">
                {secrets.data.map((s) => {
                  const mayManage = perms.can("operator", s.project_id);
                  return (
                    <tr key={s.secret_id} data-testid="secret-row" data-name={s.name} className="align-top">
                      <td className="py-2 pr-3">
                        <span className="font-mono font-medium">{s.name}</span>
                        {s.description ? <span className="block text-xs text-slate-600 dark:text-slate-400">{s.description}</span> : null}
                      </td>
                      <td className="py-2 pr-3">{s.project_id ? (projectName.get(s.project_id) ?? s.project_id) : "all"}</td>
                      <td className="py-2 pr-3 font-mono text-xs">v{s.version}</td>
                      <td className="py-2 pr-3">
                        <Time iso={s.updated_at} relative />
                      </td>
                      <td className="py-2 pr-3">{s.last_used_at ? <Time iso={s.last_used_at} relative /> : "never"}</td>
                      <td className="py-2 text-right whitespace-nowrap">
                        {mayManage ? (
                          <span className="inline-flex gap-2">
                            <Button size="sm" onClick={() => setRotating(s)}>
                              Rotate<span className="sr-only"> {s.name}</span>
                            </Button>
                            <Button size="sm" variant="danger" onClick={() => setTarget(s)}>
                              Delete<span className="sr-only"> {s.name}</span>
                            </Button>
                          </span>
                        ) : null}
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        ) : null}
      </Card>
      <RotateDialog secret={rotating} onClose={() => setRotating(null)} />
      <ConfirmDialog
        open={target !== null}
        title="Delete this secret?"
        message={`${target?.name ?? ""} is removed with every version; runs that read it fail from now on. This cannot be undone.`}
        confirmLabel="Delete"
        busy={remove.isPending}
        onCancel={() => setTarget(null)}
        onConfirm={() =>
          target &&
          remove.mutate(target.secret_id, {
            onSuccess: () => toast.show("success", `Deleted ${target.name}`),
            onError: (e) => toast.show("error", errorMessage(e)),
            onSettled: () => setTarget(null),
          })
        }
      />
    </>
  );
}
