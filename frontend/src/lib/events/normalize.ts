import type { RunEvent } from "./timeline";

/** A wire event (`event_type`, as the API sends it; `type` in older clients) → the timeline's RunEvent. */
export function normalizeEvent(raw: unknown): RunEvent | null {
  if (typeof raw !== "object" || raw === null) return null;
  const e = raw as Record<string, unknown>;
  const seq = typeof e.seq === "number" ? e.seq : Number(e.seq);
  const type = typeof e.event_type === "string" ? e.event_type : typeof e.type === "string" ? e.type : null;
  if (!Number.isFinite(seq) || type === null) return null;
  return {
    seq,
    type,
    node_id: typeof e.node_id === "string" ? e.node_id : null,
    step_id: typeof e.step_id === "string" ? e.step_id : null,
    payload: e.payload ?? {},
    created_at: typeof e.created_at === "string" ? e.created_at : new Date().toISOString(),
  };
}
