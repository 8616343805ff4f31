import { describe, expect, it } from "vitest";
import { COALESCE_MS, canRedo, canUndo, createHistory, push, redo, undo } from "./history";

describe("undo history", () => {
  it("undoes and redoes edits in order", () => {
    let h = createHistory("a");
    h = push(h, "b", null, 0);
    h = push(h, "c", null, 1);
    expect(canUndo(h)).toBe(true);
    h = undo(h);
    expect(h.present).toBe("b");
    h = undo(h);
    expect(h.present).toBe("a");
    expect(canUndo(h)).toBe(false);
    h = redo(h);
    expect(h.present).toBe("b");
    expect(canRedo(h)).toBe(true);
  });

  it("a new edit after an undo drops the redo branch", () => {
    let h = push(push(createHistory(1), 2, null, 0), 3, null, 1);
    h = push(undo(h), 4, null, 2);
    expect(canRedo(h)).toBe(false);
    expect(undo(h).present).toBe(2);
  });

  it("coalesces a burst under one key into one step, but not across keys or pauses", () => {
    let h = createHistory("");
    for (const [i, text] of ["{", "{\"", "{\"a"].entries()) h = push(h, text, "json", i * 100);
    expect(h.past).toEqual([""]);
    h = push(h, "{\"a\"", "json", 200 + COALESCE_MS);
    expect(h.past).toEqual(["", "{\"a"]);
    h = push(h, "x", "field:/prompt", 200 + COALESCE_MS + 1);
    expect(h.past).toEqual(["", "{\"a", "{\"a\""]);
    expect(undo(h).present).toBe("{\"a\"");
  });

  it("an edit that changes nothing is not a step", () => {
    const h = createHistory("same");
    expect(push(h, "same")).toBe(h);
  });
});
