import type { Metadata } from "next";
import { Suspense } from "react";
import { ApprovalInbox } from "@/components/approvals/ApprovalInbox";

export const metadata: Metadata = { title: "Approvals" };

export default function ApprovalsPage() {
  return (
    <Suspense>
      <ApprovalInbox />
    </Suspense>
  );
}
