"use client";

import { useEffect, useMemo, useState } from "react";
import { layoutElk, type LayoutGraph, type LayoutResult, type Size } from "./layout";

export interface UseElkLayoutOptions {
  /** Measured node sizes (nodes without one get the NodeCard size). */
  sizes?: ReadonlyMap<string, Size>;
  /**
   * The pane the graph is shown in (lets a tall graph wrap into columns, see
   * `layoutElk`). `null` means "not measured yet": no layout is started until it is.
   */
  viewport?: Size | null;
  /** While a changed graph is laid out, keep returning the previous layout instead of null (editors). */
  keepPrevious?: boolean;
}

/**
 * What the layout depends on, as a string: equal graphs (a new object with the same
 * nodes, edges and sizes, e.g. refetched) are not laid out again.
 */
export function layoutKey(graph: LayoutGraph, sizes?: ReadonlyMap<string, Size>, viewport?: Size | null): string {
  const nodes = graph.nodes.map((n) => {
    const size = sizes?.get(n.id);
    return size ? `${n.id}@${String(size.width)}x${String(size.height)}` : n.id;
  });
  const edges = graph.edges.map((e) => `${e.id}|${e.source}|${e.target}|${e.kind}|${e.label}`);
  // The pane's aspect ratio matters (wrapping), not its exact size: rounded so resizing does not re-lay out on every pixel.
  const pane = viewport ? `${String(Math.round(viewport.width / 40))}x${String(Math.round(viewport.height / 40))}` : "-";
  return JSON.stringify([graph.start_node, nodes, edges, pane]);
}

/**
 * ELK layout of `graph`, computed asynchronously: null until the layout of the current
 * graph is ready (or, with `keepPrevious`, the last finished layout). A result that
 * arrives after the graph changed again is dropped.
 */
export function useElkLayout(graph: LayoutGraph, options: UseElkLayoutOptions = {}): LayoutResult | null {
  const { sizes, viewport, keepPrevious = false } = options;
  const key = useMemo(() => layoutKey(graph, sizes, viewport), [graph, sizes, viewport]);
  const [done, setDone] = useState<{ key: string; result: LayoutResult } | null>(null);
  // The inputs of the current key, read by the effect (which only re-runs when the key changes).
  const [inputs, setInputs] = useState({ key, graph, sizes, viewport });
  if (inputs.key !== key) setInputs({ key, graph, sizes, viewport });
  useEffect(() => {
    if (inputs.viewport === null) return;
    let cancelled = false;
    layoutElk(inputs.graph, inputs.sizes, { viewport: inputs.viewport })
      .then((result) => {
        if (!cancelled) setDone({ key: inputs.key, result });
      })
      .catch((error: unknown) => {
        // A layout failure must not leave the graph blank forever: report it and draw nothing new.
        if (!cancelled) console.warn("graph layout failed", error);
      });
    return () => {
      cancelled = true;
    };
  }, [inputs]);
  if (done === null) return null;
  return done.key === key || keepPrevious ? done.result : null;
}
