"use client";

import type { ReactNode } from "react";
import { ErrorBox } from "@/components/ui/ErrorBox";
import { Loading, PageHeader } from "@/components/ui/Page";
import { useCan } from "@/hooks/useCan";
import { useMe } from "@/hooks/useMe";
import type { Role } from "@/lib/api/models";
import { ROLE_LABELS, roleLabel } from "@/lib/auth/roles";

/**
 * A page only `role` (globally or in some project) may use: below it, a sentence saying
 * so instead of a page of forms the server would refuse.
 */
export function RequireRole({ role, title, children }: { role: Role; title: string; children: ReactNode }) {
  const me = useMe();
  const perms = useCan();
  if (me.isPending) return <Loading />;
  if (me.isError) return <ErrorBox error={me.error} />;
  if (!perms.canAnywhere(role)) {
    return (
      <>
        <PageHeader title={title} />
        <p className="text-sm" data-testid="role-required">
          This page needs the {ROLE_LABELS[role].toLowerCase()} role; you are signed in as{" "}
          {perms.me ? `${perms.me.name} (${roleLabel(perms.me.role).toLowerCase()})` : "nobody"}.
        </p>
      </>
    );
  }
  return <>{children}</>;
}
