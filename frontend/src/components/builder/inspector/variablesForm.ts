/**
 * Editing `variables_schema` in either shape the compiler reads — split
 * `{required: {name: spec}, optional: {name: spec}}` or flat `{name: spec}` — keeping its
 * shape, its order and every field of every spec (same reading as lib/inputs/variables).
 */
import { childPointer, isObject, setField, type Json } from "./schemaForm";

export type Group = "required" | "optional";

export interface VariableRow {
  name: string;
  /** The split shape's group; null in a flat map. */
  group: Group | null;
  spec: Json;
  required: boolean;
}

export function isSplit(vs: unknown): boolean {
  if (!isObject(vs)) return false;
  const groups = (["required", "optional"] as const).filter((k) => k in vs).map((k) => vs[k]);
  return groups.length > 0 && groups.every((g) => isObject(g) && Object.values(g).every(isObject));
}

export function variableRows(vs: unknown): VariableRow[] {
  if (!isObject(vs)) return [];
  const out: VariableRow[] = [];
  if (isSplit(vs)) {
    for (const group of ["required", "optional"] as const) {
      const g = vs[group];
      if (!isObject(g)) continue;
      for (const [name, spec] of Object.entries(g)) {
        if (isObject(spec)) out.push({ name, group, spec, required: group === "required" ? spec.required !== false : spec.required === true });
      }
    }
    return out;
  }
  for (const [name, spec] of Object.entries(vs)) {
    if (isObject(spec)) out.push({ name, group: null, spec, required: spec.required === true });
  }
  return out;
}

/** JSON pointer of a variable's spec. */
export function variablePointer(row: Pick<VariableRow, "name" | "group">): string {
  return row.group ? childPointer("/variables_schema", row.group, row.name) : childPointer("/variables_schema", row.name);
}

function groupOf(vs: Json, row: Pick<VariableRow, "group">): Json {
  if (row.group === null) return vs;
  const g = vs[row.group];
  return isObject(g) ? g : {};
}

function withGroup(vs: Json, row: Pick<VariableRow, "group">, map: Json): Json {
  return row.group === null ? map : setField(vs, row.group, map);
}

export function setSpec(vs: Json, row: Pick<VariableRow, "name" | "group">, spec: Json): Json {
  return withGroup(vs, row, setField(groupOf(vs, row), row.name, spec));
}

/** Renames in place (order kept); throws when `to` is empty or taken. */
export function renameVariable(vs: Json, row: Pick<VariableRow, "name" | "group">, to: string): Json {
  const name = to.trim();
  if (name === row.name) return vs;
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Error("A variable name is letters, digits and underscores, not starting with a digit.");
  if (variableRows(vs).some((r) => r.name === name)) throw new Error(`There is already a variable “${name}”.`);
  const out: Json = {};
  for (const [k, v] of Object.entries(groupOf(vs, row))) out[k === row.name ? name : k] = v;
  return withGroup(vs, row, out);
}

export function removeVariable(vs: Json, row: Pick<VariableRow, "name" | "group">): Json {
  return withGroup(vs, row, setField(groupOf(vs, row), row.name, undefined));
}

/**
 * Required or not: a flat spec gets `required: true` (or loses it); in the split shape the
 * spec moves to the other group, dropping a `required` flag that would contradict it.
 */
export function setRequired(vs: Json, row: VariableRow, required: boolean): Json {
  if (row.group === null) return setSpec(vs, row, setField(row.spec, "required", required ? true : undefined));
  const target: Group = required ? "required" : "optional";
  let spec = row.spec;
  if (spec.required === !required) spec = setField(spec, "required", undefined);
  if (row.group === target) return setSpec(vs, row, spec);
  const removed = removeVariable(vs, row);
  const dest = removed[target];
  return setField(removed, target, { ...(isObject(dest) ? dest : {}), [row.name]: spec });
}

/** A new variable (text, optional) with a free name; creates a flat schema when there is none. */
export function addVariable(vs: unknown): { vs: Json; name: string } {
  const base: Json = isObject(vs) ? vs : {};
  const taken = new Set(variableRows(base).map((r) => r.name));
  let n = taken.size + 1;
  while (taken.has(`variable_${String(n)}`)) n++;
  const name = `variable_${String(n)}`;
  const spec = { type: "string" };
  if (isSplit(base)) {
    const optional = isObject(base.optional) ? base.optional : {};
    return { vs: setField(base, "optional", { ...optional, [name]: spec }), name };
  }
  return { vs: { ...base, [name]: spec }, name };
}
