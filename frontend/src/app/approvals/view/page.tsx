import type { Metadata } from "next";
import { Suspense } from "react";
import { ApprovalView } from "@/components/approvals/ApprovalView";

export const metadata: Metadata = { title: "Approval" };

export default function ApprovalPage() {
  return (
    <Suspense>
      <ApprovalView />
    </Suspense>
  );
}
