import { useMutation, useQueryClient } from "@tanstack/react-query";
import { api, unwrap } from "@/lib/api/client";
import { keys } from "@/lib/api/keys";

export function useStartRun() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (body: {
      procedure_id: string;
      procedure_version?: string | null;
      input_vars: Record<string, unknown>;
      project_id?: string | null;
      /** production | dry_run | test; null: the procedure's default. */
      mode?: "production" | "dry_run" | "test" | null;
    }) =>
      unwrap(api.POST("/api/runs", { body })),
    onSuccess: () => client.invalidateQueries({ queryKey: keys.runs }),
  });
}
