import type { Role } from "@/lib/api/models";

export interface NavItem {
  href: string;
  label: string;
  /** The least role that may use the page (its route's GET role); the entry is hidden below it. */
  role: Role;
}

export const NAV: readonly NavItem[] = [
  { href: "/", label: "Dashboard", role: "viewer" },
  { href: "/procedures", label: "Procedures", role: "viewer" },
  { href: "/runs", label: "Runs", role: "viewer" },
  { href: "/approvals", label: "Approvals", role: "viewer" },
  { href: "/triggers", label: "Triggers", role: "viewer" },
  { href: "/alerts", label: "Alerts", role: "viewer" },
  { href: "/agents", label: "Agents", role: "viewer" },
  { href: "/projects", label: "Projects", role: "viewer" },
  { href: "/leases", label: "Leases", role: "viewer" },
  { href: "/secrets", label: "Secrets", role: "author" },
  { href: "/audit", label: "Audit log", role: "admin" },
  { href: "/settings/users", label: "Users", role: "admin" },
  { href: "/settings/keys", label: "API keys", role: "admin" },
];

/** The entries `allowed` lets through (a role check such as useCan().canAnywhere). */
export function visibleNav(allowed: (role: Role) => boolean): NavItem[] {
  return NAV.filter((item) => item.role === "viewer" || allowed(item.role));
}

export function isActive(pathname: string, href: string): boolean {
  const path = pathname.replace(/\/+$/, "").replace(/\.html$/, "") || "/";
  return href === "/" ? path === "/" : path === href || path.startsWith(`${href}/`);
}
