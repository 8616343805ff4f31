import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import schema from "./ckp.schema.json";
import { fieldName, schemaChecker, typeWords } from "./validate";

const check = schemaChecker(schema);
const examples = join(__dirname, "..", "..", "..", "..", "ckp_examples");

describe("CKP JSON Schema check", () => {
  it("accepts every shipped example", () => {
    for (const f of readdirSync(examples).filter((x) => x.endsWith(".json"))) {
      expect(check(JSON.parse(readFileSync(join(examples, f), "utf8"))), f).toEqual([]);
    }
  });

  it("reports problems only against the node's own type", () => {
    const problems = check({
      procedure_id: 3,
      workflow_graph: { nodes: { a: { type: "sequence", steps: "x" }, b: { type: "bogus" } } },
    });
    expect(problems).toContainEqual({ path: "/procedure_id", message: "procedure_id must be text" });
    expect(problems).toContainEqual({ path: "/workflow_graph/nodes/a/steps", message: "steps must be a list" });
    expect(problems.some((p) => p.path === "/workflow_graph/nodes/b/type" && p.message.startsWith("type must be one of"))).toBe(true);
    expect(problems.some((p) => p.message.includes("body_node"))).toBe(false);
  });

  it("names a missing required field", () => {
    const problems = check({ procedure_id: "p", workflow_graph: { nodes: { l: { type: "loop" } } } });
    expect(problems).toContainEqual({ path: "/workflow_graph/nodes/l", message: 'missing required field "body_node"' });
  });
});

describe("schema messages in plain words", () => {
  const tiny = schemaChecker({
    type: "object",
    properties: {
      amount: { type: "number", minimum: 1 },
      count: { type: "integer" },
      name: { type: "string", minLength: 1 },
      tags: { type: "array", items: { type: "string" }, minItems: 2 },
      note: { type: ["string", "null"] },
    },
  });

  it("names the field and the type people know", () => {
    // (a canonical document: it has workflow_graph)
    const problems = tiny({ workflow_graph: {}, amount: "12", count: 1.5, name: "", tags: [3], note: 4 });
    expect(problems).toContainEqual({ path: "/amount", message: "amount must be a number" });
    expect(problems).toContainEqual({ path: "/count", message: "count must be a whole number" });
    expect(problems).toContainEqual({ path: "/name", message: "name must not be empty" });
    expect(problems).toContainEqual({ path: "/tags", message: "tags must have at least 2 items" });
    expect(problems).toContainEqual({ path: "/tags/0", message: "tags[0] must be text" });
    expect(problems).toContainEqual({ path: "/note", message: "note must be text or null" });
    expect(tiny({ workflow_graph: {}, amount: 0 })).toEqual([{ path: "/amount", message: "amount must be at least 1" }]);
  });

  it("reads pointers and types", () => {
    expect(fieldName("/a~1b")).toBe("a/b");
    expect(fieldName("")).toBe("The document");
    expect(typeWords(["integer", "string", "null"])).toBe("a whole number, text or null");
    expect(typeWords("boolean")).toBe("true or false");
  });
});
