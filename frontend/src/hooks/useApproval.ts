import { useQuery } from "@tanstack/react-query";
import { api, unwrap } from "@/lib/api/client";
import { keys } from "@/lib/api/keys";

export function useApproval(approvalId: string) {
  return useQuery({
    queryKey: keys.approval(approvalId),
    enabled: approvalId !== "",
    queryFn: () => unwrap(api.GET("/api/approvals/{approval_id}", { params: { path: { approval_id: approvalId } } })),
  });
}
