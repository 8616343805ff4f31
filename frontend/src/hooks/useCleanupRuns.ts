import { useMutation, useQueryClient } from "@tanstack/react-query";
import { api, unwrap } from "@/lib/api/client";
import { keys } from "@/lib/api/keys";

/** Deletes finished runs created before a date (with their events, approvals and checkpoints). */
export function useCleanupRuns() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (v: { before: string | null; status: string | null }) =>
      unwrap(api.DELETE("/api/runs/cleanup/history", { params: { query: { before: v.before ?? undefined, status: v.status ?? undefined } } })),
    onSettled: () => client.invalidateQueries({ queryKey: keys.runs }),
  });
}
