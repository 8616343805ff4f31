import { MiniMap, ReactFlow, getViewportForBounds, type NodeChange } from "@xyflow/react";
import { renderToStaticMarkup } from "react-dom/server";
import { beforeAll, describe, expect, it } from "vitest";
import type { GraphModel } from "@/lib/ckp/graph";
import { layoutElk } from "@/lib/ckp/layout";
import { TIER_COLOR, type Tier } from "@/lib/ckp/tiers";
import type { CkpFlowNode } from "./types";
import {
  FIT_VIEW_OPTIONS,
  MAX_ZOOM,
  MIN_ZOOM,
  TYPICAL_VIEWPORT,
  flowNodes,
  initialFitNodes,
  minimapNodeColor,
  recordDimensions,
  type Size,
} from "./view";

const TIERS: Tier[] = ["deterministic", "intelligent", "control"];

/** A straight chain of `count` nodes, like a long procedure. */
function chain(count: number): GraphModel {
  const nodes = Array.from({ length: count }, (_, i) => {
    const tier = TIERS[i % 3] ?? "deterministic";
    return { id: `n${String(i)}`, type: "sequence", tier, label: `n${String(i)}`, agent: null, is_start: i === 0, is_terminal: false, data: {} };
  });
  const edges = nodes.slice(1).map((n, i) => ({ id: `e${String(i)}`, source: `n${String(i)}`, target: n.id, kind: "next", label: "" }));
  return { start_node: "n0", nodes, edges };
}

const CARD: Size = { width: 208, height: 76 }; // NodeCard is w-52, 76px high

async function positionsOf(graph: GraphModel, viewport?: Size) {
  return (await layoutElk(graph, undefined, { viewport })).positions;
}

function dimensions(id: string, size: Size): NodeChange<CkpFlowNode> {
  return { id, type: "dimensions", dimensions: size };
}

describe("initial view", () => {
  it("wraps a ~30 node chain into columns so it opens whole at a readable zoom", async () => {
    const graph = chain(30);
    const positions = [...(await positionsOf(graph, { width: 1000, height: 520 })).values()];
    const xs = positions.map((p) => p.x);
    const ys = positions.map((p) => p.y);
    const bounds = {
      x: Math.min(...xs),
      y: Math.min(...ys),
      width: Math.max(...xs) + CARD.width - Math.min(...xs),
      height: Math.max(...ys) + CARD.height - Math.min(...ys),
    };
    // What fitView computes for the procedure graph's 520px-high pane on a laptop-wide page.
    const { zoom } = getViewportForBounds(bounds, 1000, 520, FIT_VIEW_OPTIONS.minZoom, FIT_VIEW_OPTIONS.maxZoom, FIT_VIEW_OPTIONS.padding);
    expect(zoom).toBeGreaterThanOrEqual(0.5);
  });

  it("does not blow a tiny graph up", () => {
    const { zoom } = getViewportForBounds({ x: 0, y: 0, ...CARD }, 1000, 520, FIT_VIEW_OPTIONS.minZoom, FIT_VIEW_OPTIONS.maxZoom, FIT_VIEW_OPTIONS.padding);
    expect(zoom).toBeLessThanOrEqual(1.25);
  });

  it("keeps the fit range inside the manual zoom range", () => {
    expect(MIN_ZOOM).toBeLessThanOrEqual(FIT_VIEW_OPTIONS.minZoom);
    expect(MAX_ZOOM).toBeGreaterThanOrEqual(FIT_VIEW_OPTIONS.maxZoom);
  });
});

describe("initialFitNodes", () => {
  it("opens a 30-node chain (not wrapped) on its start and a few nodes below it", async () => {
    const graph = chain(30);
    const fit = initialFitNodes(graph, await positionsOf(graph), TYPICAL_VIEWPORT);
    expect(fit).toBeDefined();
    const ids = (fit ?? []).map((n) => n.id);
    expect(ids[0]).toBe("n0");
    expect(ids.length).toBeGreaterThanOrEqual(2);
    expect(ids.length).toBeLessThanOrEqual(8);
    expect(ids).toEqual(["n0", "n1", "n2"]); // two edges downstream, still readable in a 470px-high pane
  });

  it("fits a small graph whole", async () => {
    const graph = chain(3);
    expect(initialFitNodes(graph, await positionsOf(graph), TYPICAL_VIEWPORT)).toBeUndefined();
    expect(initialFitNodes(chain(0), new Map())).toBeUndefined();
  });

  it("caps a wide fan-out from the start and keeps the start in view", async () => {
    const graph = chain(1);
    for (let i = 1; i <= 20; i++) {
      graph.nodes.push({ id: `b${String(i)}`, type: "sequence", tier: "deterministic", label: "", agent: null, is_start: false, is_terminal: false, data: {} });
      graph.edges.push({ id: `f${String(i)}`, source: "n0", target: `b${String(i)}`, kind: "next", label: "" });
    }
    const ids = (initialFitNodes(graph, await positionsOf(graph), { width: 1400, height: 1100 }) ?? []).map((n) => n.id);
    expect(ids[0]).toBe("n0");
    expect(ids).toHaveLength(8); // the cap: the start and the first 7 of its 20 successors
  });

  it("uses the start node flagged in the graph", async () => {
    const graph = chain(30);
    graph.nodes = graph.nodes.map((n) => ({ ...n, is_start: n.id === "n10" }));
    expect(initialFitNodes(graph, await positionsOf(graph))?.[0]).toEqual({ id: "n10" });
  });
});

describe("recordDimensions", () => {
  it("keeps the sizes of dimension changes and ignores other changes", () => {
    const next = recordDimensions(new Map(), [dimensions("a", CARD), { id: "b", type: "select", selected: true }]);
    expect([...next]).toEqual([["a", CARD]]);
  });

  it("returns the same map when nothing changed, so re-measuring causes no render loop", () => {
    const prev = recordDimensions(new Map(), [dimensions("a", CARD)]);
    expect(recordDimensions(prev, [dimensions("a", { ...CARD })])).toBe(prev);
    expect(recordDimensions(prev, [{ id: "a", type: "dimensions" }])).toBe(prev);
    const grown = recordDimensions(prev, [dimensions("a", { width: 208, height: 120 })]);
    expect(grown).not.toBe(prev);
    expect(grown.get("a")).toEqual({ width: 208, height: 120 });
    expect(prev.get("a")).toEqual(CARD);
  });
});

describe("minimap", () => {
  const graph = chain(30);
  let positions = new Map<string, { x: number; y: number }>();
  beforeAll(async () => {
    positions = await positionsOf(graph);
  });

  function minimapRects(measured: ReadonlyMap<string, Size>): string[] {
    const html = renderToStaticMarkup(
      <ReactFlow<CkpFlowNode> nodes={flowNodes(graph, positions, undefined, null, measured)} edges={[]} width={1000} height={520}>
        <MiniMap<CkpFlowNode> nodeColor={minimapNodeColor} />
      </ReactFlow>,
    );
    return html.match(/<rect[^>]*react-flow__minimap-node[^>]*>/g) ?? [];
  }

  it("draws every node in its tier colour once the sizes are measured", () => {
    const measured = recordDimensions(
      new Map(),
      graph.nodes.map((n) => dimensions(n.id, CARD)),
    );
    const rects = minimapRects(measured);
    expect(rects).toHaveLength(30);
    for (const tier of TIERS) expect(rects.filter((r) => r.includes(`fill:${TIER_COLOR[tier]}`)).length).toBe(10);
  });

  it("carries the measured size on the nodes it builds (the MiniMap skips nodes without one)", () => {
    const nodes = flowNodes(graph, positions, undefined, null, new Map([["n0", CARD]]));
    expect(nodes[0]?.measured).toEqual(CARD);
    expect(nodes[1]?.measured).toBeUndefined();
    expect(minimapRects(new Map([["n0", CARD]]))).toHaveLength(1);
  });

  it("never paints a node transparent", () => {
    for (const node of flowNodes(graph, positions, undefined, null, new Map())) {
      expect(minimapNodeColor(node)).toMatch(/^#[0-9a-f]{6}$/);
    }
  });
});
