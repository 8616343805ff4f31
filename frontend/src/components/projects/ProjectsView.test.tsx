// The projects page's allowed hosts, rendered as several identities.
import { describe, expect, it } from "vitest";
import { ProjectsView } from "@/components/projects/ProjectsView";
import { keys } from "@/lib/api/keys";
import type { ProjectRead } from "@/lib/api/models";
import { identity, renderAs } from "@/test/renderAs";

const T = "2026-12-07T10:00:00Z";
const PROJECT: ProjectRead = {
  id: "p1",
  name: "Finance",
  description: null,
  allowed_hosts: ["erp.internal", "10.20.0.0/16"],
  created_at: T,
  updated_at: T,
};
const projects: [readonly unknown[], unknown] = [keys.projects, { items: [PROJECT], total: 1 }];

describe("projects page: allowed hosts", () => {
  it("shows a project's allowed hosts read-only to a non-admin, with no field to edit them", () => {
    for (const role of ["viewer", "author", "operator", "approver"] as const) {
      const html = renderAs(identity(role), <ProjectsView />, [projects]);
      expect(html, role).toContain('data-testid="project-allowed-hosts"');
      expect(html, role).toContain('data-host="erp.internal"');
      expect(html, role).toContain('data-host="10.20.0.0/16"');
      expect(html, role).not.toContain("<textarea");
      expect(html, role).not.toContain("project-allowed-hosts-input");
      expect(html, role).not.toContain("<form");
    }
  });

  it("gives an admin the field, with its help text, when creating a project", () => {
    const html = renderAs(identity("admin"), <ProjectsView />, [projects]);
    const field = /<textarea[^>]*data-testid="project-allowed-hosts-input"[^>]*>/.exec(html)?.[0] ?? "";
    expect(field).not.toBe("");
    expect(html).toContain("Allowed hosts");
    expect(html).toContain("LANGORCH_SANDBOX__ALLOWED_HOSTS for this project&#x27;s runs.");
    expect(html, "the list stays visible to the admin too").toContain('data-host="erp.internal"');
  });
});
