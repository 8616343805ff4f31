import { useMutation, useQueryClient } from "@tanstack/react-query";
import { api, unwrap } from "@/lib/api/client";

export function useReleaseLease() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (leaseId: string) => unwrap(api.DELETE("/api/leases/{lease_id}", { params: { path: { lease_id: leaseId } } })),
    onSuccess: () => client.invalidateQueries({ queryKey: ["leases"] }),
  });
}
