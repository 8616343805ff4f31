import { describe, expect, it } from "vitest";
import { sideBySide } from "./VersionDiff";

describe("side-by-side diff", () => {
  it("pairs changed lines and keeps unchanged ones on both sides", () => {
    const rows = sideBySide("a\nb\nc\n", "a\nB\nc\nd\n");
    expect(rows).toEqual([
      { left: "a", right: "a", kind: "same" },
      { left: "b", right: "B", kind: "changed" },
      { left: "c", right: "c", kind: "same" },
      { left: null, right: "d", kind: "added" },
    ]);
  });

  it("shows removals on the left only", () => {
    expect(sideBySide("x\ny\n", "x\n").filter((r) => r.kind !== "same")).toEqual([{ left: "y", right: null, kind: "removed" }]);
  });
});

