import type { Metadata } from "next";
import { Suspense } from "react";
import { AuditView } from "@/components/audit/AuditView";
import { RequireRole } from "@/components/auth/RequireRole";

export const metadata: Metadata = { title: "Audit log" };

export default function AuditPage() {
  return (
    <Suspense>
      <RequireRole role="admin" title="Audit log">
        <AuditView />
      </RequireRole>
    </Suspense>
  );
}
