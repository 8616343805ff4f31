"use client";

import { useQuery } from "@tanstack/react-query";
import { api, unwrap } from "@/lib/api/client";
import type { Diagnostic } from "@/lib/api/errors";
import { useDebouncedValue } from "./useDebouncedValue";

/**
 * The server compiler's diagnostics for the document being edited, re-checked a
 * moment after typing stops (nothing is saved). Null while the text is not JSON.
 */
export function useServerDiagnostics(text: string, enabled = true) {
  const settled = useDebouncedValue(text, 500);
  let doc: unknown = undefined;
  try {
    doc = JSON.parse(settled);
  } catch {
    doc = undefined;
  }
  const query = useQuery({
    queryKey: ["validate", settled],
    enabled: enabled && doc !== undefined,
    staleTime: Infinity,
    gcTime: 60_000,
    retry: false,
    queryFn: () => unwrap(api.POST("/api/procedures/validate", { body: { ckp_json: doc, scopes_for: [] } })),
  });
  const diagnostics: Diagnostic[] = query.data?.diagnostics ?? [];
  return {
    diagnostics,
    valid: query.data?.valid ?? null,
    checking: query.isFetching || settled !== text,
    checkedText: query.data ? settled : null,
    error: query.error,
  };
}
