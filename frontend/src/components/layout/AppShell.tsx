"use client";

import Link from "next/link";
import { usePathname } from "next/navigation";
import type { ReactNode } from "react";
import { useApprovalStream } from "@/hooks/useApprovalStream";
import { useCan } from "@/hooks/useCan";
import { usePendingApprovalCount } from "@/hooks/usePendingApprovalCount";
import { isLoginPath } from "@/lib/api/session";
import { ApprovalsLiveContext } from "./live-context";
import { isActive, visibleNav } from "./nav";
import { ThemeToggle } from "./ThemeToggle";
import { UserBox } from "./UserBox";

/** The login page stands alone: no navigation, no live streams, nothing that needs a session. */
export function AppShell({ children }: { children: ReactNode }) {
  const pathname = usePathname();
  if (isLoginPath(pathname)) {
    return (
      <main id="main" className="min-h-screen px-4 py-6">
        {children}
      </main>
    );
  }
  return <SignedInShell pathname={pathname}>{children}</SignedInShell>;
}

function SignedInShell({ pathname, children }: { pathname: string; children: ReactNode }) {
  const live = useApprovalStream();
  const pending = usePendingApprovalCount();
  const perms = useCan();
  const nav = visibleNav(perms.canAnywhere);
  const me = perms.me;
  return (
    <ApprovalsLiveContext.Provider value={live}>
    <div className="flex min-h-screen flex-col md:flex-row">
      <a
        href="#main"
        className="sr-only z-50 rounded bg-blue-700 px-3 py-2 text-white focus:not-sr-only focus:absolute focus:top-2 focus:left-2"
      >
        Skip to content
      </a>
      <aside className="flex shrink-0 flex-col bg-slate-900 text-slate-100 md:sticky md:top-0 md:h-screen md:w-56">
        <div className="px-4 py-4">
          <Link href="/" className="text-lg font-bold tracking-tight text-white">
            LangOrch
          </Link>
          <p className="text-xs text-slate-400">Procedure operations</p>
        </div>
        <nav aria-label="Main" className="flex-1 overflow-y-auto px-2">
          <ul className="flex flex-row flex-wrap gap-1 md:flex-col">
            {nav.map((item) => {
              const active = isActive(pathname, item.href);
              return (
                <li key={item.href}>
                  <Link
                    href={item.href}
                    aria-current={active ? "page" : undefined}
                    className={`flex items-center justify-between rounded-md px-3 py-2 text-sm ${
                      active ? "bg-slate-700 font-semibold text-white" : "text-slate-200 hover:bg-slate-800"
                    }`}
                  >
                    {item.label}
                    {item.href === "/approvals" && pending > 0 ? (
                      <span
                        className="ml-2 rounded-full bg-amber-400 px-2 text-xs font-bold text-slate-900"
                        aria-label={`${String(pending)} pending`}
                        data-testid="pending-approvals-badge"
                      >
                        {pending}
                      </span>
                    ) : null}
                  </Link>
                </li>
              );
            })}
          </ul>
        </nav>
        <div className="flex flex-col gap-1 border-t border-slate-800 p-2">
          {me ? <UserBox me={me} /> : null}
          <ThemeToggle />
        </div>
      </aside>
      <main id="main" className="min-w-0 flex-1 px-4 py-6 md:px-8">
        {me?.must_change_password && !isActive(pathname, "/account") ? (
          <p role="status" className="mb-4 rounded-md border border-amber-300 bg-amber-50 p-3 text-sm text-amber-950 dark:border-amber-700 dark:bg-amber-950 dark:text-amber-100">
            You signed in with a one-time password.{" "}
            <Link href="/account?change=1" className="font-medium underline underline-offset-2">
              Change your password
            </Link>
            .
          </p>
        ) : null}
        {children}
      </main>
    </div>
    </ApprovalsLiveContext.Provider>
  );
}
