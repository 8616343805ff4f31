import { formatRelative, formatTime } from "@/lib/format/format";

export function Time({ iso, relative = false }: { iso: string | null | undefined; relative?: boolean }) {
  if (!iso) return <span>—</span>;
  return (
    <time dateTime={iso} title={formatTime(iso)}>
      {relative ? formatRelative(iso) : formatTime(iso)}
    </time>
  );
}
