import { useMutation, useQueryClient } from "@tanstack/react-query";
import { api, unwrap } from "@/lib/api/client";
import { alertKeys } from "./types";

/** Removes a rule and its delivery history (operator). */
export function useDeleteAlertRule() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (ruleId: string) => unwrap(api.DELETE("/api/alert-rules/{rule_id}", { params: { path: { rule_id: ruleId } } })),
    onSuccess: () => client.invalidateQueries({ queryKey: alertKeys.all }),
  });
}
