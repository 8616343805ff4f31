/** The builder's keyboard shortcuts, as pure functions of a key event. */

export type ShortcutAction = "delete" | "duplicate" | "copy" | "paste" | "selectAll" | "undo" | "redo" | "fit";

export interface KeyLike {
  key: string;
  code?: string;
  ctrlKey: boolean;
  metaKey: boolean;
  shiftKey: boolean;
  altKey: boolean;
}

/**
 * The action a key press asks for, or null. Ctrl and Cmd are the same modifier. Delete
 * or Backspace deletes; Ctrl+D duplicates; Ctrl+C / Ctrl+V copy and paste nodes; Ctrl+A
 * selects all; Ctrl+Z undoes, Ctrl+Shift+Z and Ctrl+Y redo; Shift+1 or F fits the view.
 */
export function shortcutFor(e: KeyLike): ShortcutAction | null {
  const mod = e.ctrlKey || e.metaKey;
  const key = e.key.length === 1 ? e.key.toLowerCase() : e.key;
  if (e.altKey) return null;
  if (mod) {
    if (key === "z") return e.shiftKey ? "redo" : "undo";
    if (key === "y" && !e.shiftKey) return "redo";
    if (e.shiftKey) return null;
    if (key === "d") return "duplicate";
    if (key === "c") return "copy";
    if (key === "v") return "paste";
    if (key === "a") return "selectAll";
    return null;
  }
  if (key === "Delete" || key === "Backspace") return e.shiftKey ? null : "delete";
  // Shift+1 types "!" on a US layout; the physical key is Digit1 everywhere.
  if (e.shiftKey && (e.code === "Digit1" || key === "!" || key === "1")) return "fit";
  if (key === "f" && !e.shiftKey) return "fit";
  return null;
}

interface ElementLike {
  tagName?: string;
  isContentEditable?: boolean;
  closest?: (selector: string) => unknown;
}

/**
 * Whether key presses aimed at `target` are typing (an input, a select, a text area, an
 * editable element such as CodeMirror, or anything in a dialog): shortcuts stay quiet.
 */
export function isTypingTarget(target: unknown): boolean {
  if (typeof target !== "object" || target === null) return false;
  const el = target as ElementLike;
  const tag = (el.tagName ?? "").toUpperCase();
  if (tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT") return true;
  if (el.isContentEditable === true) return true;
  if (typeof el.closest === "function") {
    if (el.closest(".cm-editor, [contenteditable=''], [contenteditable='true'], dialog[open], [data-builder-no-shortcuts]")) return true;
  }
  return false;
}
