import { useMutation, useQueryClient } from "@tanstack/react-query";
import { api, unwrap } from "@/lib/api/client";
import { keys } from "@/lib/api/keys";
import type { ApprovalRead } from "@/lib/api/models";

export interface Decision {
  approvalId: string;
  decision: string;
  comment: string;
  payload?: unknown;
}

/**
 * Approve / reject / pick an option / provide input; the server resumes the run.
 * `on` callbacks run before the approval lists refresh and even when the deciding
 * component has gone by then (a pending-only list drops the item it decided).
 */
export function useDecideApproval(on: { onSuccess?: (approval: ApprovalRead, d: Decision) => void; onError?: (error: unknown) => void } = {}) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (d: Decision) =>
      unwrap(
        api.POST("/api/approvals/{approval_id}/decision", {
          params: { path: { approval_id: d.approvalId } },
          body: { decision: d.decision, comment: d.comment || null, payload: d.payload ?? null },
        }),
      ),
    onSuccess: on.onSuccess,
    onError: on.onError,
    onSettled: () => Promise.all([client.invalidateQueries({ queryKey: keys.approvals }), client.invalidateQueries({ queryKey: keys.runs })]),
  });
}
