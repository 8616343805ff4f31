/** An approval still pending after its expires_at is overdue (the expiry loop has not applied the timeout yet, or it escalates). */
export function isOverdue(a: { status: string; expires_at?: string | null }, now = Date.now()): boolean {
  if (a.status !== "pending" || !a.expires_at) return false;
  const t = Date.parse(a.expires_at);
  return Number.isFinite(t) && t < now;
}

/** Due within the next hour. */
export function isDueSoon(a: { status: string; expires_at?: string | null }, now = Date.now()): boolean {
  if (a.status !== "pending" || !a.expires_at) return false;
  const t = Date.parse(a.expires_at);
  return Number.isFinite(t) && t >= now && t - now < 3600_000;
}
