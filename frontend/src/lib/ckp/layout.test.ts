import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ckpToGraph, type GraphModel } from "./graph";
import {
  DEFAULT_NODE_SIZE,
  MAX_LABEL_CHARS,
  edgeLabel,
  fitZoom,
  forwardOrder,
  layoutElk,
  shortLabel,
  type LayoutResult,
  type Position,
  type Size,
} from "./layout";
import { layoutKey } from "./useElkLayout";

const examples = join(__dirname, "..", "..", "..", "..", "ckp_examples");
const FILES = readdirSync(examples).filter((f) => f.endsWith(".json")).sort();

function load(name: string): GraphModel {
  return ckpToGraph(JSON.parse(readFileSync(join(examples, name), "utf8")));
}

interface Box {
  id: string;
  x: number;
  y: number;
  width: number;
  height: number;
}

function boxes(graph: GraphModel, layout: LayoutResult, sizes?: ReadonlyMap<string, Size>): Box[] {
  return graph.nodes.map((n) => {
    const p = layout.positions.get(n.id);
    if (!p) throw new Error(`${n.id} has no position`);
    return { id: n.id, ...p, ...(sizes?.get(n.id) ?? DEFAULT_NODE_SIZE) };
  });
}

function overlapping(all: Box[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < all.length; i++) {
    for (let j = i + 1; j < all.length; j++) {
      const a = all[i];
      const b = all[j];
      if (a && b && a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height) out.push(`${a.id}/${b.id}`);
    }
  }
  return out;
}

/** Whether the segment p→q passes through the inside of `box` (its border excluded). */
function crosses(p: Position, q: Position, box: Box): boolean {
  const inset = 1;
  const x1 = box.x + inset, x2 = box.x + box.width - inset, y1 = box.y + inset, y2 = box.y + box.height - inset;
  if (p.x === q.x) return p.x > x1 && p.x < x2 && Math.max(p.y, q.y) > y1 && Math.min(p.y, q.y) < y2;
  if (p.y === q.y) return p.y > y1 && p.y < y2 && Math.max(p.x, q.x) > x1 && Math.min(p.x, q.x) < x2;
  return false; // orthogonal routing: only horizontal and vertical segments
}

/** The loop example with its body going back to the loop, the shape of a loop-back or a retry edge. */
function loopWithBackEdge(): GraphModel {
  const doc = JSON.parse(readFileSync(join(examples, "loop_example.ckp.json"), "utf8")) as {
    workflow_graph: { nodes: Record<string, Record<string, unknown>> };
  };
  const body = doc.workflow_graph.nodes.price_invoice;
  if (!body) throw new Error("loop example changed");
  body.next_node = "each_invoice";
  return ckpToGraph(doc);
}

describe("layoutElk", () => {
  it("lays out top to bottom: the start node above its successors", async () => {
    for (const file of FILES) {
      const graph = load(file);
      const layout = await layoutElk(graph);
      const start = layout.positions.get(graph.start_node);
      expect(start, file).toBeDefined();
      const { back } = forwardOrder(graph);
      for (const e of graph.edges) {
        if (back.has(e.id)) continue;
        const a = layout.positions.get(e.source);
        const b = layout.positions.get(e.target);
        if (a && b) expect(b.y, `${file}: ${e.id} points down`).toBeGreaterThan(a.y);
      }
      for (const p of layout.positions.values()) if (start && p !== start) expect(p.y).toBeGreaterThanOrEqual(start.y);
    }
  });

  it("never overlaps two nodes, in any example, plain or wrapped to a window", async () => {
    for (const file of FILES) {
      const graph = load(file);
      expect(overlapping(boxes(graph, await layoutElk(graph))), file).toEqual([]);
      expect(overlapping(boxes(graph, await layoutElk(graph, undefined, { viewport: { width: 1170, height: 700 } }))), `${file} wrapped`).toEqual([]);
    }
  });

  it("uses the sizes it is given", async () => {
    const graph = load("human_approval_example.ckp.json");
    const sizes = new Map<string, Size>([["pay", { width: 400, height: 300 }]]);
    const layout = await layoutElk(graph, sizes);
    expect(overlapping(boxes(graph, layout, sizes))).toEqual([]);
    const pay = layout.positions.get("pay");
    const paid = layout.positions.get("paid");
    expect(pay && paid && paid.y).toBeGreaterThanOrEqual((pay?.y ?? 0) + 300);
  });

  it("routes a loop-back edge around the nodes instead of through them", async () => {
    const graph = loopWithBackEdge();
    const backEdge = graph.edges.find((e) => e.source === "price_invoice" && e.target === "each_invoice");
    expect(backEdge).toBeDefined();
    expect(forwardOrder(graph).back).toEqual(new Set([backEdge?.id]));
    const layout = await layoutElk(graph);
    const loop = layout.positions.get("each_invoice");
    const body = layout.positions.get("price_invoice");
    expect(body && loop && body.y).toBeGreaterThan(loop?.y ?? Infinity); // the body stays below its loop
    const route = layout.routes.get(backEdge?.id ?? "");
    expect(route).toBeDefined();
    const points = route?.points ?? [];
    expect(points.length).toBeGreaterThanOrEqual(4); // bends around, not a straight line back up
    const all = boxes(graph, layout);
    for (let i = 1; i < points.length; i++) {
      const p = points[i - 1];
      const q = points[i];
      if (p && q) for (const box of all) expect(crosses(p, q, box), `segment ${String(i)} through ${box.id}`).toBe(false);
    }
  });

  it("routes every edge of every example from its source's border to its target's border", async () => {
    for (const file of FILES) {
      const graph = load(file);
      const layout = await layoutElk(graph);
      const all = new Map(boxes(graph, layout).map((b) => [b.id, b]));
      for (const e of graph.edges) {
        const points = layout.routes.get(e.id)?.points ?? [];
        expect(points.length, `${file}: ${e.id}`).toBeGreaterThanOrEqual(2);
        const first = points[0];
        const last = points[points.length - 1];
        const s = all.get(e.source);
        const t = all.get(e.target);
        if (!first || !last || !s || !t) continue;
        const onBorder = (p: Position, b: Box) => p.x >= b.x - 1 && p.x <= b.x + b.width + 1 && p.y >= b.y - 1 && p.y <= b.y + b.height + 1;
        expect(onBorder(first, s), `${file}: ${e.id} starts on ${e.source}`).toBe(true);
        expect(onBorder(last, t), `${file}: ${e.id} ends on ${e.target}`).toBe(true);
      }
    }
  });

  it("puts the branches of a logic node side by side, rules in order", async () => {
    const graph = load("logic_example.ckp.json");
    const layout = await layoutElk(graph);
    const targets = graph.edges.filter((e) => e.source === "route_order").map((e) => e.target);
    expect(targets).toEqual(["needs_review", "fast_track", "standard"]);
    const ys = new Set(targets.map((id) => layout.positions.get(id)?.y));
    expect(ys.size).toBe(1);
    const xs = targets.map((id) => layout.positions.get(id)?.x ?? NaN);
    expect(new Set(xs).size).toBe(3);
    expect([...xs].sort((a, b) => a - b)).toEqual(xs); // rule 1, rule 2, default from left to right
  });

  it("puts parallel branches side by side", async () => {
    const graph = load("parallel_example.ckp.json");
    const layout = await layoutElk(graph);
    const price = layout.positions.get("compute_price");
    const ship = layout.positions.get("estimate_shipping");
    expect(price?.y).toBe(ship?.y);
    expect(price?.x).not.toBe(ship?.x);
  });

  it("gives every labelled edge a label position on its route, and none to a plain next", async () => {
    const graph = load("human_approval_example.ckp.json");
    const layout = await layoutElk(graph);
    for (const e of graph.edges) {
      const route = layout.routes.get(e.id);
      if (e.kind === "next") expect(route?.label, e.id).toBeUndefined();
      else expect(route?.label, e.id).toBeDefined();
    }
    for (const file of FILES) {
      const g = load(file);
      const l = await layoutElk(g);
      for (const e of g.edges) if (edgeLabel(e) !== "") expect(l.routes.get(e.id)?.label, `${file}: ${e.id}`).toBeDefined();
    }
  });

  it("keeps side edges (fallback, escalation) from stretching the main flow", async () => {
    const graph = ckpToGraph({
      workflow_graph: {
        start_node: "a",
        nodes: {
          a: { type: "sequence", next_node: "b", error_handlers: [{ error_type: "X", action: "fallback", fallback_node: "recover" }] },
          b: { type: "sequence", next_node: "c" },
          c: { type: "sequence", next_node: "done" },
          done: { type: "terminate" },
          recover: { type: "terminate", status: "failed" },
        },
      },
    });
    const layout = await layoutElk(graph);
    const y = (id: string) => layout.positions.get(id)?.y ?? NaN;
    // The main flow is a straight column, one layer after the other: the handler adds no layer to it.
    expect(y("b") - y("a")).toBe(y("c") - y("b"));
    expect(y("done") - y("c")).toBe(y("c") - y("b"));
    for (const id of ["b", "c", "done"]) expect(layout.positions.get(id)?.x).toBe(layout.positions.get("b")?.x);
    const main = graph.edges.find((e) => e.source === "a" && e.kind === "next");
    const points = layout.routes.get(main?.id ?? "")?.points ?? [];
    expect(points).toHaveLength(2); // a → b goes straight down
    expect(points[0]?.x).toBe(points[1]?.x);
    expect(y("recover")).toBeGreaterThan(y("a"));
  });

  it("wraps the 26-node invoice workflow into columns to fit a 1440×900 window readably", async () => {
    const graph = load("invoice_processing.ckp.json");
    expect(graph.nodes).toHaveLength(26);
    const viewport = { width: 1170, height: 700 }; // the graph pane at 1440×900
    const plain = await layoutElk(graph);
    const started = performance.now();
    const fitted = await layoutElk(graph, undefined, { viewport });
    const ms = performance.now() - started;
    expect(plain.wrapped).toBe(false);
    expect(fitted.wrapped).toBe(true);
    expect(fitZoom(plain.width, plain.height, viewport)).toBeLessThan(0.4);
    expect(fitZoom(fitted.width, fitted.height, viewport)).toBeGreaterThanOrEqual(0.5);
    expect(ms).toBeLessThan(2000);
  });

  it("does not wrap a graph that already reads well", async () => {
    const graph = load("logic_example.ckp.json");
    expect((await layoutElk(graph, undefined, { viewport: { width: 1170, height: 700 } })).wrapped).toBe(false);
  });
});

describe("forwardOrder", () => {
  it("orders nodes so that every edge but the back edges goes forward", () => {
    for (const file of FILES) {
      const graph = load(file);
      const { order, back } = forwardOrder(graph);
      expect(new Set(order).size, file).toBe(graph.nodes.length);
      expect(order[0], file).toBe(graph.start_node);
      const rank = new Map(order.map((id, i) => [id, i]));
      for (const e of graph.edges) {
        if (!back.has(e.id)) expect(rank.get(e.source) ?? 0, `${file}: ${e.id}`).toBeLessThan(rank.get(e.target) ?? 0);
      }
    }
  });
});

describe("edge labels", () => {
  it("labels each outcome and leaves a plain next bare", () => {
    const kinds: [string, string, string][] = [
      ["next", "", ""],
      ["rule", "{{amount}} > 100", "{{amount}} > 100"],
      ["default", "", "default"],
      ["approve", "", "approve"],
      ["reject", "", "reject"],
      ["timeout", "", "timeout"],
      ["pass", "", "pass"],
      ["fail", "", "fail"],
      ["body", "", "each"],
      ["branch", "pricing", "pricing"],
      ["fallback", "", "on error"],
      ["escalation", "", "sla breach"],
    ];
    for (const [kind, label, want] of kinds) expect(edgeLabel({ kind, label }), kind).toBe(want);
  });

  it("cuts long conditions, keeping short ones whole", () => {
    const long = "{{unmatched_lines.length}} > 0 or {{recommendation}} != 'approve'";
    const cut = shortLabel(long);
    expect(cut.length).toBeLessThanOrEqual(MAX_LABEL_CHARS);
    expect(cut.endsWith("…")).toBe(true);
    expect(long.startsWith(cut.slice(0, -1))).toBe(true);
    expect(shortLabel("approve")).toBe("approve");
  });
});

describe("layoutKey", () => {
  it("is the same for an equal graph and changes with structure, sizes and the pane's shape", () => {
    const a = load("logic_example.ckp.json");
    const b = load("logic_example.ckp.json");
    expect(layoutKey(a)).toBe(layoutKey(b));
    expect(layoutKey(a, new Map([["done", { width: 208, height: 136 }]]))).not.toBe(layoutKey(a));
    expect(layoutKey(a, undefined, { width: 1170, height: 700 })).toBe(layoutKey(a, undefined, { width: 1175, height: 702 }));
    expect(layoutKey(a, undefined, { width: 1170, height: 700 })).not.toBe(layoutKey(a, undefined, { width: 700, height: 700 }));
    b.edges = b.edges.slice(1);
    expect(layoutKey(b)).not.toBe(layoutKey(a));
  });
});
