/**
 * The CKP JSON Schema check the editor runs on every change (the server's compiler
 * still has the last word: it also checks references, reachability and templates).
 *
 * The schema uses OpenAPI-style `discriminator` on node types; plain `oneOf` would
 * report every other node type's mismatch, so each discriminated `oneOf` is rewritten
 * into `if type == X then NodeX` before compiling, and errors only name the real type.
 */
import Ajv2020, { type ErrorObject, type ValidateFunction } from "ajv/dist/2020";
import { TYPE_WORDS } from "@/lib/inputs/variables";

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function rewrite(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(rewrite);
  if (!isObject(node)) return node;
  const out: Json = {};
  for (const [k, v] of Object.entries(node)) out[k] = rewrite(v);
  const disc = out.discriminator;
  if (isObject(disc) && typeof disc.propertyName === "string" && isObject(disc.mapping) && Array.isArray(out.oneOf)) {
    const prop = disc.propertyName;
    const mapping = disc.mapping as Record<string, string>;
    delete out.discriminator;
    delete out.oneOf;
    out.required = [...(Array.isArray(out.required) ? (out.required as string[]) : []), prop];
    out.properties = { ...(isObject(out.properties) ? out.properties : {}), [prop]: { enum: Object.keys(mapping) } };
    out.allOf = Object.entries(mapping).map(([value, ref]) => ({
      if: { properties: { [prop]: { const: value } }, required: [prop] },
      then: { $ref: ref },
    }));
  }
  return out;
}

/** The schema with discriminated unions rewritten (exported for tests). */
export function prepareSchema(schema: unknown): unknown {
  return rewrite(schema);
}

export interface SchemaProblem {
  path: string;
  message: string;
}

/** JSON Schema type(s) in words: "number" → "a number", ["string", "null"] → "text or null". */
export function typeWords(type: unknown): string {
  const list = Array.isArray(type) ? type.map(String) : [String(type)];
  const words = list.map((t) => (TYPE_WORDS as Readonly<Record<string, string>>)[t] ?? t);
  return words.length > 1 ? `${words.slice(0, -1).join(", ")} or ${words[words.length - 1] ?? ""}` : (words[0] ?? "");
}

/** The field a JSON Pointer ends at, as a person would name it: "/amount" → "amount", "/steps/2" → "steps[2]". */
export function fieldName(pointer: string): string {
  const parts = pointer.split("/").slice(1).map((p) => p.replace(/~1/g, "/").replace(/~0/g, "~"));
  const last = parts[parts.length - 1];
  if (last === undefined) return "The document";
  if (/^\d+$/.test(last)) {
    const parent = parts[parts.length - 2];
    return parent === undefined ? `Item ${last}` : `${parent}[${last}]`;
  }
  return last;
}

function count(n: unknown, noun: string): string {
  return `${String(n)} ${noun}${n === 1 ? "" : "s"}`;
}

function value(v: unknown): string {
  return typeof v === "string" ? `"${v}"` : JSON.stringify(v);
}

/** What is wrong, in plain words, starting with the field's name ("amount must be a number"). */
function describe(e: ErrorObject): string {
  const p = e.params as Record<string, unknown>;
  const name = fieldName(e.instancePath);
  switch (e.keyword) {
    case "required":
      return `missing required field "${String(p.missingProperty)}"`;
    case "additionalProperties":
      return `unknown field "${String(p.additionalProperty)}"`;
    case "type":
      return `${name} must be ${typeWords(p.type)}`;
    case "enum":
      return `${name} must be one of ${Array.isArray(p.allowedValues) ? p.allowedValues.map(value).join(", ") : "the allowed values"}`;
    case "const":
      return `${name} must be ${value(p.allowedValue)}`;
    case "minimum":
      return `${name} must be at least ${String(p.limit)}`;
    case "maximum":
      return `${name} must be at most ${String(p.limit)}`;
    case "exclusiveMinimum":
      return `${name} must be more than ${String(p.limit)}`;
    case "exclusiveMaximum":
      return `${name} must be less than ${String(p.limit)}`;
    case "minLength":
      return p.limit === 1 ? `${name} must not be empty` : `${name} must be at least ${count(p.limit, "character")} long`;
    case "maxLength":
      return `${name} must be at most ${count(p.limit, "character")} long`;
    case "minItems":
      return `${name} must have at least ${count(p.limit, "item")}`;
    case "maxItems":
      return `${name} must have at most ${count(p.limit, "item")}`;
    case "minProperties":
      return `${name} must have at least ${count(p.limit, "field")}`;
    case "maxProperties":
      return `${name} must have at most ${count(p.limit, "field")}`;
    case "uniqueItems":
      return `${name} must not repeat an item (items ${String(p.j)} and ${String(p.i)} are the same)`;
    case "pattern":
      return `${name} must match the pattern ${String(p.pattern)}`;
    case "format":
      return `${name} must be a valid ${String(p.format)}`;
    default:
      return `${name} ${e.message ?? e.keyword}`;
  }
}

/** Compiles once per schema; `check` returns every problem with its JSON Pointer. */
export function schemaChecker(schema: unknown): (doc: unknown) => SchemaProblem[] {
  let validate: ValidateFunction | null = null;
  return (doc) => {
    if (!validate) {
      const ajv = new Ajv2020({ allErrors: true, strict: false, validateFormats: false });
      validate = ajv.compile(prepareSchema(schema) as object);
    }
    if (validate(doc)) return [];
    const canonical = isObject(doc) && "workflow_graph" in doc;
    const seen = new Set<string>();
    const out: SchemaProblem[] = [];
    for (const e of validate.errors ?? []) {
      if (e.keyword === "if" || e.keyword === "anyOf" || e.keyword === "oneOf") continue;
      // Errors against the legacy shape mean nothing for a canonical document (and vice versa).
      if (canonical === e.schemaPath.includes("Legacy")) continue;
      const problem = { path: e.instancePath, message: describe(e) };
      const key = `${problem.path} ${problem.message}`;
      if (!seen.has(key)) {
        seen.add(key);
        out.push(problem);
      }
    }
    return out;
  };
}
