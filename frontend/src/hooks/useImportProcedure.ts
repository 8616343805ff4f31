import { useMutation, useQueryClient } from "@tanstack/react-query";
import { api, unwrap } from "@/lib/api/client";
import { keys } from "@/lib/api/keys";

export function useImportProcedure() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (body: { ckp_json: Record<string, unknown>; project_id: string | null }) =>
      unwrap(api.POST("/api/procedures", { body })),
    onSuccess: () => client.invalidateQueries({ queryKey: keys.procedures }),
  });
}
