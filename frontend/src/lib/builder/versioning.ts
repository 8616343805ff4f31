/** The version the builder's save dialog proposes. */

const SEMVER = /^[vV]?(\d+)\.(\d+)\.(\d+)$/;

function parts(version: string): [number, number, number] | null {
  const m = SEMVER.exec(version.trim());
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : null;
}

function compare(a: [number, number, number], b: [number, number, number]): number {
  return a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
}

/**
 * The next patch version after the highest x.y.z among `existing` ("1.0.0" when there
 * are none; a leading "v" is kept). Versions that are not x.y.z are ignored unless they
 * are all there is: then ".1", ".2", … is appended to the last one until it is free.
 */
export function nextVersion(existing: readonly string[]): string {
  let best: { version: string; parts: [number, number, number] } | null = null;
  for (const version of existing) {
    const p = parts(version);
    if (p && (best === null || compare(p, best.parts) > 0)) best = { version, parts: p };
  }
  const taken = new Set(existing);
  if (best) {
    const prefix = /^[vV]/.test(best.version.trim()) ? best.version.trim().charAt(0) : "";
    let patch = best.parts[2] + 1;
    const make = () => `${prefix}${String(best.parts[0])}.${String(best.parts[1])}.${String(patch)}`;
    while (taken.has(make())) patch++;
    return make();
  }
  const last = existing[existing.length - 1];
  if (last === undefined) return "1.0.0";
  let n = 1;
  while (taken.has(`${last}.${String(n)}`)) n++;
  return `${last}.${String(n)}`;
}
