import { describe, expect, it } from "vitest";
import { decisionLabel, decisionTypeLabel, eventLabel, humanize, runModeBadge, runModeLabel } from "./labels";

describe("labels", () => {
  it("names event types in words", () => {
    expect(eventLabel("run_started")).toBe("Run started");
    expect(eventLabel("step_test_override_applied")).toBe("Answered from test data");
    expect(eventLabel("step_mock_applied")).toBe("Mocked");
    expect(eventLabel("step_skipped_dry_run")).toBe("Skipped (dry run)");
    expect(eventLabel("something_new_here")).toBe("Something new here");
  });

  it("names decisions and decision types", () => {
    expect(decisionLabel("approve")).toBe("Approved");
    expect(decisionLabel("reject")).toBe("Rejected");
    expect(decisionLabel("timeout")).toBe("Timed out");
    expect(decisionLabel("Gold tier")).toBe("Gold tier");
    expect(decisionTypeLabel("provide_input")).toBe("Provide input");
    expect(decisionTypeLabel("approve_reject")).toBe("Approve or reject");
    expect(decisionTypeLabel("select_option")).toBe("Choose an option");
  });

  it("names run modes and badges only non-production ones", () => {
    expect(runModeLabel("dry_run")).toBe("Dry run");
    expect(runModeLabel(undefined)).toBe("Production");
    expect(runModeBadge("production")).toBeNull();
    expect(runModeBadge("test")).toBe("Test mode — no agent or LLM reached");
    expect(runModeBadge("dry_run")).toMatch(/^Dry run/);
  });

  it("humanizes snake case", () => {
    expect(humanize("waiting_approval")).toBe("Waiting approval");
    expect(humanize("")).toBe("");
  });
});
