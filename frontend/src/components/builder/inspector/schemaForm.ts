/**
 * The value logic of the inspector's schema-generated forms, without React.
 *
 * Fields come from the CKP JSON Schema (`$defs`): `anyOf [X, null]` optionals, `$ref`s,
 * enums, defaults and descriptions. Edits return new objects and are lossless: an
 * unset field is removed (never written as `null` or as its default), every other key
 * keeps its value and its place, unknown keys are never touched.
 */
import schemaJson from "@/lib/ckp/ckp.schema.json";
import { escapePointerToken } from "@/lib/ckp/pointer";
import { canonicalType } from "@/lib/ckp/tiers";
import type { EditorProblem } from "@/components/ckp/diagnostics";

export type Json = Record<string, unknown>;
export type JsonSchema = Record<string, unknown>;

export const CKP_SCHEMA = schemaJson as unknown as JsonSchema;

export type FieldKind =
  | "string"
  | "number"
  | "integer"
  | "boolean"
  | "enum"
  | "object"
  | "objectArray"
  | "stringArray"
  | "json"
  | "any"
  | "const";

export interface FieldSpec {
  key: string;
  title: string;
  description: string;
  required: boolean;
  kind: FieldKind;
  /** The resolved non-null schema (for objects: the one with `properties`; for objectArray: the item's). */
  schema: JsonSchema;
  enumValues: string[];
  default: unknown;
  hasDefault: boolean;
  /** For json fields: the shape the value must have, when the schema says. */
  expect: "object" | "array" | null;
  minimum: number | null;
  maximum: number | null;
}

export function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

const DEFS = (isObject(CKP_SCHEMA.$defs) ? CKP_SCHEMA.$defs : {}) as Record<string, JsonSchema>;

export function schemaDef(name: string): JsonSchema | undefined {
  return DEFS[name];
}

/** Follows `$ref`s (`#/$defs/X`) until a schema without one. */
export function resolveRef(schema: JsonSchema): JsonSchema {
  let s = schema;
  for (let i = 0; i < 10 && typeof s.$ref === "string"; i++) {
    const name = s.$ref.replace(/^#\/\$defs\//, "");
    const target = DEFS[name];
    if (!target) break;
    s = target;
  }
  return s;
}

const NODE_DEFS: Record<string, string> = {
  sequence: "SequenceNode",
  logic: "LogicNode",
  loop: "LoopNode",
  parallel: "ParallelNode",
  processing: "ProcessingNode",
  verification: "VerificationNode",
  llm_action: "LlmActionNode",
  human_approval: "HumanApprovalNode",
  transform: "TransformNode",
  subflow: "SubflowNode",
  terminate: "TerminateNode",
};

/** The node's type as written (`type`, or `node_type` in older dialects), aliases resolved. */
export function nodeTypeName(node: Json): string {
  const t = typeof node.type === "string" ? node.type : typeof node.node_type === "string" ? node.node_type : "";
  return canonicalType(t);
}

export function nodeSchema(type: string): JsonSchema | undefined {
  const name = NODE_DEFS[canonicalType(type)];
  return name ? DEFS[name] : undefined;
}

function schemaList(value: unknown): JsonSchema[] {
  return Array.isArray(value) ? value.filter(isObject) : [];
}

const NUMERIC = new Set(["number", "integer"]);

/** A number schema, or an anyOf of number schemas (pydantic's `int | float`). */
function isNumeric(s: JsonSchema): boolean {
  if (typeof s.type === "string") return NUMERIC.has(s.type);
  const alternatives = schemaList(s.anyOf);
  return alternatives.length > 0 && alternatives.every(isNumeric);
}

/** `key` of an object schema as a form field. */
export function describeField(key: string, raw: JsonSchema, required: boolean): FieldSpec {
  let s = resolveRef(raw);
  const base = {
    key,
    title: typeof raw.title === "string" ? raw.title : typeof s.title === "string" && !("properties" in s) ? s.title : humanTitle(key),
    description: typeof raw.description === "string" ? raw.description : typeof s.description === "string" ? s.description : "",
    required,
    default: raw.default,
    hasDefault: "default" in raw && raw.default !== null,
    enumValues: [] as string[],
    expect: null as FieldSpec["expect"],
    minimum: null as number | null,
    maximum: null as number | null,
  };
  const alternatives = schemaList(s.anyOf);
  if (alternatives.length) {
    const nonNull = alternatives.filter((a) => a.type !== "null").map(resolveRef);
    if (nonNull.length === 1 && nonNull[0]) {
      s = nonNull[0];
    } else if (nonNull.every(isNumeric)) {
      return { ...base, kind: "number", schema: s };
    } else {
      return { ...base, kind: "json", schema: s };
    }
  }
  // A number written as anyOf [integer, number] (pydantic's `int | float`).
  if (schemaList(s.anyOf).length > 0 && isNumeric(s)) {
    return { ...base, kind: "number", schema: s, minimum: num(s.minimum ?? s.ge), maximum: num(s.maximum ?? s.le) };
  }
  if (base.description === "" && typeof s.description === "string" && !("properties" in s)) base.description = s.description;
  const limits = { minimum: num(s.minimum ?? s.ge), maximum: num(s.maximum ?? s.le) };
  if ("const" in s) return { ...base, kind: "const", schema: s };
  if (Array.isArray(s.enum)) {
    return { ...base, ...limits, kind: "enum", schema: s, enumValues: s.enum.filter((v): v is string => typeof v === "string") };
  }
  if ("if" in s) return { ...base, kind: "json", schema: s };
  switch (s.type) {
    case "string":
      return { ...base, kind: "string", schema: s };
    case "integer":
      return { ...base, ...limits, kind: "integer", schema: s };
    case "number":
      return { ...base, ...limits, kind: "number", schema: s };
    case "boolean":
      return { ...base, kind: "boolean", schema: s };
    case "object":
      return isObject(s.properties) ? { ...base, kind: "object", schema: s } : { ...base, kind: "json", schema: s, expect: "object" };
    case "array": {
      const items = isObject(s.items) ? resolveRef(s.items) : {};
      if (items.type === "string") return { ...base, kind: "stringArray", schema: s };
      if (isObject(items.properties) && !("if" in items)) return { ...base, kind: "objectArray", schema: items };
      return { ...base, kind: "json", schema: s, expect: "array" };
    }
    default:
      return { ...base, kind: "any", schema: s };
  }
}

function num(value: unknown): number | null {
  return typeof value === "number" ? value : null;
}

/** Every property of an object schema as a field, in the schema's order. */
export function objectFields(schema: JsonSchema): FieldSpec[] {
  const s = resolveRef(schema);
  const props = isObject(s.properties) ? (s.properties as Record<string, JsonSchema>) : {};
  const required = new Set(Array.isArray(s.required) ? s.required : []);
  return Object.entries(props).map(([key, p]) => describeField(key, p, required.has(key)));
}

/** "retry_delay_ms" → "Retry delay ms". */
export function humanTitle(key: string): string {
  const words = key.replace(/^\$/, "").replace(/_/g, " ").trim();
  return words ? words.charAt(0).toUpperCase() + words.slice(1) : key;
}

// ---------------------------------------------------------------- value edits

/** `obj` with `key` set to `value` (kept in its place), or removed when `value` is undefined. */
export function setField(obj: Json, key: string, value: unknown): Json {
  if (value === undefined) {
    if (!(key in obj)) return obj;
    const out: Json = {};
    for (const [k, v] of Object.entries(obj)) if (k !== key) out[k] = v;
    return out;
  }
  if (obj[key] === value && key in obj) return obj;
  return { ...obj, [key]: value };
}

export function getIn(value: unknown, path: readonly (string | number)[]): unknown {
  let v: unknown = value;
  for (const t of path) {
    if (Array.isArray(v) && typeof t === "number") v = v[t];
    else if (isObject(v)) v = v[String(t)];
    else return undefined;
  }
  return v;
}

/**
 * `obj` with the value at `path` set (undefined: removed). Missing objects on the way are
 * created; an object that an unset leaves empty is removed too (it was only there for
 * that field), up to `obj` itself.
 */
export function setIn(obj: Json, path: readonly string[], value: unknown): Json {
  const [head, ...rest] = path;
  if (head === undefined) return obj;
  if (rest.length === 0) return setField(obj, head, value);
  const child = isObject(obj[head]) ? obj[head] : {};
  const next = setIn(child, rest, value);
  if (value === undefined && Object.keys(next).length === 0) return setField(obj, head, undefined);
  return setField(obj, head, next);
}

/** The nested object after a field edit: removed when an unset left it empty. */
export function pruneEmpty(obj: Json, removedSomething: boolean): Json | undefined {
  return removedSomething && Object.keys(obj).length === 0 ? undefined : obj;
}

export function moveItem<T>(items: readonly T[], from: number, to: number): T[] {
  if (from === to || from < 0 || to < 0 || from >= items.length || to >= items.length) return [...items];
  const out = [...items];
  const [item] = out.splice(from, 1);
  out.splice(to, 0, item as T);
  return out;
}

export function removeAt<T>(items: readonly T[], index: number): T[] {
  return items.filter((_, i) => i !== index);
}

export function replaceAt<T>(items: readonly T[], index: number, value: T): T[] {
  return items.map((v, i) => (i === index ? value : v));
}

/** A new array item: only its required fields, strings empty and enums at their default (or first value). */
export function newItem(itemSchema: JsonSchema): Json {
  const out: Json = {};
  for (const f of objectFields(itemSchema)) {
    if (!f.required) continue;
    if (f.kind === "enum") out[f.key] = f.hasDefault ? f.default : (f.enumValues[0] ?? "");
    else if (f.kind === "string") out[f.key] = "";
  }
  return out;
}

// ---------------------------------------------------------------- text ↔ value

export type Parsed<T> = { ok: true; value: T | undefined } | { ok: false; error: string };

/** A number field's text: empty → unset. */
export function parseNumber(text: string, integer: boolean): Parsed<number> {
  const t = text.trim();
  if (t === "") return { ok: true, value: undefined };
  const n = Number(t);
  if (!Number.isFinite(n)) return { ok: false, error: "Enter a number." };
  if (integer && !Number.isInteger(n)) return { ok: false, error: "Enter a whole number." };
  return { ok: true, value: n };
}

/** A JSON field's text: empty → unset; `expect` checks the shape. */
export function parseJsonText(text: string, expect: "object" | "array" | null = null): Parsed<unknown> {
  if (text.trim() === "") return { ok: true, value: undefined };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    return { ok: false, error: `Not valid JSON: ${e instanceof Error ? e.message : "parse error"}` };
  }
  if (expect === "object" && !isObject(value)) return { ok: false, error: "Enter a JSON object: { … }." };
  if (expect === "array" && !Array.isArray(value)) return { ok: false, error: "Enter a JSON list: [ … ]." };
  return { ok: true, value };
}

export function jsonText(value: unknown): string {
  return value === undefined ? "" : JSON.stringify(value, null, 2);
}

/** One item per line; blank lines dropped; nothing → unset. */
export function parseLines(text: string): string[] | undefined {
  const items = text.split("\n").map((l) => l.trim()).filter((l) => l !== "");
  return items.length ? items : undefined;
}

/** Text of an optional string field → its value: empty is unset unless the field is required. */
export function stringValue(text: string, required: boolean): string | undefined {
  return text === "" && !required ? undefined : text;
}

/** A nullable boolean's select value: "" unset, "true", "false". */
export function boolValue(choice: string): boolean | undefined {
  return choice === "true" ? true : choice === "false" ? false : undefined;
}

// ---------------------------------------------------------------- pointers and problems

export function childPointer(base: string, ...tokens: (string | number)[]): string {
  return tokens.reduce<string>((p, t) => `${p}/${escapePointerToken(String(t))}`, base);
}

/**
 * The problems a field at `pointer` shows itself: at its pointer, or below it but not
 * under one of `childKeys` (the fields it renders, which show their own). With no child
 * keys a field takes everything under it: the deepest rendered field that is a prefix of
 * a problem's path shows it.
 */
export function ownProblems<P extends Pick<EditorProblem, "path">>(problems: readonly P[], pointer: string, childKeys: Iterable<string> = []): P[] {
  const children = new Set([...childKeys].map((k) => escapePointerToken(k)));
  return problems.filter((p) => {
    if (p.path === pointer) return true;
    if (!p.path.startsWith(`${pointer}/`)) return false;
    const next = p.path.slice(pointer.length + 1).split("/")[0] ?? "";
    return !children.has(next);
  });
}

/** Problems at or below `pointer`. */
export function problemsUnder<P extends Pick<EditorProblem, "path">>(problems: readonly P[], pointer: string): P[] {
  return problems.filter((p) => p.path === pointer || p.path.startsWith(`${pointer}/`));
}

/** Of `pointers`, the deepest that is `path` or a prefix of it (the field to focus for a problem). */
export function deepestField(pointers: Iterable<string>, path: string): string | null {
  let best: string | null = null;
  for (const p of pointers) {
    if ((path === p || path.startsWith(`${p}/`) || p === "") && (best === null || p.length > best.length)) best = p;
  }
  return best;
}
