import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { EditorProblem } from "@/components/ckp/diagnostics";
import { keys } from "@/lib/api/keys";
import { ckpNodes } from "@/lib/ckp/graph";
import { renderAs } from "@/test/renderAs";
import { NodeInspector } from "./NodeInspector";
import { ProcedureSettings } from "./ProcedureSettings";

const examples = join(__dirname, "..", "..", "..", "..", "..", "ckp_examples");
const catalog = { internal_actions: ["log", "set_variable"], llm_actions: [], side_effect_free: [], channels: [{ channel: "WEB", actions: ["click", "navigate"], agent_actions: [], builtin_actions: ["click", "navigate"], agents: [] }] };

function problem(path: string, message: string, severity: EditorProblem["severity"] = "error"): EditorProblem {
  return { source: "server", severity, code: "x", path, message, hint: "", from: 0, to: 0 };
}

function render(doc: Record<string, unknown>, id: string, problems: EditorProblem[] = []): string {
  const node = ckpNodes(doc).nodes.find(([n]) => n === id)?.[1] ?? {};
  return renderAs(
    null,
    <NodeInspector nodeId={id} node={node} doc={doc} problems={problems} nodePath={`/workflow_graph/nodes/${id}`} scope={[]} onChange={() => undefined} onRename={() => undefined} focusPath={null} />,
    [[keys.actions, catalog]],
  );
}

describe("NodeInspector", () => {
  it("renders every node of every example", () => {
    for (const f of readdirSync(examples).filter((x) => x.endsWith(".json"))) {
      const doc = JSON.parse(readFileSync(join(examples, f), "utf8")) as Record<string, unknown>;
      for (const [id] of ckpNodes(doc).nodes) {
        const html = render(doc, id);
        expect(html, `${f} ${id}`).toContain('data-testid="node-inspector"');
      }
      expect(renderAs(null, <ProcedureSettings doc={doc} problems={[]} onChange={() => undefined} />), f).toContain("procedure-settings");
    }
  });

  it("shows a problem under its field, and the ones no field shows at the top", () => {
    const doc = {
      procedure_id: "p",
      workflow_graph: { start_node: "approve", nodes: { approve: { type: "human_approval", prompt: "ok?", on_approve: "done", $ui: { position: { x: 1, y: 2 } } }, done: { type: "terminate" } } },
    };
    const html = render(doc, "approve", [
      problem("/workflow_graph/nodes/approve/on_reject", "on_reject is missing"),
      problem("/workflow_graph/nodes/approve", "node-level warning", "warning"),
    ]);
    const field = html.indexOf('data-pointer="/workflow_graph/nodes/approve/on_reject"');
    expect(field).toBeGreaterThan(0);
    expect(html.indexOf("on_reject is missing")).toBeGreaterThan(field);
    const summary = html.indexOf('data-testid="inspector-problems"');
    expect(summary).toBeGreaterThan(0);
    expect(html.indexOf("node-level warning")).toBeGreaterThan(summary);
    expect(html.indexOf("node-level warning")).toBeLessThan(field);
    expect(html).toContain('data-severity="warning"');
    expect(html).not.toContain("/approve/$ui");
  });

  it("draws the steps with the action's parameters", () => {
    const doc = {
      procedure_id: "p",
      workflow_graph: { start_node: "s", nodes: { s: { type: "sequence", agent: "WEB", steps: [{ step_id: "go", action: "navigate", url: "https://x" }] } } },
    };
    const html = render(doc, "s", [problem("/workflow_graph/nodes/s/steps/0/url", "bad url")]);
    expect(html).toContain('data-testid="steps-editor"');
    expect(html).toContain('data-pointer="/workflow_graph/nodes/s/steps/0/url"');
    expect(html).toContain("bad url");
    expect(html).toContain('value="navigate"');
  });
});
