import type { AuditQuery } from "@/lib/api/models";

export const AUDIT_FILTERS = ["actor", "action", "subject_type", "subject_id", "since", "until"] as const;
export type AuditFilterName = (typeof AUDIT_FILTERS)[number];

/** The audit query a page's address asks for (empty values dropped). */
export function auditQuery(params: URLSearchParams, limit: number, offset: number): AuditQuery {
  const query: AuditQuery = { limit, offset };
  for (const name of AUDIT_FILTERS) {
    const value = params.get(name)?.trim();
    if (value) query[name] = value;
  }
  return query;
}

/** The same filters for the JSON-lines export (no paging: every matching entry). */
export function exportQuery(query: AuditQuery): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of AUDIT_FILTERS) {
    const value = query[name];
    if (value) out[name] = value;
  }
  return out;
}
