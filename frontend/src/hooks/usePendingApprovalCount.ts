"use client";

import { useApprovals } from "./useApprovals";

/** Pending approvals (for the sidebar badge); kept fresh by the shell's approvals stream. */
export function usePendingApprovalCount(): number {
  const pending = useApprovals({ status: "pending", limit: 1, offset: 0 });
  return pending.data?.total ?? 0;
}
