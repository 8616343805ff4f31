import { Button } from "./Button";

export function Pagination({
  offset,
  limit,
  total,
  onChange,
}: {
  offset: number;
  limit: number;
  total: number;
  onChange: (offset: number) => void;
}) {
  const page = Math.floor(offset / limit) + 1;
  const pages = Math.max(1, Math.ceil(total / limit));
  return (
    <nav aria-label="Pagination" className="mt-3 flex items-center justify-between gap-2 text-sm">
      <span className="text-slate-600 dark:text-slate-400">
        {total === 0 ? "No rows" : `${String(offset + 1)}–${String(Math.min(offset + limit, total))} of ${String(total)}`}
      </span>
      <span className="flex items-center gap-2">
        <Button size="sm" onClick={() => onChange(Math.max(0, offset - limit))} disabled={offset === 0}>
          Previous
        </Button>
        <span aria-live="polite">
          Page {page} of {pages}
        </span>
        <Button size="sm" onClick={() => onChange(offset + limit)} disabled={offset + limit >= total}>
          Next
        </Button>
      </span>
    </nav>
  );
}
