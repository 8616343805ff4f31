import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { api, unwrapPage } from "@/lib/api/client";
import { keys } from "@/lib/api/keys";
import type { TriggerType } from "@/lib/api/models";

export interface TriggerFilters {
  procedure_id?: string;
  trigger_type?: TriggerType | "";
  enabled?: boolean | null;
}

/** Trigger registrations (viewer), refreshed every 15 s: next and last fires move by themselves. */
export function useTriggers(filters: TriggerFilters = {}) {
  return useQuery({
    queryKey: keys.triggerList(filters),
    placeholderData: keepPreviousData,
    refetchInterval: 15_000,
    queryFn: () =>
      unwrapPage(
        api.GET("/api/triggers", {
          params: {
            query: {
              procedure_id: filters.procedure_id || undefined,
              trigger_type: filters.trigger_type || undefined,
              enabled: filters.enabled ?? undefined,
              limit: 500,
            },
          },
        }),
      ),
  });
}
