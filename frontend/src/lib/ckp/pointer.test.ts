import { describe, expect, it } from "vitest";
import { lineColumn, locatePointer, pointerSpans, pointerTokens } from "./pointer";

const text = JSON.stringify(
  { procedure_id: "p", workflow_graph: { nodes: { "a/b": { type: "sequence", next_node: "x" } }, list: [1, "two"] } },
  null,
  2,
);

describe("JSON pointer location", () => {
  it("decodes escaped tokens", () => {
    expect(pointerTokens("/workflow_graph/nodes/a~1b/next_node")).toEqual(["workflow_graph", "nodes", "a/b", "next_node"]);
    expect(pointerTokens("")).toEqual([]);
  });

  it("finds scalar values", () => {
    const span = locatePointer(text, "/workflow_graph/nodes/a~1b/next_node");
    expect(text.slice(span.from, span.to)).toBe('"x"');
    expect(span.exact).toBe(true);
    const item = locatePointer(text, "/workflow_graph/list/1");
    expect(text.slice(item.from, item.to)).toBe('"two"');
  });

  it("underlines the key of an object member", () => {
    const span = locatePointer(text, "/workflow_graph/nodes/a~1b");
    expect(text.slice(span.from, span.to)).toBe('"a/b"');
  });

  it("falls back to the nearest existing ancestor", () => {
    const span = locatePointer(text, "/workflow_graph/nodes/a~1b/steps/0");
    expect(text.slice(span.from, span.to)).toBe('"a/b"');
    expect(span.exact).toBe(false);
  });

  it("keeps spans found before a syntax error", () => {
    const spans = pointerSpans('{"a": 1, "b": [tru');
    expect(spans.values.has("/a")).toBe(true);
    expect(spans.values.has("/b")).toBe(false);
  });

  it("reports line and column", () => {
    const offset = text.indexOf('"x"');
    expect(lineColumn(text, offset).line).toBe(7);
  });
});
