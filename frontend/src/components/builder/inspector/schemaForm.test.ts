import { describe, expect, it } from "vitest";
import {
  deepestField,
  describeField,
  moveItem,
  newItem,
  nodeSchema,
  objectFields,
  ownProblems,
  parseJsonText,
  parseLines,
  parseNumber,
  schemaDef,
  setField,
  setIn,
  stringValue,
} from "./schemaForm";
import { addVariable, removeVariable, renameVariable, setRequired, variablePointer, variableRows } from "./variablesForm";

const fields = (type: string) => new Map(objectFields(nodeSchema(type) ?? {}).map((f) => [f.key, f]));

describe("fields from the CKP schema", () => {
  it("reads optionals, enums, defaults, refs and arrays", () => {
    const loop = fields("loop");
    expect(loop.get("body_node")).toMatchObject({ kind: "string", required: true });
    expect(loop.get("iterator")).toMatchObject({ kind: "string", required: false, description: "Variable holding the array to iterate over." });
    expect(loop.get("max_iterations")).toMatchObject({ kind: "integer", minimum: 0 });
    const approval = fields("human_approval");
    expect(approval.get("decision_type")).toMatchObject({ kind: "enum", hasDefault: true, default: "approve_reject" });
    expect(approval.get("timeout_action")?.enumValues).toEqual(["auto_approve", "auto_reject", "escalate"]);
    expect(approval.get("approvers")?.kind).toBe("stringArray");
    expect(approval.get("timeout_ms")?.kind).toBe("number");
    expect(approval.get("context_data")).toMatchObject({ kind: "json", expect: "object" });
    expect(approval.get("sla")?.kind).toBe("object");
    expect(approval.get("is_checkpoint")?.kind).toBe("boolean");
    expect(fields("logic").get("rules")?.kind).toBe("objectArray");
    expect(fields("terminate").get("cleanup_actions")?.kind).toBe("json");
    expect(fields("sequence").get("type")?.kind).toBe("const");
    expect(describeField("value", {}, false).kind).toBe("any");
  });

  it("a new list item has only its required fields", () => {
    expect(newItem(schemaDef("LogicRule") ?? {})).toEqual({ condition: "", next_node: "" });
    expect(newItem(schemaDef("Step") ?? {})).toEqual({ action: "" });
    expect(newItem(schemaDef("VerificationCheck") ?? {})).toEqual({ condition: "" });
  });
});

describe("value edits are lossless", () => {
  const node = { type: "loop", custom_thing: { keep: [1, 2] }, body_node: "b", $ui: { position: { x: 1, y: 2 } } };

  it("setting a field keeps unknown fields and the order", () => {
    const next = setField(node, "body_node", "c");
    expect(Object.keys(next)).toEqual(["type", "custom_thing", "body_node", "$ui"]);
    expect(next.custom_thing).toBe(node.custom_thing);
    expect(next.$ui).toBe(node.$ui);
    expect(node.body_node).toBe("b"); // not mutated
    expect(Object.keys(setField(node, "max_iterations", 5))).toEqual(["type", "custom_thing", "body_node", "$ui", "max_iterations"]);
  });

  it("unsetting removes the key, never writes null or a default", () => {
    const withIt = setField(node, "iterator", "items");
    const without = setField(withIt, "iterator", undefined);
    expect(without).toEqual(node);
    expect("iterator" in without).toBe(false);
    expect(JSON.stringify(without)).not.toContain("null");
    expect(setField(node, "absent", undefined)).toBe(node);
    expect(stringValue("", false)).toBeUndefined();
    expect(stringValue("", true)).toBe("");
  });

  it("nested: creates objects on the way, drops an object an unset leaves empty", () => {
    const a = setIn({ type: "sequence" }, ["sla", "max_duration_ms"], 1000);
    expect(a).toEqual({ type: "sequence", sla: { max_duration_ms: 1000 } });
    expect(setIn(a, ["sla", "max_duration_ms"], undefined)).toEqual({ type: "sequence" });
    const b = { type: "sequence", sla: { max_duration_ms: 1, other: true } };
    expect(setIn(b, ["sla", "max_duration_ms"], undefined)).toEqual({ type: "sequence", sla: { other: true } });
  });

  it("text parsing: empty is unset, bad input is an error, not a value", () => {
    expect(parseNumber("", false)).toEqual({ ok: true, value: undefined });
    expect(parseNumber("2.5", false)).toEqual({ ok: true, value: 2.5 });
    expect(parseNumber("2.5", true).ok).toBe(false);
    expect(parseNumber("abc", false).ok).toBe(false);
    expect(parseJsonText("{\"a\": 1}", "object")).toEqual({ ok: true, value: { a: 1 } });
    expect(parseJsonText("[1]", "object").ok).toBe(false);
    expect(parseJsonText("{", null).ok).toBe(false);
    expect(parseJsonText("  ", "object")).toEqual({ ok: true, value: undefined });
    expect(parseLines("a\n\n b \n")).toEqual(["a", "b"]);
    expect(parseLines("\n")).toBeUndefined();
  });

  it("moves list items", () => {
    expect(moveItem(["a", "b", "c"], 0, 1)).toEqual(["b", "a", "c"]);
    expect(moveItem(["a", "b", "c"], 2, 3)).toEqual(["a", "b", "c"]);
  });
});

describe("problems at fields", () => {
  const p = (path: string) => ({ path });
  const problems = [p("/workflow_graph/nodes/n"), p("/workflow_graph/nodes/n/on_reject"), p("/workflow_graph/nodes/n/steps/0/action"), p("/workflow_graph/nodes/n/zzz/deep")];

  it("a field shows what no deeper field it draws shows", () => {
    const node = "/workflow_graph/nodes/n";
    expect(ownProblems(problems, node, ["on_reject", "steps"]).map((x) => x.path)).toEqual(["/workflow_graph/nodes/n", "/workflow_graph/nodes/n/zzz/deep"]);
    expect(ownProblems(problems, `${node}/steps/0/action`)).toHaveLength(1);
    expect(ownProblems(problems, `${node}/steps`, ["0"])).toHaveLength(0);
  });

  it("focus goes to the deepest field that is a prefix of the path", () => {
    const pointers = ["/workflow_graph/nodes/n", "/workflow_graph/nodes/n/steps", "/workflow_graph/nodes/n/steps/0", "/workflow_graph/nodes/n/steps/1"];
    expect(deepestField(pointers, "/workflow_graph/nodes/n/steps/0/action")).toBe("/workflow_graph/nodes/n/steps/0");
    expect(deepestField(pointers, "/workflow_graph/nodes/n/steps/10")).toBe("/workflow_graph/nodes/n/steps");
    expect(deepestField(pointers, "/other")).toBeNull();
  });
});

describe("variables_schema edits keep its shape", () => {
  const flat = { a: { type: "string", required: true, x_custom: 1 }, b: { type: "number" } };
  const split = { required: { a: { type: "string" } }, optional: { b: { type: "number", default: 2 } } };

  it("reads both shapes", () => {
    expect(variableRows(flat).map((r) => [r.name, r.required])).toEqual([["a", true], ["b", false]]);
    expect(variableRows(split).map((r) => [r.name, r.group, r.required])).toEqual([["a", "required", true], ["b", "optional", false]]);
    expect(variablePointer(variableRows(split)[1] ?? { name: "", group: null })).toBe("/variables_schema/optional/b");
  });

  it("renames in place, refuses a taken name", () => {
    const [a] = variableRows(flat);
    if (!a) throw new Error("no row");
    expect(Object.keys(renameVariable(flat, a, "c"))).toEqual(["c", "b"]);
    expect(renameVariable(flat, a, "c").c).toBe(flat.a);
    expect(() => renameVariable(flat, a, "b")).toThrow(/already/);
  });

  it("required moves between groups in the split shape, is a flag in the flat one", () => {
    const [, b] = variableRows(split);
    if (!b) throw new Error("no row");
    expect(setRequired(split, b, true)).toEqual({ required: { a: { type: "string" }, b: { type: "number", default: 2 } }, optional: {} });
    const [a] = variableRows(flat);
    if (!a) throw new Error("no row");
    expect(setRequired(flat, a, false)).toEqual({ a: { type: "string", x_custom: 1 }, b: { type: "number" } });
  });

  it("adds and removes", () => {
    expect(addVariable(undefined)).toEqual({ vs: { variable_1: { type: "string" } }, name: "variable_1" });
    expect(Object.keys(addVariable(split).vs.optional ?? {})).toEqual(["b", "variable_3"]);
    const [a] = variableRows(flat);
    if (!a) throw new Error("no row");
    expect(removeVariable(flat, a)).toEqual({ b: { type: "number" } });
  });
});
