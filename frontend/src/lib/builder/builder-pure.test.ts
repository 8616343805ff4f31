import { describe, expect, it } from "vitest";
import { builderHref, builderSource, sourceKey } from "./links";
import { EditClock, probeEnabled, recordLatency, type ProbeTarget } from "./probe";
import { countBySeverity, nodeOfPath, nodePointers, problemsByNode } from "./problems";
import { isTypingTarget, shortcutFor, type KeyLike } from "./shortcuts";
import { nextVersion } from "./versioning";

describe("nextVersion", () => {
  it("starts a new procedure at 1.0.0", () => {
    expect(nextVersion([])).toBe("1.0.0");
  });
  it("bumps the patch of the highest x.y.z, not the last listed", () => {
    expect(nextVersion(["1.0.0", "1.2.0", "1.10.3", "1.9.9"])).toBe("1.10.4");
    expect(nextVersion(["2.0.0", "10.0.0"])).toBe("10.0.1");
  });
  it("keeps a leading v and skips taken versions", () => {
    expect(nextVersion(["v1.0.0"])).toBe("v1.0.1");
    expect(nextVersion(["1.0.1", "1.0.0", "1.0.2-rc"])).toBe("1.0.2");
  });
  it("appends to a non-semver version when no x.y.z exists", () => {
    expect(nextVersion(["beta"])).toBe("beta.1");
    expect(nextVersion(["beta", "beta.1"])).toBe("beta.1.1");
  });
});

describe("latency probe", () => {
  it("measures from the edit that made the revision, once", () => {
    const clock = new EditClock();
    clock.mark(1, 100);
    clock.mark(2, 150);
    expect(clock.take(2, 230)).toBe(80);
    expect(clock.take(2, 240)).toBeNull();
    expect(clock.take(7, 240)).toBeNull();
  });
  it("forgets old revisions beyond its limit", () => {
    const clock = new EditClock(2);
    clock.mark(1, 0);
    clock.mark(2, 0);
    clock.mark(3, 0);
    expect(clock.take(1, 10)).toBeNull();
    expect(clock.take(3, 10)).toBe(10);
  });
  it("records only while the probe is on", () => {
    const off: ProbeTarget = {};
    expect(recordLatency(off, 12)).toBe(false);
    expect(off.__builderLatencies).toBeUndefined();
    const on: ProbeTarget = { __builderProbe: true };
    expect(probeEnabled(on)).toBe(true);
    expect(recordLatency(on, 12)).toBe(true);
    expect(recordLatency(on, null)).toBe(false);
    expect(on.__builderLatencies).toEqual([12]);
  });
});

const key = (k: string, mods: Partial<KeyLike> = {}): KeyLike => ({ key: k, ctrlKey: false, metaKey: false, shiftKey: false, altKey: false, ...mods });

describe("shortcuts", () => {
  it("maps keys to actions, Ctrl and Cmd alike", () => {
    expect(shortcutFor(key("Delete"))).toBe("delete");
    expect(shortcutFor(key("Backspace"))).toBe("delete");
    expect(shortcutFor(key("d", { ctrlKey: true }))).toBe("duplicate");
    expect(shortcutFor(key("d", { metaKey: true }))).toBe("duplicate");
    expect(shortcutFor(key("c", { ctrlKey: true }))).toBe("copy");
    expect(shortcutFor(key("v", { metaKey: true }))).toBe("paste");
    expect(shortcutFor(key("a", { ctrlKey: true }))).toBe("selectAll");
    expect(shortcutFor(key("z", { ctrlKey: true }))).toBe("undo");
    expect(shortcutFor(key("Z", { ctrlKey: true, shiftKey: true }))).toBe("redo");
    expect(shortcutFor(key("y", { ctrlKey: true }))).toBe("redo");
    expect(shortcutFor(key("!", { shiftKey: true, code: "Digit1" }))).toBe("fit");
    expect(shortcutFor(key("f"))).toBe("fit");
  });
  it("ignores everything else", () => {
    expect(shortcutFor(key("a"))).toBeNull();
    expect(shortcutFor(key("d"))).toBeNull();
    expect(shortcutFor(key("z", { ctrlKey: true, altKey: true }))).toBeNull();
    expect(shortcutFor(key("F", { shiftKey: true }))).toBeNull();
    expect(shortcutFor(key("x", { ctrlKey: true }))).toBeNull();
  });
  it("stays quiet while typing", () => {
    expect(isTypingTarget({ tagName: "INPUT" })).toBe(true);
    expect(isTypingTarget({ tagName: "textarea" })).toBe(true);
    expect(isTypingTarget({ tagName: "DIV", isContentEditable: true })).toBe(true);
    expect(isTypingTarget({ tagName: "DIV", closest: (s: string) => (s.includes(".cm-editor") ? {} : null) })).toBe(true);
    expect(isTypingTarget({ tagName: "DIV", closest: () => null })).toBe(false);
    expect(isTypingTarget(null)).toBe(false);
  });
});

describe("node pointers and problems", () => {
  const canonical = { workflow_graph: { start_node: "a", nodes: { a: { type: "sequence" }, "x/y": { type: "terminate" } } } };
  const listed = { nodes: [{ id: "a", type: "step" }, "junk", { node_id: "b", type: "end" }] };

  it("finds each node's pointer in every dialect", () => {
    expect([...nodePointers(canonical)]).toEqual([
      ["a", "/workflow_graph/nodes/a"],
      ["x/y", "/workflow_graph/nodes/x~1y"],
    ]);
    expect([...nodePointers(listed)]).toEqual([
      ["a", "/nodes/0"],
      ["b", "/nodes/2"],
    ]);
  });

  it("puts each problem under its node", () => {
    const pointers = nodePointers(canonical);
    expect(nodeOfPath("/workflow_graph/nodes/a/on_reject", pointers)).toBe("a");
    expect(nodeOfPath("/workflow_graph/nodes/x~1y", pointers)).toBe("x/y");
    expect(nodeOfPath("/workflow_graph/nodes/ab", pointers)).toBeNull();
    expect(nodeOfPath("/variables_schema", pointers)).toBeNull();
    const grouped = problemsByNode(
      [
        { path: "/workflow_graph/nodes/a/steps/0", severity: "error" },
        { path: "/workflow_graph/nodes/a", severity: "warning" },
        { path: "", severity: "error" },
      ],
      pointers,
    );
    expect(countBySeverity(grouped.get("a"))).toEqual({ errors: 1, warnings: 1 });
    expect(countBySeverity(grouped.get(""))).toEqual({ errors: 1, warnings: 0 });
    expect(countBySeverity(grouped.get("x/y"))).toEqual({ errors: 0, warnings: 0 });
  });
});

describe("builder addresses", () => {
  it("round-trips every source", () => {
    for (const s of [
      { kind: "new" as const },
      { kind: "template" as const, template: "invoice_processing" },
      { kind: "version" as const, procedureId: "p 1", version: "1.0.0" },
      { kind: "version" as const, procedureId: "p", version: null },
    ]) {
      const href = builderHref(s);
      const params = new URLSearchParams(href.split("?")[1] ?? "");
      expect(builderSource(params)).toEqual(s);
    }
    expect(builderHref()).toBe("/procedures/builder");
    expect(sourceKey({ kind: "version", procedureId: "p", version: "2" })).toBe("version:p@2");
  });
});
