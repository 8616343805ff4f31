import { useMutation } from "@tanstack/react-query";
import { api, unwrap } from "@/lib/api/client";

/** Sends a test alert on each of the rule's channels now; says how each went (operator). */
export function useTestAlertRule() {
  return useMutation({
    mutationFn: (ruleId: string) => unwrap(api.POST("/api/alert-rules/{rule_id}/test", { params: { path: { rule_id: ruleId } } })),
  });
}
