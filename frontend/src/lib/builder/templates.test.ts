import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { TEMPLATES, findTemplate } from "./templates";

const examples = fileURLToPath(new URL("../../../../ckp_examples/", import.meta.url));

describe("builder templates", () => {
  it("are the three seed workflows", () => {
    expect(TEMPLATES.map((t) => t.id)).toEqual(["invoice_processing", "customer_support", "contract_review"]);
    expect(findTemplate("nope")).toBeNull();
  });

  it("hand out fresh copies", () => {
    const t = findTemplate("invoice_processing");
    expect(t).not.toBeNull();
    const a = t?.load();
    const b = t?.load();
    expect(a).toEqual(b);
    expect(a).not.toBe(b);
  });

  it.skipIf(!existsSync(examples))("equal the files in ckp_examples/ (copy them again when this fails)", () => {
    for (const t of TEMPLATES) {
      const file = JSON.parse(readFileSync(`${examples}${t.id}.ckp.json`, "utf8")) as unknown;
      expect(t.load(), t.id).toEqual(file);
    }
  });
});
