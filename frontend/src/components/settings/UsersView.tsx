"use client";

import { useState, type SyntheticEvent } from "react";
import { MIN_PASSWORD_LENGTH } from "@/components/auth/rules";
import { Button } from "@/components/ui/Button";
import { ConfirmDialog } from "@/components/ui/ConfirmDialog";
import { ErrorBox } from "@/components/ui/ErrorBox";
import { inputClass, TextField } from "@/components/ui/Field";
import { Card, Empty, Loading, PageHeader } from "@/components/ui/Page";
import { Time } from "@/components/ui/Time";
import { useMe } from "@/hooks/useMe";
import { useSaveUser } from "@/hooks/useSaveUser";
import { useToast } from "@/hooks/useToast";
import { useUsers } from "@/hooks/useUsers";
import { ApiError, errorMessage } from "@/lib/api/errors";
import type { Role, UserRead } from "@/lib/api/models";
import { isRole, ROLE_LABELS, ROLES } from "@/lib/auth/roles";
import { RoleSelect } from "./RoleSelect";

/** "finance, managers" → ["finance", "managers"]. */
export function parseGroups(text: string): string[] {
  return [...new Set(text.split(",").map((g) => g.trim()).filter(Boolean))];
}

function CreateUserForm() {
  const save = useSaveUser();
  const toast = useToast();
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [role, setRole] = useState<Role>("viewer");
  const [displayName, setDisplayName] = useState("");
  const [email, setEmail] = useState("");
  const [groups, setGroups] = useState("");
  const fieldError = (f: string) => (save.error instanceof ApiError ? (save.error.fieldErrors.find((e) => e.field === f)?.message ?? null) : null);
  const tooShort = password !== "" && password.length < MIN_PASSWORD_LENGTH;
  const submit = (e: SyntheticEvent) => {
    e.preventDefault();
    save.mutate(
      {
        create: {
          username: username.trim(),
          password,
          role,
          display_name: displayName.trim() || null,
          email: email.trim() || null,
          groups: parseGroups(groups),
        },
      },
      {
        onSuccess: (u) => {
          toast.show("success", `Created ${u.username} (${ROLE_LABELS[role].toLowerCase()})`);
          setUsername("");
          setPassword("");
          setDisplayName("");
          setEmail("");
          setGroups("");
        },
        onError: (err) => toast.show("error", `Not created: ${errorMessage(err)}`),
      },
    );
  };
  return (
    <form onSubmit={submit} aria-label="New user" className="grid gap-3 md:grid-cols-3">
      <TextField label="Username" required value={username} onChange={(e) => setUsername(e.target.value)} autoComplete="off" error={fieldError("username")} />
      <TextField
        label="Password"
        type="password"
        required
        autoComplete="new-password"
        value={password}
        onChange={(e) => setPassword(e.target.value)}
        hint={`At least ${String(MIN_PASSWORD_LENGTH)} characters; tell the user to change it.`}
        error={tooShort ? `At least ${String(MIN_PASSWORD_LENGTH)} characters.` : fieldError("password")}
      />
      <RoleSelect value={role} onChange={(e) => isRole(e.target.value) && setRole(e.target.value)} />
      <TextField label="Display name" value={displayName} onChange={(e) => setDisplayName(e.target.value)} />
      <TextField label="Email" type="email" value={email} onChange={(e) => setEmail(e.target.value)} error={fieldError("email")} />
      <TextField label="Groups" value={groups} onChange={(e) => setGroups(e.target.value)} placeholder="finance, managers" hint="Comma-separated: approver groups and levels" />
      <div className="md:col-span-3">
        <Button type="submit" variant="primary" disabled={save.isPending || username.trim() === "" || password.length < MIN_PASSWORD_LENGTH} data-testid="create-user">
          {save.isPending ? "Creating…" : "Create user"}
        </Button>
      </div>
    </form>
  );
}

function UserRow({ user: u, self, onDisable }: { user: UserRead; self: boolean; onDisable: () => void }) {
  const save = useSaveUser();
  const toast = useToast();
  const change = (changes: { role?: Role; disabled?: boolean }, done: string) =>
    save.mutate(
      { userId: u.user_id, changes },
      { onSuccess: () => toast.show("success", done), onError: (e) => toast.show("error", errorMessage(e)) },
    );
  return (
    <tr data-testid="user-row" data-username={u.username} data-disabled={u.disabled ? "true" : "false"} className="align-top">
      <td className="py-2 pr-3">
        <span className="font-medium">{u.username}</span>
        {u.display_name ? <span className="block text-xs text-slate-600 dark:text-slate-400">{u.display_name}</span> : null}
        {u.email ? <span className="block text-xs text-slate-600 dark:text-slate-400">{u.email}</span> : null}
      </td>
      <td className="py-2 pr-3">
        <label className="sr-only" htmlFor={`role-${u.user_id}`}>
          Role of {u.username}
        </label>
        <select
          id={`role-${u.user_id}`}
          className={`${inputClass} w-auto`}
          value={u.role}
          disabled={save.isPending || self}
          title={self ? "You cannot change your own role" : undefined}
          onChange={(e) => isRole(e.target.value) && change({ role: e.target.value }, `${u.username} is now ${e.target.value}`)}
        >
          {ROLES.map((r) => (
            <option key={r} value={r}>
              {ROLE_LABELS[r]}
            </option>
          ))}
        </select>
        {u.project_roles && Object.keys(u.project_roles).length > 0 ? (
          <span className="mt-1 block text-xs text-slate-600 dark:text-slate-400">
            {Object.entries(u.project_roles)
              .map(([p, r]) => `${p}: ${r}`)
              .join(", ")}
          </span>
        ) : null}
      </td>
      <td className="py-2 pr-3 text-xs">{(u.groups ?? []).join(", ") || "—"}</td>
      <td className="py-2 pr-3">
        <Time iso={u.created_at} relative />
      </td>
      <td className="py-2 pr-3">{u.last_login_at ? <Time iso={u.last_login_at} relative /> : "never"}</td>
      <td className="py-2 pr-3">{u.disabled ? <span className="font-medium text-red-700 dark:text-red-400">disabled</span> : "active"}</td>
      <td className="py-2 text-right">
        {self ? null : u.disabled ? (
          <Button size="sm" onClick={() => change({ disabled: false }, `${u.username} is enabled`)} disabled={save.isPending}>
            Enable<span className="sr-only"> {u.username}</span>
          </Button>
        ) : (
          <Button size="sm" variant="danger" onClick={onDisable} disabled={save.isPending}>
            Disable<span className="sr-only"> {u.username}</span>
          </Button>
        )}
      </td>
    </tr>
  );
}

/** Local users (admin): list, create, change role, disable. */
export function UsersView() {
  const users = useUsers();
  const me = useMe();
  const save = useSaveUser();
  const toast = useToast();
  const [target, setTarget] = useState<UserRead | null>(null);
  return (
    <>
      <PageHeader title="Users" subtitle="People who sign in with a username and password. Their role holds on every project; project roles add to it." />
      <Card title="New user" className="mb-4">
        <CreateUserForm />
      </Card>
      <Card>
        {users.isError ? <ErrorBox error={users.error} title="Could not load the users" /> : null}
        {users.isPending ? <Loading /> : null}
        {users.data && users.data.length === 0 ? <Empty>No local users.</Empty> : null}
        {users.data && users.data.length > 0 ? (
          <div className="overflow-x-auto">
            <table className="w-full text-left text-sm">
              <caption className="sr-only">Users</caption>
              <thead className="border-b border-slate-200 text-xs text-slate-600 uppercase dark:border-slate-700 dark:text-slate-400">
                <tr>
                  <th scope="col" className="py-2 pr-3">User</th>
                  <th scope="col" className="py-2 pr-3">Role</th>
                  <th scope="col" className="py-2 pr-3">Groups</th>
                  <th scope="col" className="py-2 pr-3">Created</th>
                  <th scope="col" className="py-2 pr-3">Last sign-in</th>
                  <th scope="col" className="py-2 pr-3">State</th>
                  <th scope="col" className="py-2"><span className="sr-only">Actions</span></th>
                </tr>
              </thead>
              <tbody className="divide-y divide-slate-100 dark:divide-slate-800">
                {users.data.map((u) => (
                  <UserRow key={u.user_id} user={u} self={me.data?.kind === "user" && me.data.name === u.username} onDisable={() => setTarget(u)} />
                ))}
              </tbody>
            </table>
          </div>
        ) : null}
      </Card>
      <ConfirmDialog
        open={target !== null}
        title="Disable this user?"
        message={`${target?.username ?? ""} can no longer sign in, and their sessions stop working. You can enable them again.`}
        confirmLabel="Disable"
        busy={save.isPending}
        onCancel={() => setTarget(null)}
        onConfirm={() =>
          target &&
          save.mutate(
            { userId: target.user_id, changes: { disabled: true } },
            {
              onSuccess: () => toast.show("success", `${target.username} is disabled`),
              onError: (e) => toast.show("error", errorMessage(e)),
              onSettled: () => setTarget(null),
            },
          )
        }
      />
    </>
  );
}
