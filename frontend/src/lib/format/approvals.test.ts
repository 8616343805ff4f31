import { describe, expect, it } from "vitest";
import { isDueSoon, isOverdue } from "./approvals";

describe("approval deadlines", () => {
  const now = Date.parse("2026-01-01T12:00:00Z");
  it("is overdue only while pending and past expires_at", () => {
    expect(isOverdue({ status: "pending", expires_at: "2026-01-01T11:59:00Z" }, now)).toBe(true);
    expect(isOverdue({ status: "approved", expires_at: "2026-01-01T11:59:00Z" }, now)).toBe(false);
    expect(isOverdue({ status: "pending", expires_at: null }, now)).toBe(false);
    expect(isOverdue({ status: "pending", expires_at: "2026-01-01T12:01:00Z" }, now)).toBe(false);
  });
  it("is due soon within the hour", () => {
    expect(isDueSoon({ status: "pending", expires_at: "2026-01-01T12:30:00Z" }, now)).toBe(true);
    expect(isDueSoon({ status: "pending", expires_at: "2026-01-01T14:00:00Z" }, now)).toBe(false);
  });
});
