/**
 * Roles and what they may do, as the server decides it (backend/langorch/auth/policy.py):
 * viewer < approver < author < operator < admin, globally or per project; on a resource
 * of a project the higher of the global role and the project's role counts. The UI hides
 * an action below its route's role; the server still refuses it (403) either way.
 */
import type { Me, Role } from "@/lib/api/models";
import type { RunMode } from "@/lib/format/labels";

export const ROLES: readonly Role[] = ["viewer", "approver", "author", "operator", "admin"];

export const ROLE_LABELS: Readonly<Record<Role, string>> = {
  viewer: "Viewer",
  approver: "Approver",
  author: "Author",
  operator: "Operator",
  admin: "Admin",
};

export const ROLE_HELP: Readonly<Record<Role, string>> = {
  viewer: "reads everything, changes nothing",
  approver: "also decides approvals",
  author: "also imports and edits procedures and starts test and dry runs",
  operator: "also starts production runs, cancels, retries and deletes runs, manages agents, leases and secrets",
  admin: "also manages projects, users, API keys and reads the audit log",
};

export function isRole(value: unknown): value is Role {
  return typeof value === "string" && (ROLES as readonly string[]).includes(value);
}

/** "Operator"; "no role" for none; an unknown name as it is. */
export function roleLabel(role: string | null | undefined): string {
  if (!role) return "No global role";
  return isRole(role) ? ROLE_LABELS[role] : role;
}

/** The role's place in the order (viewer 0 … admin 4); -1 for an unknown name. */
export function roleRank(role: string | null | undefined): number {
  return role ? (ROLES as readonly string[]).indexOf(role) : -1;
}

/**
 * Who the UI acts for: the signed-in identity, or `null` when the server runs without
 * authentication (then nothing is hidden, as the server refuses nothing).
 */
export type Viewer = Pick<Me, "role" | "project_roles"> | null;

/** The role that counts on a resource: the higher of the global role and its project's (null: none). */
export function effectiveRole(me: Pick<Me, "role" | "project_roles">, projectId?: string | null): Role | null {
  const projectRole = projectId ? me.project_roles?.[projectId] : undefined;
  if (projectRole && roleRank(projectRole) > roleRank(me.role)) return projectRole;
  return me.role;
}

/** Whether `me` holds at least `needed` (on `projectId`'s resources, when given). */
export function can(me: Viewer, needed: Role, projectId?: string | null): boolean {
  if (me === null) return true;
  return roleRank(effectiveRole(me, projectId)) >= roleRank(needed);
}

/**
 * Whether `me` holds `needed` anywhere (globally or in any project): for pages and
 * actions not tied to one resource yet, such as the import page before a project is chosen.
 */
export function canAnywhere(me: Viewer, needed: Role): boolean {
  if (me === null) return true;
  if (can(me, needed)) return true;
  return Object.values(me.project_roles ?? {}).some((r) => roleRank(r) >= roleRank(needed));
}

/** The role starting a run in `mode` needs: author for test and dry runs, operator for production. */
export function runModeRole(mode: RunMode): Role {
  return mode === "production" ? "operator" : "author";
}

/** The run modes `me` may start on `projectId`'s procedures, in the given order. */
export function allowedRunModes(me: Viewer, modes: readonly RunMode[], projectId?: string | null): RunMode[] {
  return modes.filter((m) => can(me, runModeRole(m), projectId));
}
