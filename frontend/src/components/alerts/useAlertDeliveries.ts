import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { api, unwrapPage } from "@/lib/api/client";
import { alertKeys, type DeliveryStatus } from "./types";

export interface DeliveryFilters {
  run_id?: string;
  rule_id?: string;
  status?: DeliveryStatus | "";
  limit: number;
  offset: number;
}

/**
 * A page of alert deliveries, newest first (viewer): refreshed every 2 s while one is
 * pending or being sent, else every 10 s (new alerts arrive by themselves).
 */
export function useAlertDeliveries(filters: DeliveryFilters) {
  return useQuery({
    queryKey: alertKeys.deliveryList(filters),
    placeholderData: keepPreviousData,
    refetchInterval: (q) => ((q.state.data?.items ?? []).some((d) => d.status === "pending" || d.status === "sending") ? 2000 : 10_000),
    queryFn: () =>
      unwrapPage(
        api.GET("/api/alert-deliveries", {
          params: {
            query: {
              run_id: filters.run_id || undefined,
              rule_id: filters.rule_id || undefined,
              status: filters.status || undefined,
              limit: filters.limit,
              offset: filters.offset,
            },
          },
        }),
      ),
  });
}
