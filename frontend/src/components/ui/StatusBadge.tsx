const TONES: Record<string, string> = {
  queued: "bg-slate-200 text-slate-800 dark:bg-slate-700 dark:text-slate-100",
  running: "bg-blue-100 text-blue-900 dark:bg-blue-900 dark:text-blue-100",
  waiting_approval: "bg-amber-100 text-amber-900 dark:bg-amber-900 dark:text-amber-100",
  completed: "bg-green-100 text-green-900 dark:bg-green-900 dark:text-green-100",
  failed: "bg-red-100 text-red-900 dark:bg-red-900 dark:text-red-100",
  canceled: "bg-slate-300 text-slate-800 dark:bg-slate-600 dark:text-slate-100",
  cancelled: "bg-slate-300 text-slate-800 dark:bg-slate-600 dark:text-slate-100",
  pending: "bg-amber-100 text-amber-900 dark:bg-amber-900 dark:text-amber-100",
  approved: "bg-green-100 text-green-900 dark:bg-green-900 dark:text-green-100",
  rejected: "bg-red-100 text-red-900 dark:bg-red-900 dark:text-red-100",
  expired: "bg-slate-300 text-slate-800 dark:bg-slate-600 dark:text-slate-100",
  timed_out: "bg-slate-300 text-slate-800 dark:bg-slate-600 dark:text-slate-100",
  draft: "bg-slate-200 text-slate-800 dark:bg-slate-700 dark:text-slate-100",
  active: "bg-green-100 text-green-900 dark:bg-green-900 dark:text-green-100",
  deprecated: "bg-amber-100 text-amber-900 dark:bg-amber-900 dark:text-amber-100",
  archived: "bg-slate-300 text-slate-800 dark:bg-slate-600 dark:text-slate-100",
  online: "bg-green-100 text-green-900 dark:bg-green-900 dark:text-green-100",
  offline: "bg-slate-300 text-slate-800 dark:bg-slate-600 dark:text-slate-100",
  degraded: "bg-amber-100 text-amber-900 dark:bg-amber-900 dark:text-amber-100",
  disabled: "bg-slate-300 text-slate-800 dark:bg-slate-600 dark:text-slate-100",
  closed: "bg-green-100 text-green-900 dark:bg-green-900 dark:text-green-100",
  open: "bg-red-100 text-red-900 dark:bg-red-900 dark:text-red-100",
  half_open: "bg-amber-100 text-amber-900 dark:bg-amber-900 dark:text-amber-100",
  error: "bg-red-100 text-red-900 dark:bg-red-900 dark:text-red-100",
  warning: "bg-amber-100 text-amber-900 dark:bg-amber-900 dark:text-amber-100",
  info: "bg-slate-200 text-slate-800 dark:bg-slate-700 dark:text-slate-100",
  test: "bg-teal-100 text-teal-900 dark:bg-teal-900 dark:text-teal-100",
  dry_run: "bg-violet-100 text-violet-900 dark:bg-violet-900 dark:text-violet-100",
};

export function StatusBadge({ status, label }: { status: string | null | undefined; label?: string }) {
  const s = status ?? "unknown";
  const tone = TONES[s] ?? "bg-slate-200 text-slate-800 dark:bg-slate-700 dark:text-slate-100";
  return (
    <span
      className={`inline-flex items-center rounded-full px-2 py-0.5 text-xs font-semibold whitespace-nowrap ${tone}`}
      data-status={s}
    >
      {label ?? s.replace(/_/g, " ")}
    </span>
  );
}
