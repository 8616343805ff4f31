// The UI hides what a role cannot do: each view rendered as several identities.
import { describe, expect, it } from "vitest";
import { DecisionForm } from "@/components/approvals/DecisionForm";
import { AgentsView } from "@/components/agents/AgentsView";
import { ProjectsView } from "@/components/projects/ProjectsView";
import { RunInputsForm } from "@/components/runs/RunInputsForm";
import { SecretsView } from "@/components/secrets/SecretsView";
import { keys } from "@/lib/api/keys";
import type { AgentRead, ApprovalRead, ProjectRead, SecretRead } from "@/lib/api/models";
import { allowedRunModes } from "@/lib/auth/roles";
import { RUN_MODES } from "@/lib/format/labels";
import { identity, renderAs } from "@/test/renderAs";

const T = "2026-12-07T10:00:00Z";

const PROJECT: ProjectRead = { id: "p1", name: "Finance", description: null, created_at: T, updated_at: T };
const projects: [readonly unknown[], unknown] = [keys.projects, { items: [PROJECT], total: 1 }];

const APPROVAL: ApprovalRead = {
  approval_id: "a1",
  run_id: "r1",
  node_id: "ask_manager",
  prompt: "Pay Acme 250 USD?",
  decision_type: "approve_reject",
  status: "pending",
  interrupt_id: "i1",
  created_at: T,
};

const AGENT: AgentRead = {
  agent_id: "ag1",
  name: "desktop-1",
  channel: "desktop",
  base_url: "http://10.0.0.5:9000",
  status: "online",
  concurrency_limit: 1,
  circuit_state: "closed",
  consecutive_failures: 0,
  created_at: T,
  updated_at: T,
};

const SECRET: SecretRead = {
  secret_id: "s1",
  name: "erp_api_token",
  project_id: null,
  version: 2,
  description: null,
  created_at: T,
  updated_at: T,
  last_used_at: null,
};

describe("projects page", () => {
  it("offers create, edit and delete to an admin only", () => {
    const admin = renderAs(identity("admin"), <ProjectsView />, [projects]);
    expect(admin).toContain("Create project");
    expect(admin).toContain("Edit<span class=\"sr-only\"> Finance");
    expect(admin).toContain("Delete<span class=\"sr-only\"> Finance");
    for (const role of ["viewer", "operator"] as const) {
      const html = renderAs(identity(role), <ProjectsView />, [projects]);
      expect(html, role).toContain("Finance");
      expect(html, role).not.toContain("Create project");
      expect(html, role).not.toContain("Delete<span");
      expect(html, role).not.toContain("Edit<span");
    }
  });

  it("hides the actions until the identity is known", () => {
    const html = renderAs("unknown", <ProjectsView />, [projects]);
    expect(html).toContain("Finance");
    expect(html).not.toContain("Create project");
    expect(html).not.toContain("Delete<span");
  });
});

describe("approval decision", () => {
  it("lets an approver approve or reject, as the signed-in identity", () => {
    const html = renderAs(identity("approver"), <DecisionForm approval={APPROVAL} />);
    expect(html).toContain('data-testid="approve-button"');
    expect(html).toContain('data-testid="reject-button"');
    expect(html).toContain("Deciding as <strong");
    expect(html).not.toContain("Your name");
  });

  it("gives a viewer no way to decide", () => {
    const html = renderAs(identity("viewer"), <DecisionForm approval={APPROVAL} compact />);
    expect(html).not.toContain("approve-button");
    expect(html).not.toContain("reject-button");
    expect(html).toContain("needs the approver role");
  });

  it("lets a viewer who approves in a project decide (the server checks the run's project)", () => {
    const html = renderAs(identity("viewer", { p1: "approver" }), <DecisionForm approval={APPROVAL} compact />);
    expect(html).toContain("approve-button");
  });

  it("never asks for a name: the server records the caller's identity", () => {
    const html = renderAs(null, <DecisionForm approval={APPROVAL} />);
    expect(html).not.toContain("Your name");
    expect(html).toContain("approve-button");
  });
});

describe("agents page", () => {
  const agents: [readonly unknown[], unknown] = [keys.agents, { items: [AGENT], total: 1 }];
  it("offers register, probe and delete to an operator, not to an author", () => {
    const operator = renderAs(identity("operator"), <AgentsView />, [agents, [keys.agentPools, []]]);
    expect(operator).toContain("Register agent");
    expect(operator).toContain("Check health");
    expect(operator).toContain('data-testid="agent-actions"');
    const author = renderAs(identity("author"), <AgentsView />, [agents, [keys.agentPools, []]]);
    expect(author).toContain("desktop-1");
    expect(author).not.toContain("Register agent");
    expect(author).not.toContain("Check health");
    expect(author).not.toContain("agent-actions");
  });
});

describe("secrets page", () => {
  const secrets: [readonly unknown[], unknown] = [keys.secrets, [SECRET]];
  it("shows an author the names only", () => {
    const html = renderAs(identity("author"), <SecretsView />, [secrets, projects]);
    expect(html).toContain("erp_api_token");
    expect(html).not.toContain("Store secret");
    expect(html).not.toContain("Rotate<span");
    expect(html).not.toContain("Delete<span");
  });

  it("lets an operator create, rotate and delete, with an empty write-only value field", () => {
    const html = renderAs(identity("operator"), <SecretsView />, [secrets, projects]);
    expect(html).toContain("Store secret");
    expect(html).toContain("Rotate<span");
    expect(html).toContain("Delete<span");
    const value = /<input[^>]*data-testid="secret-value"[^>]*>/.exec(html)?.[0] ?? "";
    expect(value).toContain('type="password"');
    expect(value).toContain('value=""');
  });
});

describe("run form", () => {
  const render = (role: "author" | "operator") =>
    renderAs(
      identity(role),
      <RunInputsForm
        fields={[]}
        submitLabel="Start run"
        busy={false}
        onSubmit={() => undefined}
        modeChoice={{ defaultMode: "production", testData: 0, allowed: allowedRunModes(identity(role), RUN_MODES) }}
      />,
    );

  it("offers an author only test and dry runs, preselecting one of them", () => {
    const html = render("author");
    expect(html).not.toContain('data-testid="run-mode-production"');
    expect(html).toContain('data-testid="run-mode-dry_run"');
    expect(html).toContain('data-testid="run-mode-test"');
    expect(html).toContain('data-mode="dry_run"');
  });

  it("offers an operator every mode", () => {
    const html = render("operator");
    for (const mode of RUN_MODES) expect(html).toContain(`data-testid="run-mode-${mode}"`);
    expect(html).toContain('data-mode="production"');
  });
});
