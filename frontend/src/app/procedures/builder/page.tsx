import type { Metadata } from "next";
import { Suspense } from "react";
import { RequireRole } from "@/components/auth/RequireRole";
import { BuilderView } from "@/components/builder/BuilderView";

export const metadata: Metadata = { title: "Procedure builder" };

export default function BuilderPage() {
  return (
    <Suspense>
      <RequireRole role="author" title="Procedure builder">
        <BuilderView />
      </RequireRole>
    </Suspense>
  );
}
