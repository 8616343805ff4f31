import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { api, unwrapPage } from "@/lib/api/client";
import { alertKeys } from "./types";

/** Alert rules, newest first (viewer). */
export function useAlertRules() {
  const filters = { limit: 1000 };
  return useQuery({
    queryKey: alertKeys.ruleList(filters),
    placeholderData: keepPreviousData,
    queryFn: () => unwrapPage(api.GET("/api/alert-rules", { params: { query: filters } })),
  });
}
