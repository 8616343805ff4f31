import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ckpToGraph } from "./graph";
import { tierOf } from "./tiers";

const examples = join(__dirname, "..", "..", "..", "..", "ckp_examples");

function load(name: string): unknown {
  return JSON.parse(readFileSync(join(examples, name), "utf8"));
}

describe("tierOf", () => {
  it.each([
    ["sequence", "deterministic"],
    ["processing", "deterministic"],
    ["transform", "deterministic"],
    ["subflow", "deterministic"],
    ["llm_action", "intelligent"],
    ["logic", "control"],
    ["loop", "control"],
    ["parallel", "control"],
    ["verification", "control"],
    ["human_approval", "control"],
    ["terminate", "control"],
    ["llm", "intelligent"],
    ["approval", "control"],
    ["something_new", "deterministic"],
  ])("%s is %s", (type, tier) => {
    expect(tierOf(type)).toBe(tier);
  });
});

describe("ckpToGraph", () => {
  it("maps human_approval outcomes to approve/reject/timeout edges", () => {
    const graph = ckpToGraph(load("human_approval_example.ckp.json"));
    expect(graph.start_node).toBe("ask_manager");
    expect(graph.nodes.map((n) => [n.id, n.type, n.tier])).toEqual([
      ["ask_manager", "human_approval", "control"],
      ["pay", "sequence", "deterministic"],
      ["paid", "terminate", "control"],
      ["cancelled", "terminate", "control"],
    ]);
    expect(graph.edges.map((e) => [e.source, e.target, e.kind])).toEqual([
      ["ask_manager", "pay", "approve"],
      ["ask_manager", "cancelled", "reject"],
      ["ask_manager", "cancelled", "timeout"],
      ["pay", "paid", "next"],
    ]);
    expect(graph.nodes.find((n) => n.id === "ask_manager")?.is_start).toBe(true);
    expect(graph.nodes.filter((n) => n.is_terminal).map((n) => n.id)).toEqual(["paid", "cancelled"]);
  });

  it("draws logic rules with their conditions, then the default", () => {
    const graph = ckpToGraph({
      procedure_id: "p",
      workflow_graph: {
        start_node: "route",
        nodes: {
          route: {
            type: "logic",
            rules: [{ condition: "{{amount}} > 100", next_node: "big" }, { condition: "{{amount}} > 10", next_node: "mid" }],
            default_next_node: "small",
          },
          big: { type: "terminate" },
          mid: { type: "terminate" },
          small: { type: "llm_action", prompt: "x", next_node: "big" },
        },
      },
    });
    expect(graph.edges.map((e) => [e.target, e.kind, e.label])).toEqual([
      ["big", "rule", "{{amount}} > 100"],
      ["mid", "rule", "{{amount}} > 10"],
      ["small", "default", "default"],
      ["big", "next", ""],
    ]);
    expect(graph.nodes.find((n) => n.id === "small")?.tier).toBe("intelligent");
  });

  it("includes loop bodies, parallel branches, verification outcomes, fallbacks and escalations", () => {
    const graph = ckpToGraph({
      workflow_graph: {
        start_node: "each",
        nodes: {
          each: { type: "loop", iterator: "items", body_node: "work", next_node: "fan" },
          work: {
            type: "sequence",
            steps: [],
            next_node: "each",
            error_handlers: [{ error_type: "X", action: "fallback", fallback_node: "recover" }],
            sla: { max_duration_ms: 5, on_breach: "escalate", escalation_handler: "recover" },
          },
          recover: { type: "terminate", status: "failed" },
          fan: { type: "parallel", branches: [{ branch_id: "a", start_node: "check" }], next_node: "end" },
          check: { type: "verification", checks: [], on_pass: "end", on_fail: "recover" },
          end: { type: "terminate" },
        },
      },
    });
    const kinds = graph.edges.map((e) => `${e.source}>${e.target}:${e.kind}`);
    expect(kinds).toEqual([
      "each>work:body",
      "each>fan:next",
      "work>each:next",
      "work>recover:fallback",
      "work>recover:escalation",
      "fan>check:branch",
      "fan>end:next",
      "check>end:pass",
      "check>recover:fail",
    ]);
    expect(new Set(graph.edges.map((e) => e.id)).size).toBe(graph.edges.length);
  });

  it("drops edges to missing nodes (the validator reports them)", () => {
    const graph = ckpToGraph({
      workflow_graph: { start_node: "a", nodes: { a: { type: "sequence", next_node: "ghost" } } },
    });
    expect(graph.edges).toEqual([]);
  });

  it("reads the list-of-nodes dialect", () => {
    const graph = ckpToGraph({
      id: "legacy",
      entry: "one",
      nodes: [
        { id: "one", type: "step", next_node: "two" },
        { id: "two", type: "end" },
      ],
    });
    expect(graph.start_node).toBe("one");
    expect(graph.nodes.map((n) => [n.id, n.type, n.tier])).toEqual([
      ["one", "sequence", "deterministic"],
      ["two", "terminate", "control"],
    ]);
    expect(graph.edges.map((e) => e.kind)).toEqual(["next"]);
  });

  it("maps every shipped example without dangling edges", () => {
    for (const file of readdirSync(examples).filter((f) => f.endsWith(".json"))) {
      const graph = ckpToGraph(load(file));
      const ids = new Set(graph.nodes.map((n) => n.id));
      expect(graph.nodes.length, file).toBeGreaterThan(0);
      expect(ids.has(graph.start_node), file).toBe(true);
      for (const e of graph.edges) expect(ids.has(e.source) && ids.has(e.target), file).toBe(true);
    }
  });

  it("has llm_action nodes purple in the contract review example", () => {
    const graph = ckpToGraph(load("contract_review.ckp.json"));
    const tiers = new Set(graph.nodes.map((n) => n.tier));
    expect(tiers).toEqual(new Set(["deterministic", "intelligent", "control"]));
    for (const n of graph.nodes) expect(n.tier).toBe(tierOf(n.type));
  });

  it("returns an empty graph for non-documents", () => {
    expect(ckpToGraph(null)).toEqual({ start_node: "", nodes: [], edges: [] });
    expect(ckpToGraph({ workflow_graph: { nodes: 3 } }).nodes).toEqual([]);
  });
});
