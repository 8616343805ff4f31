import { describe, expect, it } from "vitest";
import { BUILTIN_VARIABLES, localEntryScope, scopeAt, scopeEntries } from "./scope";

const doc = {
  procedure_id: "p",
  variables_schema: { invoice_id: { type: "string" }, customer: { type: "object", properties: { name: {}, email: {} } } },
  global_config: { secrets_config: { provider: "env_vars", secret_references: { api_key: "API_KEY", db_password: "DB" } } },
  workflow_graph: {
    start_node: "fetch",
    nodes: {
      fetch: {
        type: "sequence",
        steps: [
          { step_id: "a", action: "http_request", output_variable: "raw" },
          { step_id: "b", action: "set_variable", variable: "status", value: "ok" },
          { step_id: "c", action: "log", message: "{{ raw }}", output_variable: "logged" },
        ],
        next_node: "summarise",
      },
      summarise: { type: "llm_action", prompt: "{{ raw }}", output_variable: "summary", next_node: "each" },
      each: { type: "loop", iterator: "items", iterator_variable: "line", index_variable: "i", body_node: "body", next_node: "done" },
      body: { type: "processing", operations: [{ action: "calculate", expression: "1", output_variable: "total" }, { action: "set_variable", variable: "x", value: 1 }], next_node: "each" },
      done: { type: "terminate" },
    },
  },
};

describe("scopeAt", () => {
  it("adds, for step k, what the earlier steps wrote and not the later ones", () => {
    const server = ["invoice_id", "customer", ...BUILTIN_VARIABLES];
    const at0 = scopeAt(doc, "fetch", server, 0);
    expect(at0).not.toContain("raw");
    const at2 = scopeAt(doc, "fetch", server, 2);
    expect(at2).toContain("raw");
    expect(at2).toContain("status"); // set_variable's variable
    expect(at2).not.toContain("logged");
    // the node's own fields are read after all its steps
    expect(scopeAt(doc, "fetch", server)).toContain("logged");
  });

  it("keeps the server's names and adds built-ins and declared secrets", () => {
    const s = scopeAt(doc, "summarise", ["raw", "from_server"]);
    expect(s).toContain("from_server");
    expect(s).toContain("raw");
    expect(s).toContain("run_id");
    expect(s).toContain("procedure_id");
    expect(s).toContain("secrets.api_key");
    expect(s).toContain("secrets.db_password");
    expect(new Set(s).size).toBe(s.length);
  });

  it("falls back to the browser's estimate when the server has not answered", () => {
    const s = scopeAt(doc, "summarise", undefined);
    expect(s).toEqual(expect.arrayContaining(["invoice_id", "customer", "raw", "status", "logged", "run_id"]));
    expect(s).not.toContain("summary"); // written by the node itself
    expect(scopeAt(doc, "done", [])).toEqual(expect.arrayContaining(["summary", "line", "i", "total", "x"]));
  });

  it("knows a loop's item and index inside the loop node", () => {
    expect(scopeAt(doc, "each", ["run_id"])).toEqual(expect.arrayContaining(["line", "i"]));
  });

  it("operations: earlier ones' output_variable and variable", () => {
    expect(scopeAt(doc, "body", ["run_id"], 1)).toContain("total");
    expect(scopeAt(doc, "body", ["run_id"], 1)).not.toContain("x");
  });

  it("reads node lists of the older dialects", () => {
    const legacy = {
      procedure_id: "l",
      workflow_graph: {
        nodes: [
          { id: "one", type: "sequence", steps: [{ action: "x", output_variable: "o1" }], next_node: "two" },
          { id: "two", type: "terminate" },
        ],
      },
    };
    expect(localEntryScope(legacy, "two")).toContain("o1");
    expect(scopeAt(legacy, "one", undefined, 1)).toContain("o1");
  });
});

describe("scopeEntries", () => {
  it("groups dotted names and declared object fields under their root", () => {
    const entries = scopeEntries(doc, scopeAt(doc, "summarise", ["invoice_id", "customer", "raw"]));
    const secrets = entries.find((e) => e.name === "secrets");
    expect(secrets?.fields).toEqual(["api_key", "db_password"]);
    const customer = entries.find((e) => e.name === "customer");
    expect(customer?.fields).toEqual(["email", "name"]);
    expect(customer?.detail).toBe("object");
    expect(entries.find((e) => e.name === "run_id")?.detail).toBe("built-in");
    expect(entries.find((e) => e.name === "raw")?.detail).toBe("written earlier");
  });
});
