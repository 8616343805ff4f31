/**
 * The live-validation latency probe for the browser suite: when the answer for document
 * revision r is on screen, `performance.now()` minus the time of the edit that made r is
 * appended to `window.__builderLatencies` — only while `window.__builderProbe` is set, so
 * production pays nothing but a property read.
 */

export interface ProbeTarget {
  __builderProbe?: unknown;
  __builderLatencies?: number[];
}

export function probeEnabled(target: ProbeTarget | undefined): boolean {
  return target !== undefined && Boolean(target.__builderProbe);
}

/** Edit times by revision; only the newest `limit` are kept. */
export class EditClock {
  private readonly times = new Map<number, number>();

  constructor(private readonly limit = 64) {}

  mark(revision: number, now: number): void {
    this.times.set(revision, now);
    if (this.times.size > this.limit) {
      const oldest = this.times.keys().next();
      if (!oldest.done) this.times.delete(oldest.value);
    }
  }

  /** Milliseconds since the edit that made `revision`, once (a second call answers null); null when unknown. */
  take(revision: number, now: number): number | null {
    const at = this.times.get(revision);
    if (at === undefined) return null;
    this.times.delete(revision);
    return Math.max(0, now - at);
  }
}

/** Appends `ms` to the target's latencies when the probe is on; returns whether it did. */
export function recordLatency(target: ProbeTarget | undefined, ms: number | null): boolean {
  if (ms === null || target === undefined || !probeEnabled(target)) return false;
  (target.__builderLatencies ??= []).push(ms);
  return true;
}
