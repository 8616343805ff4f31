/**
 * Undo/redo over whole documents: the canvas, the inspector and the JSON pane push the
 * document each edit produces, so one history covers all three. Immutable: every
 * function returns a new history.
 *
 * Edits that arrive in a burst under the same `coalesceKey` (typing in the JSON pane or
 * in one inspector field) replace the newest entry instead of adding one, so an undo
 * takes back the burst, not one keystroke.
 */
export interface History<T> {
  past: readonly T[];
  present: T;
  future: readonly T[];
  /** The key and time of the newest entry, for coalescing. */
  lastKey: string | null;
  lastAt: number;
}

/** At most this many steps back. */
export const HISTORY_LIMIT = 200;
/** Edits under the same key less than this far apart (ms) are one step. */
export const COALESCE_MS = 1000;

export function createHistory<T>(initial: T): History<T> {
  return { past: [], present: initial, future: [], lastKey: null, lastAt: 0 };
}

export function push<T>(h: History<T>, value: T, coalesceKey: string | null = null, now: number = Date.now()): History<T> {
  if (Object.is(value, h.present)) return h;
  const coalesce = coalesceKey !== null && coalesceKey === h.lastKey && now - h.lastAt < COALESCE_MS && h.past.length > 0;
  const past = coalesce ? h.past : [...h.past, h.present].slice(-HISTORY_LIMIT);
  return { past, present: value, future: [], lastKey: coalesceKey, lastAt: now };
}

export function canUndo<T>(h: History<T>): boolean {
  return h.past.length > 0;
}

export function canRedo<T>(h: History<T>): boolean {
  return h.future.length > 0;
}

export function undo<T>(h: History<T>): History<T> {
  const previous = h.past[h.past.length - 1];
  if (h.past.length === 0 || previous === undefined) return h;
  return { past: h.past.slice(0, -1), present: previous, future: [h.present, ...h.future], lastKey: null, lastAt: 0 };
}

export function redo<T>(h: History<T>): History<T> {
  const next = h.future[0];
  if (h.future.length === 0 || next === undefined) return h;
  return { past: [...h.past, h.present], present: next, future: h.future.slice(1), lastKey: null, lastAt: 0 };
}

/** Starts over from `value` (a document opened or saved): nothing to undo. */
export function reset<T>(value: T): History<T> {
  return createHistory(value);
}
