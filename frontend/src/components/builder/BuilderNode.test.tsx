import { ReactFlowProvider, type NodeProps } from "@xyflow/react";
import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, it } from "vitest";
import { getNode, outputPorts } from "@/lib/builder/document";
import { findTemplate } from "@/lib/builder/templates";
import { BuilderNode, nodeWidth } from "./BuilderNode";
import type { BuilderFlowNode, BuilderNodeData } from "./types";

function render(data: BuilderNodeData): string {
  const props = { id: data.nodeId, data, selected: false, type: "builder", dragging: false, zIndex: 0, isConnectable: true, positionAbsoluteX: 0, positionAbsoluteY: 0, draggable: true, selectable: true, deletable: true } as NodeProps<BuilderFlowNode>;
  return renderToStaticMarkup(
    <ReactFlowProvider>
      <BuilderNode {...props} />
    </ReactFlowProvider>,
  );
}

const base: BuilderNodeData = { nodeId: "gate", ckpType: "human_approval", tier: "control", label: "gate", isStart: false, errors: 0, warnings: 0, overlay: "none", runError: null, ports: [] };

describe("BuilderNode", () => {
  it("has a labelled source handle per output port, test ids by port id", () => {
    const html = render({ ...base, ports: outputPorts({ type: "human_approval", on_approve: "done" }) });
    for (const port of ["approve", "reject", "timeout"]) expect(html).toContain(`data-testid="handle-gate-${port}"`);
    expect(html).toContain('data-testid="handle-gate-in"');
    expect(html).toContain('data-connected="true"');
    expect(html).toContain("reject output of gate (not connected)");
  });

  it("shows errors before warnings on the badge, and marks the start", () => {
    const html = render({ ...base, isStart: true, errors: 2, warnings: 1, ports: [] });
    expect(html).toMatch(/data-testid="node-badge-gate"[^>]*data-severity="error"/);
    expect(html).toContain('data-testid="builder-start-gate"');
    expect(render({ ...base, warnings: 3, ports: [] })).toMatch(/data-severity="warning"[^>]*>3</);
    expect(render({ ...base, ports: [] })).not.toContain("node-badge-gate");
  });

  it("gives every port of a busy logic node room", () => {
    const doc = findTemplate("invoice_processing")?.load() ?? {};
    const route = getNode(doc, "route_by_risk");
    expect(route).toBeDefined();
    const ports = outputPorts(route ?? {});
    const html = render({ ...base, nodeId: "route_by_risk", ckpType: "logic", ports });
    for (const p of ports) expect(html).toContain(`data-testid="handle-route_by_risk-${p.id}"`);
    expect(nodeWidth(ports.length)).toBeGreaterThanOrEqual(ports.length * 76);
  });
});
