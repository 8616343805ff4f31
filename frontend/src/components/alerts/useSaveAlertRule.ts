import { useMutation, useQueryClient } from "@tanstack/react-query";
import { api, unwrap } from "@/lib/api/client";
import { alertKeys, type AlertRuleCreate, type AlertRuleRead, type AlertRuleUpdate } from "./types";

/** Creates a rule, or changes the fields sent of `ruleId`'s (operator). */
export function useSaveAlertRule() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (v: { ruleId: string; update: AlertRuleUpdate } | { ruleId?: undefined; create: AlertRuleCreate }): Promise<AlertRuleRead> =>
      v.ruleId !== undefined
        ? unwrap(api.PATCH("/api/alert-rules/{rule_id}", { params: { path: { rule_id: v.ruleId } }, body: v.update }))
        : unwrap(api.POST("/api/alert-rules", { body: v.create })),
    onSuccess: () => client.invalidateQueries({ queryKey: alertKeys.rules }),
  });
}
