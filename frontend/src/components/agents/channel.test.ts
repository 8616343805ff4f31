import { describe, expect, it } from "vitest";
import { channelProblem, normalizeChannel } from "./channel";

describe("agent channel names", () => {
  it("accepts any name the server accepts", () => {
    for (const ok of ["ERP", "HELPDESK", "crm", "Help_Desk2", "A"]) expect(channelProblem(ok), ok).toBeNull();
    expect(channelProblem("X".repeat(64))).toBeNull();
  });

  it("says in plain words what is wrong", () => {
    expect(channelProblem("  ")).toMatch(/^Enter a channel name/);
    expect(channelProblem("1ERP")).toBe("A channel name starts with a letter.");
    expect(channelProblem("help desk")).toMatch(/only letters, digits and underscores/);
    expect(channelProblem("ERP-2")).toMatch(/only letters, digits and underscores/);
    expect(channelProblem("X".repeat(65))).toBe("A channel name has at most 64 characters.");
  });

  it("stores names upper-case", () => {
    expect(normalizeChannel(" erp ")).toBe("ERP");
  });
});
