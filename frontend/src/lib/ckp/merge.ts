import { ckpToGraph, type GraphModel } from "./graph";

interface ServerGraph {
  start_node: string;
  nodes: { id: string; type: string; tier: GraphModel["nodes"][number]["tier"]; label: string; agent?: string | null; is_start?: boolean; is_terminal?: boolean; position?: { x: number; y: number } }[];
  edges: { id: string; source: string; target: string; kind: string; label?: string }[];
}

/**
 * The server's graph (its layout and edge list are authoritative) with each node's
 * full CKP configuration from the document, for the inspector. Without a server graph,
 * the document alone.
 */
export function mergeGraph(ckp: unknown, server: ServerGraph | undefined): GraphModel & { positions?: Map<string, { x: number; y: number }> } {
  const local = ckpToGraph(ckp);
  if (!server || server.nodes.length === 0) return local;
  const config = new Map(local.nodes.map((n) => [n.id, n.data]));
  const positions = new Map<string, { x: number; y: number }>();
  for (const n of server.nodes) if (n.position) positions.set(n.id, n.position);
  return {
    start_node: server.start_node,
    nodes: server.nodes.map((n) => ({
      id: n.id,
      type: n.type,
      tier: n.tier,
      label: n.label,
      agent: n.agent ?? null,
      is_start: n.is_start ?? n.id === server.start_node,
      is_terminal: n.is_terminal ?? n.type === "terminate",
      data: config.get(n.id) ?? {},
    })),
    edges: server.edges.map((e) => ({ id: e.id, source: e.source, target: e.target, kind: e.kind, label: e.label ?? "" })),
    positions: positions.size === server.nodes.length ? positions : undefined,
  };
}
