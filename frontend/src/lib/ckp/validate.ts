/**
 * The CKP JSON Schema check the editor runs on every change (the server's compiler
 * still has the last word: it also checks references, reachability and templates).
 *
 * The schema uses OpenAPI-style `discriminator` on node types; plain `oneOf` would
 * report every other node type's mismatch, so each discriminated `oneOf` is rewritten
 * into `if type == X then NodeX` before compiling, and errors only name the real type.
 */
import Ajv2020, { type ErrorObject, type ValidateFunction } from "ajv/dist/2020";

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

function describe(e: ErrorObject): string {
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case "required":
      return `missing required field "${String(p.missingProperty)}"`;
    case "enum":
      return `must be one of ${JSON.stringify(p.allowedValues)}`;
    case "additionalProperties":
      return `unknown field "${String(p.additionalProperty)}"`;
    default:
      return e.message ?? e.keyword;
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
