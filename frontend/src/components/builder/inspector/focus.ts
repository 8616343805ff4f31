import { deepestField } from "./schemaForm";

/**
 * Scrolls to and focuses the field for JSON pointer `path` inside `root`: the deepest
 * element marked `data-pointer` whose pointer is `path` or a prefix of it. Collapsed
 * sections around it are opened. Returns the pointer focused, or null.
 */
export function focusField(root: HTMLElement, path: string): string | null {
  const elements = [...root.querySelectorAll<HTMLElement>("[data-pointer]")];
  const best = deepestField(
    elements.map((e) => e.dataset.pointer ?? ""),
    path,
  );
  if (best === null) return null;
  const target = elements.find((e) => e.dataset.pointer === best);
  if (!target) return null;
  for (let el: HTMLElement | null = target; el && el !== root; el = el.parentElement) {
    if (el instanceof HTMLDetailsElement) el.open = true;
  }
  if (target instanceof HTMLDetailsElement) target.open = true;
  target.scrollIntoView({ block: "center", behavior: "smooth" });
  const control = target.querySelector<HTMLElement>("input, select, textarea, [contenteditable='true'], summary, button");
  control?.focus({ preventScroll: true });
  target.classList.add("ring-2", "ring-blue-500", "rounded-md");
  window.setTimeout(() => target.classList.remove("ring-2", "ring-blue-500", "rounded-md"), 1500);
  return best;
}
