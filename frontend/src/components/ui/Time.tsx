import { formatRelative, formatTime, fullTime } from "@/lib/format/format";

/**
 * A timestamp shown whole (never cut off: it wraps where it must), local time or
 * relative; the tooltip has the exact ISO time (and the local time for a relative one).
 */
export function Time({ iso, relative = false }: { iso: string | null | undefined; relative?: boolean }) {
  if (!iso) return <span>—</span>;
  const exact = fullTime(iso);
  return (
    <time dateTime={exact || iso} title={relative ? `${formatTime(iso)} (${exact})` : exact}>
      {relative ? formatRelative(iso) : formatTime(iso)}
    </time>
  );
}
