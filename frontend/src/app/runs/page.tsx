import type { Metadata } from "next";
import { Suspense } from "react";
import { RunListView } from "@/components/runs/RunListView";

export const metadata: Metadata = { title: "Runs" };

export default function RunsPage() {
  return (
    <Suspense>
      <RunListView />
    </Suspense>
  );
}
