import type { Metadata } from "next";
import { Suspense } from "react";
import { RequireRole } from "@/components/auth/RequireRole";
import { ImportView } from "@/components/procedures/ImportView";

export const metadata: Metadata = { title: "Import procedure" };

export default function ImportPage() {
  return (
    <Suspense>
      <RequireRole role="author" title="Import procedure">
        <ImportView />
      </RequireRole>
    </Suspense>
  );
}
