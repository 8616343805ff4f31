import type { Metadata } from "next";
import { Suspense } from "react";
import { TriggersView } from "@/components/triggers/TriggersView";

export const metadata: Metadata = { title: "Triggers" };

export default function TriggersPage() {
  return (
    <Suspense>
      <TriggersView />
    </Suspense>
  );
}
