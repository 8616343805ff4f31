import { isDueSoon, isOverdue } from "@/lib/format/approvals";

export function DeadlineBadge({ approval, now }: { approval: { status: string; expires_at?: string | null }; now: number }) {
  if (isOverdue(approval, now)) {
    return (
      <span className="rounded-full bg-red-700 px-2 py-0.5 text-xs font-bold text-white" data-testid="overdue-badge">
        ⚠ Overdue
      </span>
    );
  }
  if (isDueSoon(approval, now)) {
    return <span className="rounded-full bg-amber-200 px-2 py-0.5 text-xs font-semibold text-amber-900">Due soon</span>;
  }
  return null;
}
