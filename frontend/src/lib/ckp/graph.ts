/**
 * CKP document → graph (nodes with tiers, edges with kinds), computed in the browser.
 *
 * Mirrors the compiler's `langorch.ckp.graph.node_edges` so the editor can draw a
 * document before it is saved; saved versions use the server's
 * `GET /api/procedures/{id}/{version}/graph`, which has the same shape.
 */
import { canonicalType, tierOf, type Tier } from "./tiers";

export interface GraphNodeModel {
  id: string;
  type: string;
  tier: Tier;
  label: string;
  agent: string | null;
  is_start: boolean;
  is_terminal: boolean;
  data: Record<string, unknown>;
}

export interface GraphEdgeModel {
  id: string;
  source: string;
  target: string;
  kind: string;
  label: string;
}

export interface GraphModel {
  start_node: string;
  nodes: GraphNodeModel[];
  edges: GraphEdgeModel[];
}

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function str(value: unknown): string | null {
  return typeof value === "string" && value !== "" ? value : null;
}

/** Node id → raw node object, for the canonical map shape and the list-of-nodes dialects. */
export function ckpNodes(ckp: unknown): { start: string; nodes: [string, Json][] } {
  if (!isObject(ckp)) return { start: "", nodes: [] };
  const graph = isObject(ckp.workflow_graph) ? ckp.workflow_graph : ckp;
  const raw = graph.nodes;
  const nodes: [string, Json][] = [];
  if (Array.isArray(raw)) {
    raw.forEach((node, index) => {
      if (!isObject(node)) return;
      const id = str(node.id) ?? str(node.node_id) ?? String(index);
      nodes.push([id, node]);
    });
  } else if (isObject(raw)) {
    for (const [id, node] of Object.entries(raw)) {
      if (isObject(node)) nodes.push([id, node]);
    }
  }
  const start =
    str(graph.start_node) ?? str(graph.entry) ?? str(graph.start_node_id) ?? (nodes[0] ? nodes[0][0] : "");
  return { start, nodes };
}

function push(out: GraphEdgeModel[], source: string, target: unknown, kind: string, label = ""): void {
  const to = str(target);
  if (to === null) return;
  out.push({ id: `${source}->${to}:${kind}:${String(out.length)}`, source, target: to, kind, label });
}

/** Every edge one node declares, in the compiler's order. */
export function nodeEdges(id: string, node: Json): GraphEdgeModel[] {
  const out: GraphEdgeModel[] = [];
  const type = canonicalType(str(node.type) ?? str(node.node_type) ?? "");
  if (type === "logic") {
    const rules = Array.isArray(node.rules) ? node.rules : Array.isArray(node.branches) ? node.branches : [];
    for (const rule of rules) {
      if (isObject(rule)) push(out, id, rule.next_node ?? rule.next, "rule", str(rule.condition) ?? "");
    }
    push(out, id, node.default_next_node, "default", "default");
  } else if (type === "human_approval") {
    push(out, id, node.on_approve, "approve", "approve");
    push(out, id, node.on_reject, "reject", "reject");
    push(out, id, node.on_timeout, "timeout", "timeout");
  } else if (type === "verification") {
    push(out, id, node.on_pass, "pass", "pass");
    push(out, id, node.on_fail, "fail", "fail");
  } else if (type === "loop") {
    push(out, id, node.body_node, "body", "each");
  } else if (type === "parallel" && Array.isArray(node.branches)) {
    for (const branch of node.branches) {
      if (isObject(branch)) push(out, id, branch.start_node, "branch", str(branch.branch_id) ?? "");
    }
  }
  push(out, id, node.next_node, "next");
  if (Array.isArray(node.transitions)) {
    for (const t of node.transitions) {
      if (isObject(t)) push(out, id, t.target_node_id, "next", str(t.condition) === "always" ? "" : (str(t.condition) ?? ""));
    }
  }
  if (Array.isArray(node.error_handlers)) {
    for (const handler of node.error_handlers) {
      if (isObject(handler)) push(out, id, handler.fallback_node, "fallback", "on error");
    }
  }
  if (isObject(node.sla)) push(out, id, node.sla.escalation_handler, "escalation", "sla breach");
  return out;
}

/** Graph of a CKP document. Edges to ids that are not nodes are dropped (the validator reports them). */
export function ckpToGraph(ckp: unknown): GraphModel {
  const { start, nodes } = ckpNodes(ckp);
  const ids = new Set(nodes.map(([id]) => id));
  const edges: GraphEdgeModel[] = [];
  const outModels: GraphNodeModel[] = nodes.map(([id, node]) => {
    const type = canonicalType(str(node.type) ?? str(node.node_type) ?? "unknown");
    const own = nodeEdges(id, node);
    edges.push(...own.filter((e) => ids.has(e.target)));
    return {
      id,
      type,
      tier: tierOf(type),
      label: str(node.description) ?? str(node.name) ?? id,
      agent: str(node.agent),
      is_start: id === start,
      is_terminal: type === "terminate",
      data: node,
    };
  });
  edges.forEach((edge, index) => {
    edge.id = `${edge.source}->${edge.target}:${edge.kind}:${String(index)}`;
  });
  return { start_node: start, nodes: outModels, edges };
}
