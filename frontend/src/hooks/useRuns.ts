import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { api, unwrapPage } from "@/lib/api/client";
import { keys } from "@/lib/api/keys";

export interface RunFilters {
  status?: string;
  procedure_id?: string;
  project_id?: string;
  created_after?: string | null;
  created_before?: string | null;
  search?: string;
  limit: number;
  offset: number;
}

/** A page of runs, newest first; refreshed every few seconds while any listed run is active. */
export function useRuns(filters: RunFilters) {
  return useQuery({
    queryKey: keys.runList(filters),
    placeholderData: keepPreviousData,
    refetchInterval: (q) =>
      (q.state.data?.items ?? []).some((r) => r.status === "queued" || r.status === "running") ? 3000 : 15_000,
    queryFn: () =>
      unwrapPage(
        api.GET("/api/runs", {
          params: {
            query: {
              status: filters.status || undefined,
              procedure_id: filters.procedure_id || undefined,
              project_id: filters.project_id || undefined,
              created_after: filters.created_after ?? undefined,
              created_before: filters.created_before ?? undefined,
              search: filters.search || undefined,
              limit: filters.limit,
              offset: filters.offset,
            },
          },
        }),
      ),
  });
}
