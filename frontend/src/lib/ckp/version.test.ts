import { describe, expect, it } from "vitest";
import { bumpVersion, nextFreeVersion, withVersion } from "./version";

describe("bumpVersion", () => {
  it("bumps the patch of x.y.z and appends .1 otherwise", () => {
    expect(bumpVersion("1.0.0")).toBe("1.0.1");
    expect(bumpVersion("1.2.9")).toBe("1.2.10");
    expect(bumpVersion("v2.0.3")).toBe("v2.0.4");
    expect(bumpVersion("2.9")).toBe("2.9.1");
    expect(bumpVersion("beta")).toBe("beta.1");
    expect(bumpVersion("1.0.0-rc1")).toBe("1.0.0-rc1.1");
  });
});

describe("nextFreeVersion", () => {
  it("skips versions that exist", () => {
    expect(nextFreeVersion("1.0.0", ["1.0.0", "1.0.1", "1.0.2"])).toBe("1.0.3");
    expect(nextFreeVersion("1.0.0")).toBe("1.0.1");
    expect(nextFreeVersion("draft", ["draft", "draft.1"])).toBe("draft.2");
  });
});

describe("withVersion", () => {
  it("changes only the version value of the text", () => {
    const text = '{\n  "procedure_id": "p",\n  "version":   "1.0.0",\n  "nodes": {"a": {"version": "x"}}\n}';
    expect(withVersion(text, "1.0.1")).toBe('{\n  "procedure_id": "p",\n  "version":   "1.0.1",\n  "nodes": {"a": {"version": "x"}}\n}');
  });

  it("adds a missing version", () => {
    expect(JSON.parse(withVersion('{"procedure_id": "p"}', "1.0.0"))).toEqual({ procedure_id: "p", version: "1.0.0" });
  });
});
