/**
 * variables_schema → run input fields, and the rules the server applies to run inputs
 * (`langorch.runtime.inputs`): defaults, required, type, allowed_values, regex
 * full-match, min/max length, min/max value (or item count for arrays). Messages say
 * the same as the server's in plain words ("must be a number", not "must be a number,
 * got str"); `plainInputMessage` words a 422's messages the same way.
 */

export type VariableType = "string" | "number" | "integer" | "boolean" | "array" | "object" | "any";

export interface VariableField {
  name: string;
  type: VariableType;
  required: boolean;
  description: string;
  origin: string | null;
  hasDefault: boolean;
  default: unknown;
  regex: string | null;
  min: number | null;
  max: number | null;
  minLength: number | null;
  maxLength: number | null;
  allowedValues: unknown[] | null;
  sensitive: boolean;
}

type Json = Record<string, unknown>;

const TYPES: readonly VariableType[] = ["string", "number", "integer", "boolean", "array", "object", "any"];

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function num(value: unknown): number | null {
  return typeof value === "number" && Number.isFinite(value) ? value : null;
}

function int(value: unknown): number | null {
  return typeof value === "number" && Number.isInteger(value) ? value : null;
}

/** Split shape `{required: {...}, optional: {...}}` versus a flat `{name: spec}` map (as the compiler decides). */
function isSplit(schema: Json): boolean {
  const groups = (["required", "optional"] as const).filter((k) => k in schema).map((k) => schema[k]);
  return (
    groups.length > 0 && groups.every((g) => isObject(g) && Object.values(g).every((spec) => isObject(spec)))
  );
}

function field(name: string, spec: Json, required: boolean): VariableField {
  const v = isObject(spec.validation) ? spec.validation : {};
  const type = typeof spec.type === "string" && (TYPES as readonly string[]).includes(spec.type) ? spec.type : "any";
  return {
    name,
    type: type as VariableType,
    required,
    description: typeof spec.description === "string" ? spec.description : "",
    origin: typeof spec.origin === "string" ? spec.origin : null,
    hasDefault: "default" in spec,
    default: spec.default,
    regex: typeof v.regex === "string" ? v.regex : null,
    min: num(v.min),
    max: num(v.max),
    minLength: int(v.min_length),
    maxLength: int(v.max_length),
    allowedValues: Array.isArray(v.allowed_values) ? v.allowed_values : null,
    sensitive: spec.sensitive === true || v.sensitive === true,
  };
}

/** Every declared variable, in declaration order, with whether the caller must supply it. */
export function declaredVariables(schema: unknown): VariableField[] {
  if (!isObject(schema)) return [];
  const out: VariableField[] = [];
  if (isSplit(schema)) {
    const required = isObject(schema.required) ? schema.required : {};
    const optional = isObject(schema.optional) ? schema.optional : {};
    for (const [name, spec] of Object.entries(required)) {
      if (isObject(spec)) out.push(field(name, spec, spec.required !== false));
    }
    for (const [name, spec] of Object.entries(optional)) {
      if (isObject(spec)) out.push(field(name, spec, spec.required === true));
    }
    return out;
  }
  for (const [name, spec] of Object.entries(schema)) {
    if (isObject(spec)) out.push(field(name, spec, spec.required === true));
  }
  return out;
}

/** Variables the run computes itself (origin system_captured) are outputs, not form fields. */
export function inputFields(fields: VariableField[]): VariableField[] {
  return fields.filter((f) => f.origin !== "system_captured");
}

/** Python's `re` syntax for named groups → JavaScript's; the rest of the common syntax is shared. */
export function pythonRegexToJs(pattern: string): string {
  return pattern.replace(/\(\?P<([A-Za-z_]\w*)>/g, "(?<$1>").replace(/\(\?P=([A-Za-z_]\w*)\)/g, "\\k<$1>");
}

/** `re.fullmatch(pattern, value)`; null when the pattern is not valid in JavaScript. */
export function fullMatch(pattern: string, value: string): boolean | null {
  let re: RegExp;
  try {
    re = new RegExp(`^(?:${pythonRegexToJs(pattern)})$`, "u");
  } catch {
    try {
      re = new RegExp(`^(?:${pythonRegexToJs(pattern)})$`);
    } catch {
      return null;
    }
  }
  return re.test(value);
}

/** A declared type (a variable's, or a JSON Schema type) in words: "must be " + this. */
export const TYPE_WORDS: Readonly<Record<VariableType | "null", string>> = {
  string: "text",
  number: "a number",
  integer: "a whole number",
  boolean: "true or false",
  array: "a list",
  object: "an object",
  any: "a value",
  null: "null",
};

/** Python type names the server prints ("got str") → the same words. */
const PY_TYPE: Readonly<Record<string, VariableType>> = {
  str: "string",
  string: "string",
  float: "number",
  number: "number",
  int: "integer",
  integer: "integer",
  bool: "boolean",
  boolean: "boolean",
  list: "array",
  array: "array",
  dict: "object",
  object: "object",
};

function allowedText(values: readonly unknown[]): string {
  return values.map((v) => (typeof v === "string" ? v : JSON.stringify(v))).join(", ");
}

/**
 * A server message about a run input in the form's plain words: "must be a number, got
 * str" → "must be a number"; 'must be one of ["EUR","USD"]' → "must be one of EUR, USD".
 * Anything else is returned as it is.
 */
export function plainInputMessage(message: string): string {
  const typed = /^must be an? (\w+), got \w+$/.exec(message);
  if (typed) {
    const type = PY_TYPE[typed[1] ?? ""];
    return type ? `must be ${TYPE_WORDS[type]}` : message;
  }
  const oneOf = /^must be one of (\[.*\])$/.exec(message);
  if (oneOf) {
    try {
      const values = JSON.parse(oneOf[1] ?? "") as unknown;
      if (Array.isArray(values)) return `must be one of ${allowedText(values)}`;
    } catch {
      return message;
    }
  }
  return message;
}

function typeMatches(type: VariableType, value: unknown): boolean {
  switch (type) {
    case "string":
      return typeof value === "string";
    case "number":
      return typeof value === "number";
    case "integer":
      return typeof value === "number" && Number.isInteger(value);
    case "boolean":
      return typeof value === "boolean";
    case "array":
      return Array.isArray(value);
    case "object":
      return isObject(value);
    case "any":
      return true;
  }
}

/** Python's `==` on JSON values (1 == 1.0, lists and dicts compared by content). */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a === "boolean" || typeof b === "boolean") return false;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => jsonEqual(x, b[i]));
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => k in b && jsonEqual(a[k], b[k]));
  }
  return false;
}

/** Python's `:g` formatting of a bound, as the server prints it (1.0 → "1", 0.5 → "0.5"). */
function g(value: number): string {
  return String(Number(value.toPrecision(6)));
}

/** The server's message for one present value, or null when it is acceptable. */
export function checkValue(f: VariableField, value: unknown): string | null {
  if (f.type !== "any" && !typeMatches(f.type, value)) return `must be ${TYPE_WORDS[f.type]}`;
  if (f.allowedValues !== null && !f.allowedValues.some((allowed) => jsonEqual(allowed, value))) {
    return `must be one of ${allowedText(f.allowedValues)}`;
  }
  if (typeof value === "string") {
    if (f.regex !== null && f.regex !== "" && fullMatch(f.regex, value) === false) {
      return `does not match the pattern ${f.regex}`;
    }
    // Python counts code points: a surrogate pair is one character.
    const length = value.replace(/[\uD800-\uDBFF][\uDC00-\uDFFF]/g, "_").length;
    if (f.minLength !== null && length < f.minLength) return `must be at least ${String(f.minLength)} characters`;
    if (f.maxLength !== null && length > f.maxLength) return `must be at most ${String(f.maxLength)} characters`;
  }
  if (typeof value === "number") {
    if (f.min !== null && value < f.min) return `must be ≥ ${g(f.min)}`;
    if (f.max !== null && value > f.max) return `must be ≤ ${g(f.max)}`;
  }
  if (Array.isArray(value)) {
    if (f.min !== null && value.length < f.min) return `must have at least ${g(f.min)} items`;
    if (f.max !== null && value.length > f.max) return `must have at most ${g(f.max)} items`;
  }
  return null;
}

function defaultValue(f: VariableField): unknown {
  const value = f.default;
  if (typeof value === "string") {
    const t = value.trim();
    if (t === "{{today}}" || t === "{{ today }}") return new Date().toISOString().slice(0, 10);
    if (t === "{{now}}" || t === "{{ now }}") return new Date().toISOString();
  }
  return value;
}

/** Inputs with defaults applied (a default of null is not applied, as on the server). */
export function applyDefaults(fields: VariableField[], inputs: Record<string, unknown>): Record<string, unknown> {
  const out = { ...inputs };
  for (const f of fields) {
    if (!(f.name in out) && f.hasDefault && f.default !== null && f.default !== undefined) out[f.name] = defaultValue(f);
  }
  return out;
}

/** Field name → message for every bad input, all at once; empty when the server would accept them. */
export function validateInputs(fields: VariableField[], inputs: Record<string, unknown>): Record<string, string> {
  const values = applyDefaults(fields, inputs);
  const problems: Record<string, string> = {};
  for (const f of fields) {
    const value = values[f.name];
    if (!(f.name in values) || value === null || value === undefined) {
      if (f.required && f.origin !== "system_captured") problems[f.name] = "is required";
      continue;
    }
    const problem = checkValue(f, value);
    if (problem !== null) problems[f.name] = problem;
  }
  return problems;
}

/** What a form control holds for a field: text for most types, a boolean for checkboxes. */
export type RawValue = string | boolean;

export type Parsed = { ok: true; value: unknown; present: boolean } | { ok: false; message: string };

/**
 * Form text → the JSON value sent as input. Empty text means "not given" (the server
 * then applies the default or reports "is required"). Text that cannot become the
 * declared type is a form error before anything reaches the server.
 */
export function parseRaw(f: VariableField, raw: RawValue): Parsed {
  if (typeof raw === "boolean") return { ok: true, value: raw, present: true };
  const text = raw;
  if (text.trim() === "" && f.type !== "string") return { ok: true, value: undefined, present: false };
  if (text === "" && f.type === "string") return { ok: true, value: undefined, present: false };
  switch (f.type) {
    case "string":
      return { ok: true, value: text, present: true };
    case "integer": {
      if (!/^\s*[-+]?\d+\s*$/.test(text)) return { ok: false, message: `must be ${TYPE_WORDS.integer}` };
      return { ok: true, value: Number.parseInt(text, 10), present: true };
    }
    case "number": {
      const n = Number(text.trim());
      if (!Number.isFinite(n)) return { ok: false, message: `must be ${TYPE_WORDS.number}` };
      return { ok: true, value: n, present: true };
    }
    case "boolean": {
      const t = text.trim().toLowerCase();
      if (["true", "1", "yes"].includes(t)) return { ok: true, value: true, present: true };
      if (["false", "0", "no"].includes(t)) return { ok: true, value: false, present: true };
      return { ok: false, message: `must be ${TYPE_WORDS.boolean}` };
    }
    case "array":
    case "object":
    case "any": {
      try {
        return { ok: true, value: JSON.parse(text) as unknown, present: true };
      } catch {
        if (f.type === "any") return { ok: true, value: text, present: true };
        return { ok: false, message: `must be ${TYPE_WORDS[f.type]} written as JSON` };
      }
    }
  }
}

/** The initial text of a control: the default (or a previous run's input) as the user would type it. */
export function toRaw(f: VariableField, value: unknown): RawValue {
  if (value === undefined || value === null) return f.type === "boolean" ? false : "";
  if (f.type === "boolean" && typeof value === "boolean") return value;
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return JSON.stringify(value, null, 2);
}

/** Form state → {inputs, errors}: the values to post, and per-field messages (parse errors first, then server rules). */
export function formToInputs(
  fields: VariableField[],
  raw: Record<string, RawValue>,
): { inputs: Record<string, unknown>; errors: Record<string, string> } {
  const inputs: Record<string, unknown> = {};
  const parseErrors: Record<string, string> = {};
  for (const f of fields) {
    const r = raw[f.name];
    if (r === undefined) continue;
    const parsed = parseRaw(f, r);
    if (!parsed.ok) parseErrors[f.name] = parsed.message;
    else if (parsed.present) inputs[f.name] = parsed.value;
  }
  const ruleErrors = validateInputs(
    fields.filter((f) => !(f.name in parseErrors)),
    inputs,
  );
  return { inputs, errors: { ...ruleErrors, ...parseErrors } };
}
