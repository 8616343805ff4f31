import { describe, expect, it } from "vitest";
import {
  plainInputMessage,
  applyDefaults,
  checkValue,
  declaredVariables,
  formToInputs,
  fullMatch,
  inputFields,
  parseRaw,
  validateInputs,
  type VariableField,
} from "./variables";

const schema = {
  required: {
    invoice_id: { type: "string", validation: { regex: "^INV-\\d{4}$" } },
    amount: { type: "number", validation: { min: 1, max: 1000 } },
    currency: { type: "string", default: "EUR", validation: { allowed_values: ["EUR", "USD"] } },
    not_really: { type: "string", required: false },
  },
  optional: {
    note: { type: "string", validation: { min_length: 2, max_length: 5 } },
    count: { type: "integer" },
    tags: { type: "array", validation: { min: 1, max: 2 } },
    urgent: { type: "boolean" },
    summary: { type: "string", origin: "system_captured" },
    forced: { type: "string", required: true },
  },
};

function fields(): VariableField[] {
  return declaredVariables(schema);
}

describe("declaredVariables", () => {
  it("reads the split shape: required group unless required:false, optional group only with required:true", () => {
    expect(fields().map((f) => [f.name, f.required])).toEqual([
      ["invoice_id", true],
      ["amount", true],
      ["currency", true],
      ["not_really", false],
      ["note", false],
      ["count", false],
      ["tags", false],
      ["urgent", false],
      ["summary", false],
      ["forced", true],
    ]);
  });

  it("reads the flat shape, where only required:true makes a field required", () => {
    const flat = declaredVariables({ a: { type: "integer", required: true }, b: { type: "string" } });
    expect(flat.map((f) => [f.name, f.type, f.required])).toEqual([
      ["a", "integer", true],
      ["b", "string", false],
    ]);
  });

  it("treats a flat variable named 'required' as a variable", () => {
    const flat = declaredVariables({ required: { type: "boolean" } });
    expect(flat.map((f) => f.name)).toEqual(["required"]);
  });

  it("keeps validation rules and sensitivity", () => {
    const f = declaredVariables({ pin: { type: "string", sensitive: true, validation: { regex: "\\d+" } } })[0];
    expect(f?.sensitive).toBe(true);
    expect(f?.regex).toBe("\\d+");
  });

  it("leaves system_captured variables out of the form", () => {
    expect(inputFields(fields()).map((f) => f.name)).not.toContain("summary");
  });

  it("handles missing or odd schemas", () => {
    expect(declaredVariables(undefined)).toEqual([]);
    expect(declaredVariables([1, 2])).toEqual([]);
  });
});

describe("validateInputs (the server's rules)", () => {
  const ok = { invoice_id: "INV-0042", amount: 12.5, forced: "x" };

  it("accepts good inputs and applies defaults", () => {
    expect(validateInputs(fields(), ok)).toEqual({});
    expect(applyDefaults(fields(), ok).currency).toBe("EUR");
  });

  it("reports every missing required field at once", () => {
    expect(validateInputs(fields(), {})).toEqual({
      invoice_id: "is required",
      amount: "is required",
      forced: "is required",
    });
  });

  it("treats null as missing", () => {
    expect(validateInputs(fields(), { ...ok, amount: null }).amount).toBe("is required");
  });

  it("checks types like Python does (bool is not a number; int is a number)", () => {
    expect(validateInputs(fields(), { ...ok, amount: true }).amount).toBe("must be a number");
    expect(validateInputs(fields(), { ...ok, amount: "12" }).amount).toBe("must be a number");
    expect(validateInputs(fields(), { ...ok, amount: 12 })).toEqual({});
    expect(validateInputs(fields(), { ...ok, count: 1.5 }).count).toBe("must be a whole number");
    expect(validateInputs(fields(), { ...ok, tags: "a" }).tags).toBe("must be a list");
    expect(validateInputs(fields(), { ...ok, urgent: "yes" }).urgent).toBe("must be true or false");
  });

  it("requires a full regex match, not a search", () => {
    expect(validateInputs(fields(), { ...ok, invoice_id: "INV-00421" }).invoice_id).toBe(
      "does not match the pattern ^INV-\\d{4}$",
    );
    expect(fullMatch("\\d+", "12a")).toBe(false);
    expect(fullMatch("\\d+", "12")).toBe(true);
    expect(fullMatch("a|b", "ab")).toBe(false);
    expect(fullMatch("(?P<y>\\d{4})-(?P=y)", "2024-2024")).toBe(true);
  });

  it("enforces min/max on numbers with the server's wording", () => {
    expect(validateInputs(fields(), { ...ok, amount: 0.5 }).amount).toBe("must be ≥ 1");
    expect(validateInputs(fields(), { ...ok, amount: 1000.5 }).amount).toBe("must be ≤ 1000");
    expect(validateInputs(fields(), { ...ok, amount: 1000 })).toEqual({});
  });

  it("enforces min/max as item counts on arrays", () => {
    expect(validateInputs(fields(), { ...ok, tags: [] }).tags).toBe("must have at least 1 items");
    expect(validateInputs(fields(), { ...ok, tags: [1, 2, 3] }).tags).toBe("must have at most 2 items");
  });

  it("enforces string length", () => {
    expect(validateInputs(fields(), { ...ok, note: "a" }).note).toBe("must be at least 2 characters");
    expect(validateInputs(fields(), { ...ok, note: "abcdef" }).note).toBe("must be at most 5 characters");
  });

  it("enforces allowed_values, comparing by value", () => {
    expect(validateInputs(fields(), { ...ok, currency: "GBP" }).currency).toBe("must be one of EUR, USD");
    const f = declaredVariables({ n: { type: "number", validation: { allowed_values: [1, 2] } } });
    expect(checkValue(f[0] as VariableField, 2.0)).toBeNull();
    const o = declaredVariables({ o: { type: "any", validation: { allowed_values: [{ a: [1] }] } } });
    expect(checkValue(o[0] as VariableField, { a: [1] })).toBeNull();
    expect(checkValue(o[0] as VariableField, { a: [2] })).not.toBeNull();
  });

  it("checks allowed_values before the regex, like the server", () => {
    const f = declaredVariables({ c: { type: "string", validation: { allowed_values: ["x"], regex: "y" } } });
    expect(checkValue(f[0] as VariableField, "z")).toBe("must be one of x");
  });

  it("does not require system_captured variables", () => {
    const f = declaredVariables({ required: { out: { type: "string", origin: "system_captured" } } });
    expect(validateInputs(f, {})).toEqual({});
  });
});

describe("form parsing", () => {
  const byName = (name: string): VariableField => {
    const f = fields().find((x) => x.name === name);
    if (!f) throw new Error(name);
    return f;
  };

  it("turns text into the declared type", () => {
    expect(parseRaw(byName("amount"), "12.5")).toEqual({ ok: true, value: 12.5, present: true });
    expect(parseRaw(byName("count"), "7")).toEqual({ ok: true, value: 7, present: true });
    expect(parseRaw(byName("count"), "7.5")).toEqual({ ok: false, message: "must be a whole number" });
    expect(parseRaw(byName("tags"), '["a"]')).toEqual({ ok: true, value: ["a"], present: true });
    expect(parseRaw(byName("tags"), "[oops")).toEqual({ ok: false, message: "must be a list written as JSON" });
    expect(parseRaw(byName("urgent"), true)).toEqual({ ok: true, value: true, present: true });
  });

  it("treats empty text as not given", () => {
    expect(parseRaw(byName("amount"), "  ")).toEqual({ ok: true, value: undefined, present: false });
    expect(parseRaw(byName("invoice_id"), "")).toEqual({ ok: true, value: undefined, present: false });
  });

  it("combines parse errors and rule errors", () => {
    const result = formToInputs(fields(), { invoice_id: "INV-1", amount: "abc", currency: "", forced: "f" });
    expect(result.errors).toEqual({
      invoice_id: "does not match the pattern ^INV-\\d{4}$",
      amount: "must be a number",
    });
    expect(result.inputs).toEqual({ invoice_id: "INV-1", forced: "f" });
  });

  it("produces the inputs to post when everything is valid", () => {
    const result = formToInputs(fields(), { invoice_id: "INV-1234", amount: "99", forced: "f", urgent: false });
    expect(result.errors).toEqual({});
    expect(result.inputs).toEqual({ invoice_id: "INV-1234", amount: 99, forced: "f", urgent: false });
  });
});

describe("plainInputMessage", () => {
  it("words the server's type and choice messages as the form does", () => {
    expect(plainInputMessage("must be a number, got str")).toBe("must be a number");
    expect(plainInputMessage("must be a integer, got float")).toBe("must be a whole number");
    expect(plainInputMessage("must be a boolean, got str")).toBe("must be true or false");
    expect(plainInputMessage("must be a array, got dict")).toBe("must be a list");
    expect(plainInputMessage('must be one of ["EUR","USD"]')).toBe("must be one of EUR, USD");
    expect(plainInputMessage("must be ≥ 1")).toBe("must be ≥ 1");
    expect(plainInputMessage("is required")).toBe("is required");
  });
});
