import { useMutation } from "@tanstack/react-query";
import { api, unwrap } from "@/lib/api/client";

/** GET /api/audit/verify: walks the hash chain and names the first row that breaks it. */
export function useVerifyAudit() {
  return useMutation({ mutationFn: () => unwrap(api.GET("/api/audit/verify")) });
}
