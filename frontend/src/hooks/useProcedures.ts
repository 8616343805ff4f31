import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { api, unwrapPage } from "@/lib/api/client";
import { keys } from "@/lib/api/keys";
import type { ProcedureStatus } from "@/lib/api/models";

export interface ProcedureFilters {
  search?: string;
  status?: ProcedureStatus | "";
  project_id?: string;
  tags?: string;
  limit: number;
  offset: number;
}

export function useProcedures(filters: ProcedureFilters) {
  return useQuery({
    queryKey: keys.procedureList(filters),
    placeholderData: keepPreviousData,
    queryFn: () =>
      unwrapPage(
        api.GET("/api/procedures", {
          params: {
            query: {
              search: filters.search || undefined,
              status: filters.status || undefined,
              project_id: filters.project_id || undefined,
              tags: filters.tags || undefined,
              limit: filters.limit,
              offset: filters.offset,
            },
          },
        }),
      ),
  });
}
