import { useMutation, useQueryClient } from "@tanstack/react-query";
import { api, unwrap } from "@/lib/api/client";
import { keys } from "@/lib/api/keys";

/** Retries a failed run from its failed node; changed inputs are merged over the old ones. */
export function useRetryRun() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (v: { runId: string; inputVars: Record<string, unknown> | null }) =>
      unwrap(
        api.POST("/api/runs/{run_id}/retry", {
          params: { path: { run_id: v.runId } },
          body: { input_vars: v.inputVars },
        }),
      ),
    onSuccess: () => client.invalidateQueries({ queryKey: keys.runs }),
  });
}
