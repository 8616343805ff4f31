/** IANA timezones: the browser's list for the picker, and wall-clock ↔ instant arithmetic in a zone. */

/** Every IANA zone the browser knows (Intl.supportedValuesOf), with UTC first. */
export function timezones(): string[] {
  let list: string[] = [];
  try {
    list = Intl.supportedValuesOf("timeZone");
  } catch {
    list = [];
  }
  return ["UTC", ...list.filter((z) => z !== "UTC")];
}

/** Whether `name` is a timezone this browser can compute in. */
export function isTimezone(name: string): boolean {
  if (name.trim() === "") return false;
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

/** The browser's own zone (UTC when it cannot tell). */
export function localTimezone(): string {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  } catch {
    return "UTC";
  }
}

interface Wall {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

function wallOf(instant: number, zone: string): Wall {
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone: zone,
    hourCycle: "h23",
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
  }).formatToParts(new Date(instant));
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? "0");
  return { year: get("year"), month: get("month"), day: get("day"), hour: get("hour"), minute: get("minute"), second: get("second") };
}

function wallMs(w: Wall): number {
  return Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);
}

/** The zone's offset from UTC at `instant`, in milliseconds (Berlin in summer: +7 200 000). */
export function offsetAt(instant: number, zone: string): number {
  return wallMs(wallOf(instant, zone)) - Math.floor(instant / 1000) * 1000;
}

const LOCAL_PATTERN = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/;

/**
 * The instant (UTC ISO) of a wall-clock time `local` ("2027-03-28T02:30", as a
 * datetime-local field gives it) in `zone`; null when it is not such a time. A time the
 * clocks skip lands after the gap and a repeated one takes its first occurrence, as the
 * server's schedules do.
 */
export function wallToUtc(local: string, zone: string): string | null {
  const m = LOCAL_PATTERN.exec(local.trim());
  if (!m) return null;
  const [, y, mo, d, h, mi, s] = m;
  const guess = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s ?? "0"));
  if (Number.isNaN(guess)) return null;
  // The offsets in force half a day before and after; a candidate is real when the zone
  // agrees with it at that instant. Both real: a repeated time, take the first. Neither: a
  // skipped time, which the offset before the gap carries past it (fold=0).
  const before = offsetAt(guess - 43_200_000, zone);
  const after = offsetAt(guess + 43_200_000, zone);
  const real = [guess - before, guess - after].filter((c) => wallMs(wallOf(c, zone)) === guess);
  const instant = real.length > 0 ? Math.min(...real) : guess - before;
  return new Date(instant).toISOString().replace(".000Z", "Z");
}

/** The wall-clock time ("2027-03-28T03:30") of the instant `iso` in `zone`, for a datetime-local field. */
export function utcToWall(iso: string, zone: string): string {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return "";
  const w = wallOf(t, zone);
  const two = (n: number) => String(n).padStart(2, "0");
  return `${String(w.year)}-${two(w.month)}-${two(w.day)}T${two(w.hour)}:${two(w.minute)}`;
}

/** An instant as people read it in `zone`: "Mon, 7 Dec 2026, 14:05 CET". */
export function formatInZone(iso: string, zone: string, locale?: string): string {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return iso;
  try {
    return new Intl.DateTimeFormat(locale, {
      timeZone: zone,
      weekday: "short",
      year: "numeric",
      month: "short",
      day: "numeric",
      hour: "2-digit",
      minute: "2-digit",
      hourCycle: "h23",
      timeZoneName: "short",
    }).format(new Date(t));
  } catch {
    return iso;
  }
}
