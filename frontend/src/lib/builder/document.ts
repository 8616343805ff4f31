/**
 * The builder's edits of a CKP document, as pure functions on the raw JSON.
 *
 * The document is the single source of truth: the canvas, the inspector and the JSON
 * pane all read it, and every edit here returns a new document (the input is never
 * mutated) so the history can keep each one. Nothing is normalised: fields this module
 * does not know, key order and the document's dialect (the canonical
 * `workflow_graph.nodes` map, or node lists with `id`/`node_id` and `transitions`) are
 * kept, so opening and saving a document without edits gives it back unchanged.
 *
 * A node's canvas position is a UI-only field, `"$ui": {"position": {"x", "y"}}`, which
 * the compiler ignores (no warning, no effect on the ir_hash). Only moves, drops and
 * "tidy up" write it.
 */
import { canonicalType, NODE_TYPES, type CkpNodeType, type Tier } from "@/lib/ckp/tiers";

export type JsonObject = Record<string, unknown>;
export type CkpDoc = JsonObject;

export interface Position {
  x: number;
  y: number;
}

export type PortKind =
  | "next"
  | "rule"
  | "default"
  | "approve"
  | "reject"
  | "timeout"
  | "pass"
  | "fail"
  | "body"
  | "branch"
  | "fallback"
  | "escalation";

/** A connectable output of a node: connecting it to a node writes `target` into the field it stands for. */
export interface Port {
  /** "next", "rule:0", "rule:new", "default", "approve", "reject", "timeout", "pass", "fail", "body", "branch:0", "branch:new", "transition:0", "fallback:0", "escalation". */
  id: string;
  kind: PortKind;
  label: string;
  target: string | null;
}

export interface DocNode {
  id: string;
  node: JsonObject;
}

/** An edit that cannot be made (a taken or malformed id, an unknown node or port); its message is for the user. */
export class BuilderError extends Error {
  override name = "BuilderError";
}

const ID_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

/** Node ids the builder writes: letters, digits, `_`, `.`, `-` (not first), at most 128 characters; no `/` or spaces. */
export function isValidNodeId(id: string): boolean {
  return ID_PATTERN.test(id);
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function str(value: unknown): string | null {
  return typeof value === "string" && value !== "" ? value : null;
}

// ---------------------------------------------------------------------------
// Where the nodes and the start are, in each dialect

/** The object holding `nodes` and the start: `workflow_graph` when present, else the document itself. */
function graphOf(doc: CkpDoc): JsonObject {
  return isObject(doc.workflow_graph) ? doc.workflow_graph : doc;
}

function withGraph(doc: CkpDoc, graph: JsonObject): CkpDoc {
  return isObject(doc.workflow_graph) ? { ...doc, workflow_graph: graph } : graph;
}

const START_KEYS = ["start_node", "entry", "start_node_id"] as const;

function listId(node: JsonObject, index: number): string {
  return str(node.id) ?? str(node.node_id) ?? String(index);
}

export function listNodes(doc: CkpDoc): DocNode[] {
  const raw = graphOf(doc).nodes;
  if (Array.isArray(raw)) {
    const out: DocNode[] = [];
    raw.forEach((node, index) => {
      if (isObject(node)) out.push({ id: listId(node, index), node });
    });
    return out;
  }
  if (isObject(raw)) return Object.entries(raw).flatMap(([id, node]) => (isObject(node) ? [{ id, node }] : []));
  return [];
}

export function getNode(doc: CkpDoc, id: string): JsonObject | undefined {
  return listNodes(doc).find((n) => n.id === id)?.node;
}

export function startNode(doc: CkpDoc): string {
  const graph = graphOf(doc);
  for (const key of START_KEYS) {
    const value = str(graph[key]) ?? str(doc[key]);
    if (value) return value;
  }
  return listNodes(doc)[0]?.id ?? "";
}

/** The canonical type of a node (`type` or `node_type`, dialect aliases resolved). */
export function nodeTypeOf(node: JsonObject): string {
  return canonicalType(str(node.type) ?? str(node.node_type) ?? "unknown");
}

/** JSON Pointer of a node in the document, as the compiler's diagnostics name it. */
export function nodePointer(doc: CkpDoc, id: string): string {
  const prefix = isObject(doc.workflow_graph) ? "/workflow_graph/nodes" : "/nodes";
  const escape = (s: string) => s.replace(/~/g, "~0").replace(/\//g, "~1");
  const raw = graphOf(doc).nodes;
  if (Array.isArray(raw)) {
    const index = raw.findIndex((node, i) => isObject(node) && listId(node, i) === id);
    return `${prefix}/${String(index)}`;
  }
  return `${prefix}/${escape(id)}`;
}

/** Rebuilds the node collection with `fn` applied to each node (null drops it), keeping order and dialect. */
function mapNodes(doc: CkpDoc, fn: (id: string, node: JsonObject) => JsonObject | null): CkpDoc {
  const graph = graphOf(doc);
  const raw = graph.nodes;
  if (Array.isArray(raw)) {
    let changed = false;
    const next: unknown[] = [];
    for (const [index, node] of (raw as readonly unknown[]).entries()) {
      if (!isObject(node)) {
        next.push(node);
        continue;
      }
      const out = fn(listId(node, index), node);
      if (out !== node) changed = true;
      if (out) next.push(out);
    }
    return changed ? withGraph(doc, { ...graph, nodes: next }) : doc;
  }
  if (!isObject(raw)) return doc;
  let changed = false;
  const next: JsonObject = {};
  for (const [id, node] of Object.entries(raw)) {
    if (!isObject(node)) {
      next[id] = node;
      continue;
    }
    const out = fn(id, node);
    if (out !== node) changed = true;
    if (out) next[id] = out;
  }
  return changed ? withGraph(doc, { ...graph, nodes: next }) : doc;
}

function requireNode(doc: CkpDoc, id: string): JsonObject {
  const node = getNode(doc, id);
  if (!node) throw new BuilderError(`there is no node "${id}"`);
  return node;
}

// ---------------------------------------------------------------------------
// Ports: the fields of a node that name another node

/** The list a logic node keeps its rules in (`rules`, or `branches` in the older dialect). */
function ruleKey(node: JsonObject): "rules" | "branches" {
  return !Array.isArray(node.rules) && Array.isArray(node.branches) ? "branches" : "rules";
}

function ruleTarget(rule: JsonObject): unknown {
  return rule.next_node ?? rule.next;
}

/** Every connectable output of `node`, in the compiler's edge order; unset ones have `target: null`. */
export function outputPorts(node: JsonObject): Port[] {
  const type = nodeTypeOf(node);
  const out: Port[] = [];
  if (type === "terminate") return out;
  if (type === "logic") {
    const rules = node[ruleKey(node)];
    if (Array.isArray(rules)) {
      rules.forEach((rule, i) => {
        if (isObject(rule)) out.push({ id: `rule:${String(i)}`, kind: "rule", label: str(rule.condition) ?? `rule ${String(i + 1)}`, target: str(ruleTarget(rule)) });
      });
    }
    out.push({ id: "rule:new", kind: "rule", label: "+ rule", target: null });
    out.push({ id: "default", kind: "default", label: "default", target: str(node.default_next_node) });
  } else if (type === "human_approval") {
    out.push({ id: "approve", kind: "approve", label: "approve", target: str(node.on_approve) });
    out.push({ id: "reject", kind: "reject", label: "reject", target: str(node.on_reject) });
    out.push({ id: "timeout", kind: "timeout", label: "timeout", target: str(node.on_timeout) });
  } else if (type === "verification") {
    out.push({ id: "pass", kind: "pass", label: "pass", target: str(node.on_pass) });
    out.push({ id: "fail", kind: "fail", label: "fail", target: str(node.on_fail) });
  } else if (type === "loop") {
    out.push({ id: "body", kind: "body", label: "each", target: str(node.body_node) });
  } else if (type === "parallel") {
    if (Array.isArray(node.branches)) {
      node.branches.forEach((branch, i) => {
        if (isObject(branch)) out.push({ id: `branch:${String(i)}`, kind: "branch", label: str(branch.branch_id) ?? `branch ${String(i + 1)}`, target: str(branch.start_node) });
      });
    }
    out.push({ id: "branch:new", kind: "branch", label: "+ branch", target: null });
  }
  if (Array.isArray(node.transitions)) {
    node.transitions.forEach((t, i) => {
      if (!isObject(t)) return;
      const condition = str(t.condition);
      out.push({ id: `transition:${String(i)}`, kind: "next", label: condition && condition !== "always" ? condition : "next", target: str(t.target_node_id) });
    });
  } else {
    // Approval and verification nodes route by outcome; a plain `next` still exists for them when set.
    const routed = type === "human_approval" || type === "verification" || type === "logic";
    if (!routed || str(node.next_node)) out.push({ id: "next", kind: "next", label: "next", target: str(node.next_node) });
  }
  if (Array.isArray(node.error_handlers)) {
    node.error_handlers.forEach((h, i) => {
      if (isObject(h)) out.push({ id: `fallback:${String(i)}`, kind: "fallback", label: "on error", target: str(h.fallback_node) });
    });
  }
  if (isObject(node.sla)) out.push({ id: "escalation", kind: "escalation", label: "sla breach", target: str(node.sla.escalation_handler) });
  return out;
}

const FIELD_PORTS: Record<string, string> = {
  next: "next_node",
  default: "default_next_node",
  approve: "on_approve",
  reject: "on_reject",
  timeout: "on_timeout",
  pass: "on_pass",
  fail: "on_fail",
  body: "body_node",
};

function setIn(list: unknown, index: number, fn: (item: JsonObject) => JsonObject): unknown[] {
  const items: readonly unknown[] = Array.isArray(list) ? list : [];
  if (!isObject(items[index])) throw new BuilderError(`no such port (item ${String(index)})`);
  return items.map((item, i) => (i === index && isObject(item) ? fn(item) : item));
}

function without(obj: JsonObject, key: string): JsonObject {
  if (!(key in obj)) return obj;
  return Object.fromEntries(Object.entries(obj).filter(([k]) => k !== key));
}

/** `node` with port `portId` pointing at `target` (null clears it). */
function writePort(node: JsonObject, portId: string, target: string | null): JsonObject {
  const plainNext = portId === "next" && nodeTypeOf(node) !== "terminate" && !Array.isArray(node.transitions);
  if (!plainNext && !outputPorts(node).some((p) => p.id === portId)) throw new BuilderError(`a ${nodeTypeOf(node)} node has no output "${portId}"`);
  const field = FIELD_PORTS[portId];
  if (field) return target === null ? without(node, field) : { ...node, [field]: target };
  const [kind, which] = portId.split(":");
  if (kind === "rule") {
    const key = ruleKey(node);
    if (which === "new") {
      if (target === null) return node;
      const rules = Array.isArray(node[key]) ? (node[key] as unknown[]) : [];
      return { ...node, [key]: [...rules, { condition: "", next_node: target }] };
    }
    const index = Number(which);
    // The older dialect names a rule's target `next`: a rule without either follows its siblings.
    const siblings = Array.isArray(node[key]) ? (node[key] as unknown[]) : [];
    const nextNamed = siblings.some((r) => isObject(r) && "next" in r && !("next_node" in r));
    const dialect = nextNamed || (key === "branches" && !siblings.some((r) => isObject(r) && "next_node" in r)) ? "next" : "next_node";
    return {
      ...node,
      [key]: setIn(node[key], index, (rule) => {
        const field = "next_node" in rule ? "next_node" : "next" in rule ? "next" : dialect;
        return target === null ? without(rule, field) : { ...rule, [field]: target };
      }),
    };
  }
  if (kind === "branch") {
    if (which === "new") {
      if (target === null) return node;
      const branches = Array.isArray(node.branches) ? (node.branches as unknown[]) : [];
      const taken = new Set(branches.flatMap((b) => (isObject(b) && typeof b.branch_id === "string" ? [b.branch_id] : [])));
      let n = branches.length + 1;
      while (taken.has(`branch_${String(n)}`)) n++;
      return { ...node, branches: [...branches, { branch_id: `branch_${String(n)}`, start_node: target }] };
    }
    return { ...node, branches: setIn(node.branches, Number(which), (b) => (target === null ? without(b, "start_node") : { ...b, start_node: target })) };
  }
  if (kind === "transition") {
    return { ...node, transitions: setIn(node.transitions, Number(which), (t) => (target === null ? without(t, "target_node_id") : { ...t, target_node_id: target })) };
  }
  if (kind === "fallback") {
    return { ...node, error_handlers: setIn(node.error_handlers, Number(which), (h) => (target === null ? without(h, "fallback_node") : { ...h, fallback_node: target })) };
  }
  if (kind === "escalation" && isObject(node.sla)) {
    const sla = node.sla;
    return { ...node, sla: target === null ? without(sla, "escalation_handler") : { ...sla, escalation_handler: target } };
  }
  throw new BuilderError(`a ${nodeTypeOf(node)} node has no output "${portId}"`);
}

/** `node` with every reference to a node id passed through `fn` (a reference `fn` maps to null is removed). */
function mapReferences(node: JsonObject, fn: (target: string) => string | null): JsonObject {
  let out = node;
  for (const port of outputPorts(node)) {
    if (port.target === null) continue;
    const next = fn(port.target);
    if (next !== port.target) out = writePort(out, port.id, next);
  }
  return out;
}

// ---------------------------------------------------------------------------
// Edits

export function connect(doc: CkpDoc, source: string, portId: string, target: string): CkpDoc {
  const node = requireNode(doc, source);
  requireNode(doc, target);
  const updated = writePort(node, portId, target);
  return mapNodes(doc, (id, n) => (id === source ? updated : n));
}

export function disconnect(doc: CkpDoc, source: string, portId: string): CkpDoc {
  const node = requireNode(doc, source);
  const updated = writePort(node, portId, null);
  return mapNodes(doc, (id, n) => (id === source ? updated : n));
}

export function positionOf(node: JsonObject): Position | null {
  const ui = node.$ui;
  if (!isObject(ui) || !isObject(ui.position)) return null;
  const { x, y } = ui.position;
  return typeof x === "number" && typeof y === "number" && Number.isFinite(x) && Number.isFinite(y) ? { x, y } : null;
}

function withPosition(node: JsonObject, position: Position): JsonObject {
  const ui = isObject(node.$ui) ? node.$ui : {};
  return { ...node, $ui: { ...ui, position: { x: Math.round(position.x), y: Math.round(position.y) } } };
}

export function setPositions(doc: CkpDoc, positions: ReadonlyMap<string, Position>): CkpDoc {
  return mapNodes(doc, (id, node) => {
    const p = positions.get(id);
    if (!p) return node;
    const old = positionOf(node);
    if (old && old.x === Math.round(p.x) && old.y === Math.round(p.y)) return node;
    return withPosition(node, p);
  });
}

export function setStart(doc: CkpDoc, id: string): CkpDoc {
  requireNode(doc, id);
  const graph = graphOf(doc);
  const key = START_KEYS.find((k) => k in graph) ?? "start_node";
  return withGraph(doc, { ...graph, [key]: id });
}

export function replaceNode(doc: CkpDoc, id: string, node: JsonObject): CkpDoc {
  requireNode(doc, id);
  return mapNodes(doc, (nid, n) => (nid === id ? node : n));
}

function freshId(taken: ReadonlySet<string>, base: string): string {
  const stem = base.replace(/[^A-Za-z0-9_.-]/g, "_").replace(/^[.-]+/, "") || "node";
  if (!taken.has(stem)) return stem;
  for (let n = 2; ; n++) {
    const id = `${stem}_${String(n)}`;
    if (!taken.has(id)) return id;
  }
}

/** A new node of `type`: the fields an author fills first, so its diagnostics point at what is missing. */
function skeleton(type: CkpNodeType, id: string): JsonObject {
  switch (type) {
    case "sequence":
      return { type, steps: [{ step_id: "step_1", action: "log", value: `${id} ran` }] };
    case "processing":
      return { type, operations: [{ action: "set_variable", variable: `${id}_result`, value: "" }] };
    case "transform":
      return { type, transformations: [] };
    case "subflow":
      return { type, procedure_id: "" };
    case "llm_action":
      return { type, prompt: "", output_variable: `${id}_result` };
    case "logic":
      return { type, rules: [] };
    case "loop":
      return { type, iterator: "", iterator_variable: "item" };
    case "parallel":
      return { type, branches: [], wait_strategy: "all" };
    case "verification":
      return { type, checks: [{ id: "check_1", condition: "" }] };
    case "human_approval":
      return { type, prompt: "", decision_type: "approve_reject" };
    case "terminate":
      return { type, status: "success" };
  }
}

/** An empty procedure in the canonical shape. */
export function newProcedure(procedureId = "new_procedure"): CkpDoc {
  return {
    procedure_id: procedureId,
    version: "1.0.0",
    description: "",
    variables_schema: {},
    workflow_graph: { start_node: "", nodes: {} },
  };
}

function nodeForDialect(doc: CkpDoc, id: string, node: JsonObject): JsonObject {
  const raw = graphOf(doc).nodes;
  if (!Array.isArray(raw)) return node;
  const sample = raw.find(isObject);
  const idKey = sample && "node_id" in sample && !("id" in sample) ? "node_id" : "id";
  return { [idKey]: id, ...node };
}

function insertNodes(doc: CkpDoc, added: readonly DocNode[]): CkpDoc {
  const graph = graphOf(doc);
  const raw = graph.nodes;
  let nodes: unknown;
  if (Array.isArray(raw)) nodes = [...(raw as readonly unknown[]), ...added.map((a) => nodeForDialect(doc, a.id, a.node))];
  else nodes = { ...(isObject(raw) ? raw : {}), ...Object.fromEntries(added.map((a) => [a.id, a.node])) };
  let next = withGraph(doc, { ...graph, nodes });
  const first = added[0];
  if (first && listNodes(doc).length === 0) next = setStart(next, first.id);
  return next;
}

export function addNode(doc: CkpDoc, type: CkpNodeType, position: Position): { doc: CkpDoc; id: string } {
  if (!NODE_TYPES.includes(type)) throw new BuilderError(`unknown node type "${type}"`);
  const id = freshId(new Set(listNodes(doc).map((n) => n.id)), type);
  const node = withPosition(skeleton(type, id), position);
  return { doc: insertNodes(doc, [{ id, node }]), id };
}

export function removeNodes(doc: CkpDoc, ids: readonly string[]): CkpDoc {
  const gone = new Set(ids);
  if (gone.size === 0) return doc;
  let next = mapNodes(doc, (id, node) => (gone.has(id) ? null : mapReferences(node, (t) => (gone.has(t) ? null : t))));
  const start = startNode(doc);
  if (gone.has(start)) {
    const graph = graphOf(next);
    const key = START_KEYS.find((k) => k in graph);
    const first = listNodes(next)[0]?.id;
    if (key) next = withGraph(next, first ? { ...graph, [key]: first } : { ...graph, [key]: "" });
  }
  return next;
}

/**
 * Copies of `ids` (new ids `<id>_copy`, ...), `offset` away from the originals' positions
 * (`from` gives positions for nodes that have none stored, e.g. laid out on the fly).
 * References among the copies follow the copies; references to nodes outside are dropped.
 */
export function duplicateNodes(
  doc: CkpDoc,
  ids: readonly string[],
  offset: Position = { x: 40, y: 40 },
  from?: ReadonlyMap<string, Position>,
): { doc: CkpDoc; ids: string[] } {
  const taken = new Set(listNodes(doc).map((n) => n.id));
  const renames = new Map<string, string>();
  for (const id of ids) {
    if (!getNode(doc, id)) throw new BuilderError(`there is no node "${id}"`);
    const copy = freshId(taken, `${id}_copy`);
    taken.add(copy);
    renames.set(id, copy);
  }
  const added: DocNode[] = [];
  for (const [original, copy] of renames) {
    const node = requireNode(doc, original);
    let clone = mapReferences(structuredClone(node), (t) => renames.get(t) ?? null);
    if ("id" in clone && Array.isArray(graphOf(doc).nodes)) clone = { ...clone, id: copy };
    if ("node_id" in clone && Array.isArray(graphOf(doc).nodes)) clone = { ...clone, node_id: copy };
    const at = positionOf(node) ?? from?.get(original) ?? null;
    clone = at ? withPosition(clone, { x: at.x + offset.x, y: at.y + offset.y }) : clone;
    added.push({ id: copy, node: clone });
  }
  return { doc: insertNodes(doc, added), ids: [...renames.values()] };
}

/** The document with node `from` called `to`: its key or id field, the start and every reference follow. */
export function renameNode(doc: CkpDoc, from: string, to: string): CkpDoc {
  if (from === to) return doc;
  requireNode(doc, from);
  if (!isValidNodeId(to)) throw new BuilderError(`"${to}" is not a valid node id: use letters, digits, _ . - (not first), at most 128 characters`);
  if (getNode(doc, to)) throw new BuilderError(`a node "${to}" already exists`);
  const follow = (t: string) => (t === from ? to : t);
  const graph = graphOf(doc);
  const raw = graph.nodes;
  let nodes: unknown;
  if (Array.isArray(raw)) {
    nodes = (raw as readonly unknown[]).map((node, index) => {
      if (!isObject(node)) return node;
      let out = mapReferences(node, follow);
      if (listId(node, index) === from) out = "id" in node || !("node_id" in node) ? { ...out, id: to } : { ...out, node_id: to };
      return out;
    });
  } else {
    nodes = Object.fromEntries(
      Object.entries(isObject(raw) ? raw : {}).map(([id, node]) => [id === from ? to : id, isObject(node) ? mapReferences(node, follow) : node]),
    );
  }
  const nextGraph: JsonObject = { ...graph, nodes };
  for (const key of START_KEYS) if (nextGraph[key] === from) nextGraph[key] = to;
  let next = withGraph(doc, nextGraph);
  if (isObject(doc.workflow_graph)) {
    for (const key of START_KEYS) if (next[key] === from) next = { ...next, [key]: to };
  }
  return next;
}

// ---------------------------------------------------------------------------
// The palette

export interface PaletteItem {
  type: CkpNodeType;
  label: string;
  help: string;
}

export const PALETTE: { tier: Tier; title: string; items: PaletteItem[] }[] = [
  {
    tier: "deterministic",
    title: "Deterministic",
    items: [
      { type: "sequence", label: "Sequence", help: "Steps run in order on an agent channel (or internal actions)." },
      { type: "processing", label: "Processing", help: "Internal operations: set, calculate, parse, format, notify." },
      { type: "transform", label: "Transform", help: "Filter, map, sort, group or aggregate data." },
      { type: "subflow", label: "Subflow", help: "Run another procedure and map its inputs and outputs." },
    ],
  },
  {
    tier: "intelligent",
    title: "Intelligent",
    items: [{ type: "llm_action", label: "LLM action", help: "Extract, classify or draft with a model, within a budget." }],
  },
  {
    tier: "control",
    title: "Control",
    items: [
      { type: "logic", label: "Logic", help: "Route by rules, first match wins, else the default." },
      { type: "loop", label: "Loop", help: "Run a body once per item of a list." },
      { type: "parallel", label: "Parallel", help: "Run branches at the same time, then join." },
      { type: "verification", label: "Verification", help: "Check conditions; route on pass or fail." },
      { type: "human_approval", label: "Human approval", help: "Wait for a person to approve or reject, with a timeout." },
      { type: "terminate", label: "Terminate", help: "End the run with a status and outputs." },
    ],
  },
];
