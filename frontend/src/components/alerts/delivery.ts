/** What the console shows of an alert delivery, read from the payload it carries. */
import type { AlertDeliveryRead } from "./types";

function field(value: unknown, key: string): unknown {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>)[key] : undefined;
}

/** The rule's name as the alert carried it (payload.rule.name); null when absent. */
export function ruleNameOf(d: Pick<AlertDeliveryRead, "payload">): string | null {
  const name = field(field(d.payload, "rule"), "name");
  return typeof name === "string" && name !== "" ? name : null;
}

/** The alert's one-line summary (payload.summary); null when absent. */
export function summaryOf(d: Pick<AlertDeliveryRead, "payload">): string | null {
  const summary = field(d.payload, "summary");
  return typeof summary === "string" && summary !== "" ? summary : null;
}

export const CHANNEL_LABELS: Readonly<Record<AlertDeliveryRead["channel"], string>> = { webhook: "webhook", email: "e-mail" };
