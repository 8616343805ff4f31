import { useMutation, useQueryClient } from "@tanstack/react-query";
import { api, unwrap } from "@/lib/api/client";
import { keys } from "@/lib/api/keys";

export function useDeleteSecret() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (secretId: string) => unwrap(api.DELETE("/api/secrets/{secret_id}", { params: { path: { secret_id: secretId } } })),
    onSuccess: () => client.invalidateQueries({ queryKey: keys.secrets }),
  });
}
