import { useMutation, useQueryClient } from "@tanstack/react-query";
import { api, unwrap } from "@/lib/api/client";
import { keys } from "@/lib/api/keys";
import type { components } from "@/lib/api/schema";

/** The create body with the change note (ProcedureCreate.change_note, newer than the generated types may be). */
type DraftBody = components["schemas"]["ProcedureCreate"] & { change_note?: string | null };

/** A builder save: a new version of the document, stored as a draft with its change note. */
export function useSaveDraft() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (input: { ckp_json: Record<string, unknown>; project_id: string | null; change_note: string }) => {
      const body: DraftBody = {
        ckp_json: input.ckp_json,
        project_id: input.project_id,
        status: "draft",
        change_note: input.change_note.trim() || null,
      };
      return unwrap(api.POST("/api/procedures", { body }));
    },
    onSuccess: () => client.invalidateQueries({ queryKey: keys.procedures }),
  });
}
