import type { Metadata } from "next";
import { Suspense } from "react";
import { ImportView } from "@/components/procedures/ImportView";

export const metadata: Metadata = { title: "Import procedure" };

export default function ImportPage() {
  return (
    <Suspense>
      <ImportView />
    </Suspense>
  );
}
