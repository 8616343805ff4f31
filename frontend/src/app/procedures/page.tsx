import type { Metadata } from "next";
import { Suspense } from "react";
import { ProcedureListView } from "@/components/procedures/ProcedureListView";

export const metadata: Metadata = { title: "Procedures" };

export default function ProceduresPage() {
  return (
    <Suspense>
      <ProcedureListView />
    </Suspense>
  );
}
