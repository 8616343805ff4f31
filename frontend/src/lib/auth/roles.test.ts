import { describe, expect, it } from "vitest";
import type { Me, Role } from "@/lib/api/models";
import { RUN_MODES } from "@/lib/format/labels";
import { allowedRunModes, can, canAnywhere, effectiveRole, roleLabel, roleRank, ROLES, runModeRole } from "./roles";

function me(role: Role | null, projectRoles: Record<string, Role> = {}): Pick<Me, "role" | "project_roles"> {
  return { role, project_roles: projectRoles };
}

describe("role order", () => {
  it("ranks viewer < approver < author < operator < admin", () => {
    expect(ROLES.map(roleRank)).toEqual([0, 1, 2, 3, 4]);
    expect(roleRank("nobody")).toBe(-1);
    expect(roleRank(null)).toBe(-1);
  });

  it("lets each role do what it and every role below may, and nothing above", () => {
    for (const held of ROLES) {
      for (const needed of ROLES) {
        expect(can(me(held), needed), `${held} for ${needed}`).toBe(roleRank(held) >= roleRank(needed));
      }
    }
  });

  it("lets everyone do everything on a server without authentication (no identity)", () => {
    for (const needed of ROLES) expect(can(null, needed)).toBe(true);
  });

  it("lets an identity without a global role do nothing outside its projects", () => {
    expect(can(me(null), "viewer")).toBe(false);
    expect(roleLabel(null)).toBe("No global role");
  });
});

describe("project roles", () => {
  const alice = me("viewer", { finance: "operator" });

  it("count the higher of the global and the project's role on that project's resources", () => {
    expect(effectiveRole(alice, "finance")).toBe("operator");
    expect(can(alice, "operator", "finance")).toBe(true);
    expect(can(alice, "admin", "finance")).toBe(false);
  });

  it("do not reach other projects or resources without a project", () => {
    expect(can(alice, "author", "hr")).toBe(false);
    expect(can(alice, "author")).toBe(false);
    expect(can(alice, "author", null)).toBe(false);
  });

  it("never lower a global role", () => {
    const bob = me("operator", { finance: "viewer" });
    expect(effectiveRole(bob, "finance")).toBe("operator");
    expect(can(bob, "operator", "finance")).toBe(true);
  });

  it("count for pages not tied to one project (canAnywhere)", () => {
    expect(canAnywhere(alice, "operator")).toBe(true);
    expect(canAnywhere(alice, "admin")).toBe(false);
    expect(canAnywhere(me("approver"), "author")).toBe(false);
  });
});

describe("run modes", () => {
  it("need author for test and dry runs and operator for production", () => {
    expect(runModeRole("test")).toBe("author");
    expect(runModeRole("dry_run")).toBe("author");
    expect(runModeRole("production")).toBe("operator");
  });

  it("are offered by role", () => {
    expect(allowedRunModes(me("viewer"), RUN_MODES)).toEqual([]);
    expect(allowedRunModes(me("approver"), RUN_MODES)).toEqual([]);
    expect(allowedRunModes(me("author"), RUN_MODES)).toEqual(["dry_run", "test"]);
    expect(allowedRunModes(me("operator"), RUN_MODES)).toEqual(["production", "dry_run", "test"]);
    expect(allowedRunModes(me("author", { ops: "operator" }), RUN_MODES, "ops")).toEqual(["production", "dry_run", "test"]);
    expect(allowedRunModes(null, RUN_MODES)).toEqual(["production", "dry_run", "test"]);
  });
});
