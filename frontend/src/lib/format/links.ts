/** Query-string routes (the UI is a static export: no dynamic path segments). */
export function procedureHref(procedureId: string, version?: string | null, tab?: string): string {
  const q = new URLSearchParams({ id: procedureId });
  if (version) q.set("version", version);
  if (tab) q.set("tab", tab);
  return `/procedures/view?${q.toString()}`;
}

export function runHref(runId: string, tab?: string): string {
  const q = new URLSearchParams({ id: runId });
  if (tab) q.set("tab", tab);
  return `/runs/view?${q.toString()}`;
}

export function approvalHref(approvalId: string): string {
  return `/approvals/view?${new URLSearchParams({ id: approvalId }).toString()}`;
}
