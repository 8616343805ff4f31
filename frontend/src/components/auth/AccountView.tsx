"use client";

import { useRouter, useSearchParams } from "next/navigation";
import { ErrorBox } from "@/components/ui/ErrorBox";
import { Card, Loading, PageHeader } from "@/components/ui/Page";
import { useMe } from "@/hooks/useMe";
import { useToast } from "@/hooks/useToast";
import { safeNext } from "@/lib/api/session";
import { ROLE_HELP, roleLabel } from "@/lib/auth/roles";
import { ChangePasswordForm } from "./ChangePasswordForm";

/** Who is signed in, with what roles, and the change-password form (required after a one-time password). */
export function AccountView() {
  const me = useMe();
  const params = useSearchParams();
  const router = useRouter();
  const toast = useToast();
  const next = safeNext(params.get("next"));
  if (me.isPending) return <Loading />;
  if (me.isError) return <ErrorBox error={me.error} />;
  if (me.data === null) {
    return (
      <>
        <PageHeader title="Account" />
        <p className="text-sm">This server runs without authentication: there are no accounts.</p>
      </>
    );
  }
  const m = me.data;
  const projectRoles = Object.entries(m.project_roles ?? {});
  return (
    <>
      <PageHeader title="Account" subtitle={`Signed in as ${m.name}`} />
      {m.must_change_password ? (
        <p role="status" className="mb-4 rounded-md border border-amber-300 bg-amber-50 p-3 text-sm text-amber-950 dark:border-amber-700 dark:bg-amber-950 dark:text-amber-100" data-testid="must-change-password">
          You signed in with a one-time password. Choose your own password now.
        </p>
      ) : null}
      <div className="grid gap-4 lg:grid-cols-2">
        <Card title="Identity">
          <dl className="grid grid-cols-[auto_1fr] gap-x-4 gap-y-2 text-sm">
            <dt className="font-medium">Name</dt>
            <dd>{m.name}</dd>
            <dt className="font-medium">Kind</dt>
            <dd>{m.kind === "api_key" ? "API key" : m.kind}</dd>
            <dt className="font-medium">Role</dt>
            <dd data-testid="account-role">
              {roleLabel(m.role)}
              {m.role ? <span className="text-slate-600 dark:text-slate-400"> ({ROLE_HELP[m.role]})</span> : null}
            </dd>
            {projectRoles.length > 0 ? (
              <>
                <dt className="font-medium">Project roles</dt>
                <dd>
                  <ul>
                    {projectRoles.map(([project, role]) => (
                      <li key={project}>
                        <span className="font-mono text-xs">{project}</span>: {roleLabel(role)}
                      </li>
                    ))}
                  </ul>
                </dd>
              </>
            ) : null}
            {m.groups && m.groups.length > 0 ? (
              <>
                <dt className="font-medium">Groups</dt>
                <dd>{m.groups.join(", ")}</dd>
              </>
            ) : null}
          </dl>
        </Card>
        {m.kind === "user" ? (
          <Card title="Change password">
            <ChangePasswordForm
              onDone={() => {
                toast.show("success", "Password changed");
                if (params.get("change") === "1") router.replace(next);
              }}
            />
          </Card>
        ) : null}
      </div>
    </>
  );
}
