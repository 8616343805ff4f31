import { CompletionContext } from "@codemirror/autocomplete";
import { EditorState } from "@codemirror/state";
import { describe, expect, it } from "vitest";
import type { ScopeEntry } from "@/lib/builder/scope";
import { templateCompletionSource } from "./templateCompletion";

const entries: ScopeEntry[] = [
  { name: "invoice", detail: "object", fields: ["amount", "vendor.name"] },
  { name: "run_id", detail: "built-in", fields: [] },
  { name: "secrets", detail: "built-in", fields: ["api_key"] },
];

function complete(text: string) {
  const state = EditorState.create({ doc: text });
  const source = templateCompletionSource(() => entries);
  return source(new CompletionContext(state, text.length, false));
}

describe("{{ completion", () => {
  it("offers the variables after {{ and closes the braces", () => {
    const r = complete("Summarise {{ ");
    expect(r?.options.map((o) => o.label)).toEqual(["invoice", "run_id", "secrets"]);
    expect(r?.options.find((o) => o.label === "run_id")?.apply).toBe("run_id }}");
    expect(r?.from).toBe("Summarise {{ ".length);
    expect(complete("Hi {{ru")?.from).toBe("Hi {{".length);
  });

  it("offers fields after a dot", () => {
    const r = complete("{{ invoice.");
    expect(r?.options.map((o) => o.label)).toEqual(["amount", "vendor"]);
    expect(complete("{{ invoice.vendor.")?.options.map((o) => o.label)).toEqual(["name"]);
    expect(complete("{{ secrets.a")?.options.map((o) => o.label)).toEqual(["api_key"]);
  });

  it("stays quiet outside {{", () => {
    expect(complete("plain text")).toBeNull();
    expect(complete("{{ run_id }} and")).toBeNull();
  });
});
