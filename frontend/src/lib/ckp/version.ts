/**
 * New version numbers for a CKP: "Save as new version" on the CKP tab and on the import
 * page after a 409 (that version already exists with other content).
 */
import { pointerSpans } from "./pointer";

const SEMVER = /^([vV]?)(\d+)\.(\d+)\.(\d+)$/;

/** 1.2.3 → 1.2.4 (v1.2.3 → v1.2.4); anything else gets ".1" appended ("1.0" → "1.0.1", "beta" → "beta.1"). */
export function bumpVersion(version: string): string {
  const m = SEMVER.exec(version.trim());
  if (m) return `${m[1] ?? ""}${m[2] ?? "0"}.${m[3] ?? "0"}.${String(Number(m[4]) + 1)}`;
  return `${version}.1`;
}

/**
 * The next version after `version` that is not `taken`: the patch bumped until free for
 * x.y.z; ".1", ".2", … appended otherwise.
 */
export function nextFreeVersion(version: string, taken: Iterable<string> = []): string {
  const used = new Set(taken);
  if (SEMVER.test(version.trim())) {
    let next = bumpVersion(version);
    for (let i = 0; used.has(next) && i < 10_000; i++) next = bumpVersion(next);
    return next;
  }
  let n = 1;
  while (used.has(`${version}.${String(n)}`) && n < 10_000) n++;
  return `${version}.${String(n)}`;
}

/**
 * `text` (a CKP document) with its top-level "version" set to `version`, keeping the
 * rest of the text as it was written; re-serialised only when the value cannot be found.
 */
export function withVersion(text: string, version: string): string {
  const span = pointerSpans(text).values.get("/version");
  if (span && text.charAt(span.from) === '"') return `${text.slice(0, span.from)}${JSON.stringify(version)}${text.slice(span.to)}`;
  const doc = JSON.parse(text) as Record<string, unknown>;
  return JSON.stringify({ ...doc, version }, null, 2);
}
