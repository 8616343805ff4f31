/**
 * The variables a template may read at a node, for `{{` completion in the builder.
 *
 * The server's data-flow analysis (`POST /api/procedures/validate` → `scopes[node_id]`)
 * says what is known when a node starts. Inside a sequence / processing / transform /
 * terminate node the steps see what the earlier ones wrote, which only the editor knows
 * (it depends on the step being edited), so that part is added here. Until the server
 * has answered for a node (a node added a moment ago), the same may-analysis is done in
 * the browser: declared variables, built-ins and what every node that can reach this
 * one writes (mirrors `langorch.ckp.dataflow.generated`).
 */
import { ckpNodes, nodeEdges } from "@/lib/ckp/graph";
import { canonicalType } from "@/lib/ckp/tiers";
import { declaredVariables } from "@/lib/inputs/variables";

type Json = Record<string, unknown>;

/** Names every template may use without declaring them (`langorch.ckp.catalog.BUILTIN_VARIABLES`). */
export const BUILTIN_VARIABLES: readonly string[] = [
  "run_id",
  "procedure_id",
  "procedure_version",
  "now",
  "today",
  "secrets",
  "error",
  "telemetry",
  "input",
  "variables",
  "node_id",
  "loop",
  "approval",
  "env_name",
];

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function str(value: unknown): string | null {
  return typeof value === "string" && value !== "" ? value : null;
}

function list(value: unknown): Json[] {
  return Array.isArray(value) ? value.filter(isObject) : [];
}

function typeOf(node: Json): string {
  return canonicalType(str(node.type) ?? str(node.node_type) ?? "");
}

/** Secret names declared in `global_config.secrets_config.secret_references`. */
export function secretNames(doc: unknown): string[] {
  if (!isObject(doc) || !isObject(doc.global_config)) return [];
  const sc = doc.global_config.secrets_config;
  return isObject(sc) && isObject(sc.secret_references) ? Object.keys(sc.secret_references) : [];
}

/** What one step / operation / cleanup action writes. */
function stepWrites(step: Json, operation: boolean): string[] {
  const out = [str(step.output_variable)];
  if (operation) out.push(str(step.variable), str(step.array));
  else if (step.action === "set_variable") out.push(str(step.variable));
  return out.filter((n): n is string => n !== null);
}

/** The node's ordered list of "steps" that write, as [item, isOperation]; `limit` keeps only the first ones. */
function innerItems(node: Json, limit?: number): [Json, boolean][] {
  const type = typeOf(node);
  const cut = <T>(items: T[]): T[] => (limit === undefined ? items : items.slice(0, Math.max(0, limit)));
  if (type === "sequence") return cut(list(node.steps)).map((s) => [s, false]);
  if (type === "processing") return cut(list(node.operations)).map((s) => [s, true]);
  if (type === "transform") return cut(list(node.transformations)).map((t) => [{ output_variable: t.output_variable }, false]);
  if (type === "terminate") {
    const actions = [...list(node.cleanup_actions), ...list(node.error_actions)];
    return cut(actions).map((a) => [a, typeof a.action === "string" && OPERATIONS.has(a.action)]);
  }
  return [];
}

const OPERATIONS = new Set([
  "set_variable", "append_to_array", "parse_excel_data", "parse_json", "parse_xml", "parse_csv",
  "calculate", "format_string", "extract_regex", "notify", "log", "hash", "validate_schema", "convert_type",
]);

/** Variables `node` writes when it runs (`langorch.ckp.dataflow.generated`). */
export function nodeWrites(nodeId: string, node: Json): string[] {
  const type = typeOf(node);
  const names: (string | null)[] = [];
  for (const [item, op] of innerItems(node)) names.push(...stepWrites(item, op));
  if (type === "llm_action") {
    const outputs = isObject(node.outputs) ? Object.keys(node.outputs) : [];
    names.push(...outputs, str(node.output_variable));
    if (outputs.length === 0 && !str(node.output_variable)) names.push("llm_response");
  } else if (type === "loop") {
    names.push(str(node.iterator_variable) ?? "item", str(node.index_variable), str(node.collect_variable));
  } else if (type === "human_approval") {
    names.push(str(node.decision_variable));
  } else if (type === "verification") {
    names.push("verification");
  } else if (type === "parallel") {
    names.push(`${nodeId}_branches`);
  } else if (type === "subflow") {
    const mapped = isObject(node.output_mapping) ? Object.keys(node.output_mapping) : [];
    names.push(...(mapped.length ? mapped : [`${nodeId}_outputs`]));
    if (node.on_failure === "continue") names.push(`${nodeId}_error`);
  }
  return names.filter((n): n is string => n !== null && n !== "");
}

/** Variables known when `nodeId` starts, computed in the browser (server scope unknown). */
export function localEntryScope(doc: unknown, nodeId: string): string[] {
  const { nodes } = ckpNodes(doc);
  const byId = new Map(nodes);
  const preds = new Map<string, string[]>();
  for (const [id, node] of nodes) {
    for (const e of nodeEdges(id, node)) {
      if (!byId.has(e.target)) continue;
      const p = preds.get(e.target) ?? [];
      p.push(id);
      preds.set(e.target, p);
    }
  }
  const onFailure = isObject(doc) && isObject(doc.global_config) ? str(doc.global_config.on_failure) : null;
  if (onFailure && byId.has(onFailure)) preds.set(onFailure, nodes.map(([id]) => id).filter((id) => id !== onFailure));
  const seen = new Set<string>();
  const stack = [...(preds.get(nodeId) ?? [])];
  const out = new Set<string>();
  while (stack.length) {
    const id = stack.pop() ?? "";
    if (seen.has(id)) continue;
    seen.add(id);
    const node = byId.get(id);
    if (node) for (const name of nodeWrites(id, node)) out.add(name);
    stack.push(...(preds.get(id) ?? []));
  }
  const declared = isObject(doc) ? declaredVariables(doc.variables_schema).map((v) => v.name) : [];
  return [...declared, ...BUILTIN_VARIABLES, ...out];
}

/**
 * Variables in scope at `nodeId`: what the server says is known at node entry (or the
 * browser's estimate when it has not said), the built-ins, `secrets.<name>` for every
 * declared secret, and inside a node with steps what the steps before `stepIndex` wrote
 * (all of them when `stepIndex` is undefined: the node's own fields are read after its
 * steps). Loop nodes add their item and index variables. Sorted, each once.
 */
export function scopeAt(doc: unknown, nodeId: string, serverScope?: readonly string[] | null, stepIndex?: number): string[] {
  const names = new Set<string>(serverScope && serverScope.length > 0 ? serverScope : localEntryScope(doc, nodeId));
  for (const b of BUILTIN_VARIABLES) names.add(b);
  for (const s of secretNames(doc)) names.add(`secrets.${s}`);
  const node = ckpNodes(doc).nodes.find(([id]) => id === nodeId)?.[1];
  if (node) {
    for (const [item, op] of innerItems(node, stepIndex)) for (const n of stepWrites(item, op)) names.add(n);
    if (typeOf(node) === "loop") {
      names.add(str(node.iterator_variable) ?? "item");
      const index = str(node.index_variable);
      if (index) names.add(index);
    }
  }
  return [...names].sort((a, b) => a.localeCompare(b));
}

/** One completion root: a variable name, what it is, and the fields after `name.` that are known. */
export interface ScopeEntry {
  name: string;
  detail: string;
  fields: string[];
}

function specFields(spec: Json): string[] {
  for (const key of ["properties", "fields"] as const) {
    const v = spec[key];
    if (isObject(v)) return Object.keys(v);
  }
  if (isObject(spec.default)) return Object.keys(spec.default);
  return [];
}

/** Raw spec of every declared variable (split or flat `variables_schema`). */
function declaredSpecs(doc: unknown): Map<string, Json> {
  const out = new Map<string, Json>();
  if (!isObject(doc) || !isObject(doc.variables_schema)) return out;
  const vs = doc.variables_schema;
  const groups = ["required", "optional"].filter((k) => isObject(vs[k]));
  const maps = groups.length ? groups.map((k) => vs[k] as Json) : [vs];
  for (const m of maps) for (const [name, spec] of Object.entries(m)) if (isObject(spec)) out.set(name, spec);
  return out;
}

/**
 * `scope` (as from {@link scopeAt}) as completion roots: dotted names become fields of their
 * root (`secrets.api_key` → `secrets` with field `api_key`), declared object variables get
 * the fields their spec names (`properties` / `fields`, or the keys of an object default).
 */
export function scopeEntries(doc: unknown, scope: readonly string[]): ScopeEntry[] {
  const specs = declaredSpecs(doc);
  const roots = new Map<string, Set<string>>();
  for (const name of scope) {
    const [root = "", ...rest] = name.split(".");
    if (!root) continue;
    const fields = roots.get(root) ?? new Set<string>();
    if (rest.length) fields.add(rest.join("."));
    roots.set(root, fields);
  }
  const builtins = new Set(BUILTIN_VARIABLES);
  return [...roots.entries()]
    .map(([name, fields]) => {
      const spec = specs.get(name);
      if (spec) for (const f of specFields(spec)) fields.add(f);
      const detail = spec ? (typeof spec.type === "string" ? spec.type : "declared") : builtins.has(name) ? "built-in" : "written earlier";
      return { name, detail, fields: [...fields].sort((a, b) => a.localeCompare(b)) };
    })
    .sort((a, b) => a.name.localeCompare(b.name));
}
