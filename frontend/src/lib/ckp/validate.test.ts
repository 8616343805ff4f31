import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import schema from "./ckp.schema.json";
import { schemaChecker } from "./validate";

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
    expect(problems).toContainEqual({ path: "/procedure_id", message: "must be string" });
    expect(problems).toContainEqual({ path: "/workflow_graph/nodes/a/steps", message: "must be array" });
    expect(problems.some((p) => p.path === "/workflow_graph/nodes/b/type" && p.message.startsWith("must be one of"))).toBe(true);
    expect(problems.some((p) => p.message.includes("body_node"))).toBe(false);
  });

  it("names a missing required field", () => {
    const problems = check({ procedure_id: "p", workflow_graph: { nodes: { l: { type: "loop" } } } });
    expect(problems).toContainEqual({ path: "/workflow_graph/nodes/l", message: 'missing required field "body_node"' });
  });
});
