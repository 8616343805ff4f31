import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ckpToGraph } from "@/lib/ckp/graph";
import {
  BuilderError,
  addNode,
  connect,
  disconnect,
  duplicateNodes,
  getNode,
  isValidNodeId,
  listNodes,
  newProcedure,
  nodePointer,
  outputPorts,
  positionOf,
  removeNodes,
  renameNode,
  replaceNode,
  setPositions,
  setStart,
  startNode,
  type CkpDoc,
  type JsonObject,
} from "./document";

const examples = join(__dirname, "..", "..", "..", "..", "ckp_examples");
// The reference files others wrote; read in place, never copied (absent in a clone without ../shared).
const reference = join(__dirname, "..", "..", "..", "..", "..", "shared", "ckp-reference");

function corpus(): [string, CkpDoc][] {
  const out: [string, CkpDoc][] = [];
  for (const dir of [examples, reference]) {
    if (!existsSync(dir)) continue;
    for (const f of readdirSync(dir).filter((x) => x.endsWith(".json"))) {
      out.push([f, JSON.parse(readFileSync(join(dir, f), "utf8")) as CkpDoc]);
    }
  }
  return out;
}

/** The builder's save format: the document, pretty printed. */
const save = (doc: CkpDoc) => JSON.stringify(doc, null, 2);

function stripUi(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(stripUi);
  if (typeof value !== "object" || value === null) return value;
  return Object.fromEntries(Object.entries(value).filter(([k]) => k !== "$ui").map(([k, v]) => [k, stripUi(v)]));
}

const approvalDoc = (): CkpDoc => ({
  procedure_id: "p",
  version: "1.0.0",
  custom_top: { kept: true },
  workflow_graph: {
    start_node: "ask",
    nodes: {
      ask: { type: "human_approval", prompt: "ok?", on_approve: "done", on_reject: "stop", x_extra: 1 },
      done: { type: "terminate", status: "success" },
      stop: { type: "terminate", status: "failed" },
    },
  },
});

describe("CKP ↔ canvas round trip over every example and reference file", () => {
  const files = corpus();

  it("reads every file", () => {
    expect(files.length).toBeGreaterThanOrEqual(15);
  });

  it.each(files)("%s: open and save without edits gives the same document, unknown fields and key order included", (_f, doc) => {
    const text = save(doc);
    const opened = JSON.parse(text) as CkpDoc;
    // Every read the builder makes on open, then save: nothing may change.
    listNodes(opened).forEach(({ node }) => outputPorts(node));
    startNode(opened);
    expect(save(opened)).toBe(text);
  });

  it.each(files)("%s: the canvas draws exactly the edges the compiler's graph has", (_f, doc) => {
    const ids = new Set(listNodes(doc).map((n) => n.id));
    const drawn = listNodes(doc)
      .flatMap(({ id, node }) => outputPorts(node).filter((p) => p.target !== null && ids.has(p.target)).map((p) => `${id}>${String(p.target)}:${p.kind}`))
      .sort();
    const compiled = ckpToGraph(doc).edges.map((e) => `${e.source}>${e.target}:${e.kind}`).sort();
    expect(drawn).toEqual(compiled);
  });

  it.each(files)("%s: disconnecting every port and reconnecting the drawn edges rebuilds the document", (_f, doc) => {
    let bare = doc;
    const wired: [string, string, string][] = [];
    for (const { id, node } of listNodes(doc)) {
      for (const port of outputPorts(node)) {
        if (port.target === null) continue;
        wired.push([id, port.id, port.target]);
        bare = disconnect(bare, id, port.id);
      }
    }
    if (wired.length > 0) expect(save(bare)).not.toBe(save(doc));
    let rebuilt = bare;
    for (const [source, port, target] of wired) {
      // A target that is not a node (a dangling reference the validator reports) is written back as it was.
      rebuilt = getNode(rebuilt, target) ? connect(rebuilt, source, port, target) : rebuilt;
    }
    const dangling = wired.filter(([, , t]) => !getNode(doc, t));
    if (dangling.length === 0) expect(rebuilt).toEqual(doc);
  });

  it.each(files)("%s: renaming every node and back gives the same document", (_f, doc) => {
    let renamed = doc;
    const ids = listNodes(doc).map((n) => n.id);
    for (const id of ids) renamed = renameNode(renamed, id, `${id}__renamed`);
    expect(listNodes(renamed).map((n) => n.id)).toEqual(ids.map((id) => `${id}__renamed`));
    for (const id of ids) renamed = renameNode(renamed, `${id}__renamed`, id);
    expect(save(renamed)).toBe(save(doc));
  });

  it.each(files)("%s: positions live under $ui only", (_f, doc) => {
    const placed = setPositions(doc, new Map(listNodes(doc).map(({ id }, i) => [id, { x: i * 10.4, y: i * 20 }])));
    listNodes(placed).forEach(({ node }, i) => expect(positionOf(node)).toEqual({ x: Math.round(i * 10.4), y: i * 20 }));
    expect(stripUi(placed)).toEqual(stripUi(doc));
  });
});

describe("edits", () => {
  it("never mutates the document it is given", () => {
    const doc = approvalDoc();
    const before = save(doc);
    connect(doc, "ask", "timeout", "stop");
    disconnect(doc, "ask", "approve");
    renameNode(doc, "done", "finished");
    removeNodes(doc, ["stop"]);
    duplicateNodes(doc, ["ask", "done"]);
    addNode(doc, "sequence", { x: 0, y: 0 });
    setPositions(doc, new Map([["ask", { x: 1, y: 2 }]]));
    expect(save(doc)).toBe(before);
  });

  it("connecting the reject handle writes on_reject", () => {
    const doc = disconnect(approvalDoc(), "ask", "reject");
    expect(getNode(doc, "ask")?.on_reject).toBeUndefined();
    expect(getNode(connect(doc, "ask", "reject", "stop"), "ask")?.on_reject).toBe("stop");
  });

  it("an approval node offers approve, reject and timeout handles, set or not", () => {
    expect(outputPorts(getNode(approvalDoc(), "ask") as JsonObject).map((p) => [p.id, p.target])).toEqual([
      ["approve", "done"],
      ["reject", "stop"],
      ["timeout", null],
    ]);
  });

  it("a logic node has a handle per rule, one to add a rule and the default", () => {
    const node = { type: "logic", rules: [{ condition: "{{a}} > 1", next_node: "x" }], default_next_node: "y" };
    expect(outputPorts(node).map((p) => [p.id, p.label, p.target])).toEqual([
      ["rule:0", "{{a}} > 1", "x"],
      ["rule:new", "+ rule", null],
      ["default", "default", "y"],
    ]);
    const doc: CkpDoc = { procedure_id: "p", workflow_graph: { start_node: "l", nodes: { l: node, x: { type: "terminate" }, y: { type: "terminate" } } } };
    const added = connect(doc, "l", "rule:new", "y");
    expect(getNode(added, "l")?.rules).toEqual([
      { condition: "{{a}} > 1", next_node: "x" },
      { condition: "", next_node: "y" },
    ]);
  });

  it("a parallel node's + branch handle adds a named branch", () => {
    const doc: CkpDoc = { procedure_id: "p", workflow_graph: { start_node: "p", nodes: { p: { type: "parallel", branches: [{ branch_id: "branch_2", start_node: "a" }] }, a: { type: "terminate" }, b: { type: "terminate" } } } };
    const next = connect(doc, "p", "branch:new", "b");
    expect(getNode(next, "p")?.branches).toEqual([
      { branch_id: "branch_2", start_node: "a" },
      { branch_id: "branch_3", start_node: "b" },
    ]);
  });

  it("renaming a node makes every edge, the start and error fallbacks follow", () => {
    const doc: CkpDoc = {
      procedure_id: "p",
      workflow_graph: {
        start_node: "a",
        nodes: {
          a: { type: "logic", rules: [{ condition: "true", next_node: "b" }], default_next_node: "b" },
          b: { type: "sequence", steps: [], next_node: "a", error_handlers: [{ error_type: "x", fallback_node: "a" }], sla: { max_duration_ms: 5, escalation_handler: "a" } },
        },
      },
    };
    const renamed = renameNode(doc, "a", "route");
    expect(startNode(renamed)).toBe("route");
    expect(Object.keys((renamed.workflow_graph as JsonObject).nodes as JsonObject)).toEqual(["route", "b"]);
    const b = getNode(renamed, "b") as JsonObject;
    expect(b.next_node).toBe("route");
    expect(b.error_handlers).toEqual([{ error_type: "x", fallback_node: "route" }]);
    expect(b.sla).toEqual({ max_duration_ms: 5, escalation_handler: "route" });
  });

  it("refuses a rename to a taken or malformed id", () => {
    expect(() => renameNode(approvalDoc(), "ask", "done")).toThrow(BuilderError);
    expect(() => renameNode(approvalDoc(), "ask", "a/b")).toThrow(/not a valid node id/);
    expect(isValidNodeId("ok_id-2.v")).toBe(true);
    expect(isValidNodeId("has space")).toBe(false);
    expect(isValidNodeId("")).toBe(false);
  });

  it("renames in the list dialect through the node's own id field and transitions", () => {
    const doc: CkpDoc = {
      procedure_id: "p",
      start_node_id: "one",
      nodes: [
        { node_id: "one", node_type: "step", transitions: [{ condition: "always", target_node_id: "end" }] },
        { node_id: "end", node_type: "end" },
      ],
    };
    const renamed = renameNode(doc, "end", "finish");
    expect(renamed.nodes).toEqual([
      { node_id: "one", node_type: "step", transitions: [{ condition: "always", target_node_id: "finish" }] },
      { node_id: "finish", node_type: "end" },
    ]);
    expect(nodePointer(renamed, "finish")).toBe("/nodes/1");
    expect(renameNode(doc, "one", "first").start_node_id).toBe("first");
  });

  it("removing nodes clears every reference to them and moves the start", () => {
    const next = removeNodes(approvalDoc(), ["ask"]);
    expect(listNodes(next).map((n) => n.id)).toEqual(["done", "stop"]);
    expect(startNode(next)).toBe("done");
    const cleared = removeNodes(approvalDoc(), ["stop"]);
    expect(getNode(cleared, "ask")).toEqual({ type: "human_approval", prompt: "ok?", on_approve: "done", x_extra: 1 });
  });

  it("duplicates keep references among the copies and drop the others", () => {
    const doc = setPositions(approvalDoc(), new Map([["ask", { x: 100, y: 50 }]]));
    const { doc: next, ids } = duplicateNodes(doc, ["ask", "done"]);
    expect(ids).toEqual(["ask_copy", "done_copy"]);
    const copy = getNode(next, "ask_copy") as JsonObject;
    expect(copy.on_approve).toBe("done_copy");
    expect(copy.on_reject).toBeUndefined();
    expect(positionOf(copy)).toEqual({ x: 140, y: 90 });
    expect(duplicateNodes(next, ["ask"]).ids).toEqual(["ask_copy_2"]);
  });

  it("adding a node gives a fresh id, a skeleton, a position, and the start when it is the first", () => {
    let doc = newProcedure("demo");
    const first = addNode(doc, "sequence", { x: 10, y: 20 });
    doc = first.doc;
    expect(first.id).toBe("sequence");
    expect(startNode(doc)).toBe("sequence");
    const second = addNode(doc, "sequence", { x: 10, y: 200 });
    expect(second.id).toBe("sequence_2");
    expect(startNode(second.doc)).toBe("sequence");
    expect(positionOf(getNode(second.doc, "sequence_2") as JsonObject)).toEqual({ x: 10, y: 200 });
    expect(getNode(addNode(doc, "human_approval", { x: 0, y: 0 }).doc, "human_approval")).toMatchObject({ type: "human_approval", decision_type: "approve_reject" });
  });

  it("adds to a list-dialect document in its own shape", () => {
    const doc: CkpDoc = { id: "x", entry: "a", nodes: [{ id: "a", type: "sequence", steps: [] }] };
    const { doc: next, id } = addNode(doc, "terminate", { x: 0, y: 0 });
    expect((next.nodes as JsonObject[])[1]).toMatchObject({ id, type: "terminate" });
    expect(setStart(next, id).entry).toBe(id);
  });

  it("replaces one node's body and refuses an unknown node or port", () => {
    const next = replaceNode(approvalDoc(), "done", { type: "terminate", status: "failed" });
    expect(getNode(next, "done")).toEqual({ type: "terminate", status: "failed" });
    expect(() => replaceNode(approvalDoc(), "nope", {})).toThrow(BuilderError);
    expect(() => connect(approvalDoc(), "ask", "body", "done")).toThrow(/no output "body"/);
    expect(() => connect(approvalDoc(), "ask", "approve", "nope")).toThrow(/no node "nope"/);
  });
});
