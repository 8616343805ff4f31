"use client";

import Link from "next/link";
import { useLogout } from "@/hooks/useLogout";
import type { Me } from "@/lib/api/models";
import { roleLabel } from "@/lib/auth/roles";

/** The signed-in user's name and role, their account page and Sign out (none with authentication off). */
export function UserBox({ me }: { me: Me }) {
  const logout = useLogout();
  return (
    <div className="flex flex-col gap-1 px-1" data-testid="user-box">
      <Link href="/account" className="rounded-md px-2 py-1 text-sm text-slate-100 hover:bg-slate-800">
        <span className="block truncate font-medium" data-testid="user-name">
          {me.name}
        </span>
        <span className="block text-xs text-slate-400" data-testid="user-role" data-role={me.role ?? ""}>
          {roleLabel(me.role)}
        </span>
      </Link>
      {me.kind === "anonymous" ? (
        <p className="px-2 text-xs text-slate-400" data-testid="auth-off">
          Authentication is off
        </p>
      ) : (
      <button
        type="button"
        onClick={() => logout.mutate()}
        disabled={logout.isPending}
        className="rounded-md px-2 py-1 text-left text-sm text-slate-200 hover:bg-slate-800"
        data-testid="sign-out"
      >
        {logout.isPending ? "Signing out…" : "Sign out"}
      </button>
      )}
    </div>
  );
}
