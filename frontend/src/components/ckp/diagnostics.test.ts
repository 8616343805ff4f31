import { describe, expect, it } from "vitest";
import { mergeProblems, problemKey, type EditorProblem } from "./diagnostics";

function problem(over: Partial<EditorProblem>): EditorProblem {
  return { source: "server", severity: "error", code: "CKP202", path: "/a", message: "m", hint: "", from: 0, to: 1, ...over };
}

describe("mergeProblems", () => {
  it("lists each problem once (3 errors stay 3 when a refused import repeats them)", () => {
    const three = [problem({ path: "/a", from: 1 }), problem({ path: "/b", from: 5 }), problem({ path: "/c", from: 9, code: "CKP106" })];
    const merged = mergeProblems([...three, ...three.map((p) => ({ ...p }))], []);
    expect(merged).toHaveLength(3);
    expect(merged.map(problemKey)).toEqual(three.map(problemKey));
  });

  it("drops a schema error where the server reports an error at the same path, and exact repeats", () => {
    const merged = mergeProblems(
      [problem({ path: "/workflow_graph/nodes/a/steps", code: "CKP106", message: "'steps' should be a valid list", from: 50 })],
      [
        problem({ source: "schema", code: "schema", path: "/workflow_graph/nodes/a/steps", message: "steps must be a list" }),
        problem({ source: "schema", code: "schema", path: "/procedure_id", message: "procedure_id must be text", from: 3 }),
        problem({ source: "schema", code: "schema", path: "/procedure_id", message: "procedure_id must be text", from: 3 }),
      ],
    );
    expect(merged.map((p) => p.path)).toEqual(["/procedure_id", "/workflow_graph/nodes/a/steps"]);
  });

  it("keeps problems that differ in code or message, errors before warnings", () => {
    const merged = mergeProblems(
      [problem({ severity: "warning", code: "CKP301", from: 0 }), problem({ code: "CKP202", from: 10 }), problem({ code: "CKP203", from: 10 }), problem({ message: "other", from: 20 })],
      [],
    );
    expect(merged.map((p) => `${p.severity}:${p.code}:${p.message}`)).toEqual(["error:CKP202:m", "error:CKP203:m", "error:CKP202:other", "warning:CKP301:m"]);
  });
});
