import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { api, unwrapPage } from "@/lib/api/client";
import { keys } from "@/lib/api/keys";

export interface ApprovalFilters {
  status?: string;
  run_id?: string;
  limit: number;
  offset: number;
}

/** The inbox: pending first, then newest. Kept live by useApprovalStream. */
export function useApprovals(filters: ApprovalFilters) {
  return useQuery({
    queryKey: keys.approvalList(filters),
    placeholderData: keepPreviousData,
    refetchInterval: 30_000,
    queryFn: () =>
      unwrapPage(
        api.GET("/api/approvals", {
          params: {
            query: {
              status: filters.status || undefined,
              run_id: filters.run_id || undefined,
              limit: filters.limit,
              offset: filters.offset,
            },
          },
        }),
      ),
  });
}
