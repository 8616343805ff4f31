import { describe, expect, it } from "vitest";
import { formatCost, fullTime, plural, pluralOf } from "./format";

describe("plural", () => {
  it("puts the noun in the number the count needs", () => {
    expect(plural(1, "run")).toBe("1 run");
    expect(plural(2, "run")).toBe("2 runs");
    expect(plural(0, "run")).toBe("0 runs");
    expect(plural(1, "approval")).toBe("1 approval");
    expect(plural(3, "approval")).toBe("3 approvals");
    expect(plural(1204, "event")).toBe("1,204 events");
  });

  it("knows the common English endings and takes an explicit plural", () => {
    expect(pluralOf("match")).toBe("matches");
    expect(pluralOf("box")).toBe("boxes");
    expect(pluralOf("policy")).toBe("policies");
    expect(pluralOf("day")).toBe("days");
    expect(pluralOf("entry")).toBe("entries");
    expect(pluralOf("queued job")).toBe("queued jobs");
    expect(plural(2, "consecutive failure")).toBe("2 consecutive failures");
    expect(plural(2, "datum", "data")).toBe("2 data");
  });
});

describe("formatCost", () => {
  it("shows nothing for a missing value and $0 for zero", () => {
    expect(formatCost(null)).toBe("—");
    expect(formatCost(undefined)).toBe("—");
    expect(formatCost(Number.NaN)).toBe("—");
    expect(formatCost(0)).toBe("$0");
  });

  it("keeps 4 significant digits under a cent, never $0.0000", () => {
    expect(formatCost(0.001234)).toBe("$0.001234");
    expect(formatCost(0.0000412)).toBe("$0.0000412");
    expect(formatCost(0.005)).toBe("$0.005");
    expect(formatCost(0.0099999)).toBe("$0.01");
    expect(formatCost(1e-9)).toBe("< $0.000001");
    for (const v of [0.00001, 0.00004, 0.0001, 0.009]) expect(formatCost(v)).not.toMatch(/^\$0\.0+$/);
  });

  it("shows cents from a cent up, with thousands separators", () => {
    expect(formatCost(0.01)).toBe("$0.01");
    expect(formatCost(0.25)).toBe("$0.25");
    expect(formatCost(0.256)).toBe("$0.26");
    expect(formatCost(3)).toBe("$3.00");
    expect(formatCost(1234.5)).toBe("$1,234.50");
  });
});

describe("fullTime", () => {
  it("gives the ISO time for a tooltip", () => {
    expect(fullTime("2026-01-01T12:00:00+02:00")).toBe("2026-01-01T10:00:00.000Z");
    expect(fullTime(null)).toBe("");
    expect(fullTime("not a date")).toBe("not a date");
  });
});
