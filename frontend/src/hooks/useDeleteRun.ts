import { useMutation, useQueryClient } from "@tanstack/react-query";
import { api, unwrap } from "@/lib/api/client";
import { keys } from "@/lib/api/keys";

export function useDeleteRun() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (runId: string) => unwrap(api.DELETE("/api/runs/{run_id}", { params: { path: { run_id: runId } } })),
    onSettled: () => client.invalidateQueries({ queryKey: keys.runs }),
  });
}
