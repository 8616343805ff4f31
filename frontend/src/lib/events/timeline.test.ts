import { describe, expect, it } from "vitest";
import { buildTimeline, mergeEvents, runOverlay, type NodeGroup, type RunEvent } from "./timeline";

let seq = 0;
function ev(type: string, node_id: string | null = null, step_id: string | null = null, payload: unknown = {}): RunEvent {
  seq += 1;
  return { seq, type, node_id, step_id, payload, created_at: new Date(Date.UTC(2026, 0, 1, 0, 0, seq)).toISOString() };
}

describe("buildTimeline", () => {
  it("groups steps under node visits with durations and errors", () => {
    seq = 0;
    const events = [
      ev("run_started"),
      ev("node_started", "a"),
      ev("step_started", "a", "s1"),
      ev("step_completed", "a", "s1", { duration_ms: 12 }),
      ev("node_completed", "a"),
      ev("node_started", "b"),
      ev("step_started", "b", "s2"),
      ev("step_retry", "b", "s2", { error: { type: "Timeout", message: "slow" } }),
      ev("step_started", "b", "s2"),
      ev("step_failed", "b", "s2", { error: "boom" }),
      ev("node_failed", "b", null, { error: { type: "FileError", message: "missing" } }),
      ev("run_failed", null, null, { error: "missing", node_id: "b" }),
    ];
    const items = buildTimeline(events);
    expect(items.map((i) => (i.kind === "run" ? i.event.type : `${i.nodeId}:${i.status}`))).toEqual([
      "run_started",
      "a:completed",
      "b:failed",
      "run_failed",
    ]);
    const a = items[1] as NodeGroup;
    expect(a.steps.map((s) => [s.stepId, s.status, s.durationMs])).toEqual([["s1", "completed", 12]]);
    expect(a.durationMs).toBe(3000);
    const b = items[2] as NodeGroup;
    expect(b.steps).toHaveLength(1);
    expect(b.steps[0]?.attempts).toBe(2);
    expect(b.steps[0]?.status).toBe("failed");
    expect(b.steps[0]?.error).toBe("boom");
    expect(b.error).toBe("FileError: missing");
  });

  it("starts a new group for each visit of a loop body", () => {
    seq = 0;
    const events = [
      ev("node_started", "body"),
      ev("node_completed", "body"),
      ev("loop_iteration", "loop"),
      ev("node_started", "body"),
      ev("node_completed", "body"),
    ];
    const groups = buildTimeline(events).filter((i) => i.kind === "node");
    expect(groups.map((g) => g.nodeId)).toEqual(["body", "loop", "body"]);
  });

  it("marks a node waiting for approval", () => {
    seq = 0;
    const items = buildTimeline([ev("node_started", "ask"), ev("approval_requested", "ask")]);
    expect((items[0] as NodeGroup).status).toBe("waiting");
  });
});

describe("mergeEvents", () => {
  it("dedupes by seq and keeps order", () => {
    const a = { seq: 1, type: "x", created_at: "" };
    const b = { seq: 2, type: "y", created_at: "" };
    const c = { seq: 3, type: "z", created_at: "" };
    const merged = mergeEvents([a, c], [b, c]);
    expect(merged.map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(mergeEvents(merged, [a])).toBe(merged);
  });
});

describe("runOverlay", () => {
  it("marks visited, current and failed nodes", () => {
    seq = 0;
    const events = [
      ev("node_started", "a"),
      ev("node_completed", "a"),
      ev("node_started", "b"),
      ev("step_failed", "b", "s", { error: "first" }),
    ];
    const live = runOverlay(events, { status: "running" });
    expect([...live.visited]).toEqual(["a", "b"]);
    expect([...live.current]).toEqual(["b"]);
    expect(live.failed.size).toBe(0);
    const failed = runOverlay([...events, ev("node_failed", "b", null, { error: "final" })], { status: "failed" });
    expect([...failed.failed]).toEqual(["b"]);
    expect(failed.current.size).toBe(0);
    expect(failed.errors.get("b")).toBe("final");
  });

  it("uses run_failed and the run row when no node_failed arrived", () => {
    seq = 0;
    const overlay = runOverlay([ev("run_failed", null, null, { error: "budget", node_id: "llm" })], { status: "failed" });
    expect([...overlay.failed]).toEqual(["llm"]);
    expect(overlay.errors.get("llm")).toBe("budget");
    const fromRow = runOverlay([], { status: "failed", last_node_id: "x", error_message: "bad" });
    expect(fromRow.errors.get("x")).toBe("bad");
  });
});

describe("approval resume", () => {
  it("keeps a node resumed after its approval in the same group", () => {
    seq = 0;
    const items = buildTimeline([
      ev("node_started", "ask"),
      ev("approval_requested", "ask"),
      ev("run_resumed"),
      ev("node_started", "ask"),
      ev("approval_decided", "ask", null, { decision: "approve" }),
      ev("node_completed", "ask"),
    ]);
    const groups = items.filter((i) => i.kind === "node");
    expect(groups).toHaveLength(1);
    expect(groups[0]?.status).toBe("completed");
    expect(groups[0]?.kind === "node" ? groups[0].durationMs : null).toBe(5000);
  });
});
