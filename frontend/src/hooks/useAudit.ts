import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { api, unwrapPage } from "@/lib/api/client";
import { keys } from "@/lib/api/keys";
import type { AuditQuery } from "@/lib/api/models";

/** A page of the audit log, newest first, with the total from X-Total-Count (admin). */
export function useAudit(filters: AuditQuery, enabled = true) {
  return useQuery({
    queryKey: keys.auditList(filters),
    enabled,
    placeholderData: keepPreviousData,
    queryFn: () => unwrapPage(api.GET("/api/audit", { params: { query: filters } })),
  });
}
