/**
 * Where each node lives in the document (its JSON Pointer) and which problems lie inside
 * it: the badge on the canvas, the problems the inspector shows, the node a problem
 * selects when clicked.
 */
import { escapePointerToken, pointerTokens } from "@/lib/ckp/pointer";

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function str(value: unknown): string | null {
  return typeof value === "string" && value !== "" ? value : null;
}

/**
 * Node id → JSON Pointer of the node object, for the canonical `workflow_graph.nodes`
 * map and for the node-list dialects (`id` / `node_id`, at `workflow_graph.nodes` or a
 * top-level `nodes`). Mirrors how lib/ckp/graph.ts reads node ids.
 */
export function nodePointers(doc: unknown): Map<string, string> {
  const out = new Map<string, string>();
  if (!isObject(doc)) return out;
  const inGraph = isObject(doc.workflow_graph);
  const graph = isObject(doc.workflow_graph) ? doc.workflow_graph : doc;
  const base = inGraph ? "/workflow_graph/nodes" : "/nodes";
  const raw = graph.nodes;
  if (Array.isArray(raw)) {
    raw.forEach((node, index) => {
      if (!isObject(node)) return;
      const id = str(node.id) ?? str(node.node_id) ?? String(index);
      if (!out.has(id)) out.set(id, `${base}/${String(index)}`);
    });
  } else if (isObject(raw)) {
    for (const [id, node] of Object.entries(raw)) {
      if (isObject(node)) out.set(id, `${base}/${escapePointerToken(id)}`);
    }
  }
  return out;
}

/** Whether `path` is `pointer` itself or lies inside it. */
export function isWithin(path: string, pointer: string): boolean {
  return path === pointer || path.startsWith(`${pointer}/`);
}

function byPointer(pointers: ReadonlyMap<string, string>): Map<string, string> {
  return new Map([...pointers].map(([id, pointer]) => [pointer, id]));
}

function nodeAt(path: string, index: ReadonlyMap<string, string>): string | null {
  if (path === "") return null;
  const tokens = pointerTokens(path);
  // A node pointer has three tokens (/workflow_graph/nodes/x) or two (/nodes/x).
  for (const length of [3, 2]) {
    if (tokens.length < length) continue;
    const id = index.get(`/${tokens.slice(0, length).map(escapePointerToken).join("/")}`);
    if (id !== undefined) return id;
  }
  return null;
}

/** The node a pointer points into, or null (procedure-level problems). */
export function nodeOfPath(path: string, pointers: ReadonlyMap<string, string>): string | null {
  return nodeAt(path, byPointer(pointers));
}

/** Problems grouped by the node they lie in; those outside every node are under "". */
export function problemsByNode<P extends { path: string; severity: string }>(problems: readonly P[], pointers: ReadonlyMap<string, string>): Map<string, P[]> {
  const index = byPointer(pointers);
  const out = new Map<string, P[]>();
  for (const p of problems) {
    const id = nodeAt(p.path, index) ?? "";
    const list = out.get(id);
    if (list) list.push(p);
    else out.set(id, [p]);
  }
  return out;
}

export interface Counted {
  errors: number;
  warnings: number;
}

export function countBySeverity(problems: readonly { severity: string }[] | undefined): Counted {
  let errors = 0;
  let warnings = 0;
  for (const p of problems ?? []) {
    if (p.severity === "error") errors++;
    else if (p.severity === "warning") warnings++;
  }
  return { errors, warnings };
}
