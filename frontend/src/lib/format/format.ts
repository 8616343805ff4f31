/** Display helpers: durations, times, money, tokens. */

export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return "—";
  if (ms < 1000) return `${String(Math.round(ms))} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(s < 10 ? 2 : 1)} s`;
  const m = Math.floor(s / 60);
  const rest = Math.round(s % 60);
  if (m < 60) return `${String(m)}m ${String(rest)}s`;
  const h = Math.floor(m / 60);
  return `${String(h)}h ${String(m % 60)}m`;
}

export function durationBetween(start: string | null | undefined, end: string | null | undefined, now = Date.now()): number | null {
  if (!start) return null;
  const a = Date.parse(start);
  const b = end ? Date.parse(end) : now;
  return Number.isFinite(a) && Number.isFinite(b) ? Math.max(0, b - a) : null;
}

export function formatTime(iso: string | null | undefined): string {
  if (!iso) return "—";
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString();
}

/** The full, unambiguous time for a tooltip: ISO 8601 in UTC (the value as stored). */
export function fullTime(iso: string | null | undefined): string {
  if (!iso) return "";
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toISOString();
}

export function formatRelative(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return "—";
  const t = Date.parse(iso);
  if (!Number.isFinite(t)) return iso;
  const diff = Math.round((t - now) / 1000);
  const abs = Math.abs(diff);
  const unit: [Intl.RelativeTimeFormatUnit, number] =
    abs < 60 ? ["second", diff] : abs < 3600 ? ["minute", Math.round(diff / 60)] : abs < 86400 ? ["hour", Math.round(diff / 3600)] : ["day", Math.round(diff / 86400)];
  return new Intl.RelativeTimeFormat(undefined, { numeric: "auto" }).format(unit[1], unit[0]);
}

/**
 * Money in US dollars with the precision that means something: 0 → "$0", under a cent
 * → 4 significant digits ("$0.001235"; "< $0.000001" below that), otherwise cents
 * with thousands separators ("$0.25", "$1,234.50"). Never "$0.0000".
 */
export function formatCost(usd: number | null | undefined): string {
  if (usd === null || usd === undefined || !Number.isFinite(usd)) return "—";
  if (usd === 0) return "$0";
  if (usd < 0) return `-${formatCost(-usd)}`;
  if (usd < 0.000001) return "< $0.000001";
  if (usd < 0.01) {
    const digits = Math.min(10, 3 - Math.floor(Math.log10(usd)));
    return `$${usd.toFixed(digits).replace(/0+$/, "").replace(/\.$/, "")}`;
  }
  return `$${usd.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
}

const IRREGULAR: Record<string, string> = { entry: "entries", child: "children", person: "people" };

/** The plural of an English noun (or of its last word): run → runs, match → matches, policy → policies. */
export function pluralOf(singular: string): string {
  const m = /^(.*?)([A-Za-z]+)$/.exec(singular);
  if (!m) return singular;
  const [, head = "", word = ""] = m;
  const lower = word.toLowerCase();
  if (lower in IRREGULAR) return head + (IRREGULAR[lower] ?? word);
  if (/(s|x|z|ch|sh)$/.test(lower)) return `${singular}es`;
  if (/[^aeiou]y$/.test(lower)) return `${singular.slice(0, -1)}ies`;
  return `${singular}s`;
}

/**
 * A count with its noun in the right number: 1 run, 2 runs, 0 runs, 1,204 approvals.
 * `plural` overrides the guessed plural form.
 */
export function plural(count: number, singular: string, pluralForm?: string): string {
  const word = count === 1 ? singular : (pluralForm ?? pluralOf(singular));
  return `${count.toLocaleString("en-US")} ${word}`;
}

export function formatNumber(n: number | null | undefined): string {
  if (n === null || n === undefined) return "—";
  return n.toLocaleString();
}

export function shortId(id: string | null | undefined): string {
  if (!id) return "—";
  return id.length > 12 ? id.slice(0, 8) : id;
}

/** Date-time-local input value ↔ ISO string. */
export function toLocalInput(iso: string | null): string {
  if (!iso) return "";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "";
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${String(d.getFullYear())}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

export function fromLocalInput(value: string): string | null {
  if (!value) return null;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}
