import type { Metadata } from "next";
import { Suspense } from "react";
import { ProcedureView } from "@/components/procedures/ProcedureView";

export const metadata: Metadata = { title: "Procedure" };

export default function ProcedurePage() {
  return (
    <Suspense>
      <ProcedureView />
    </Suspense>
  );
}
