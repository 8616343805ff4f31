/** Names for the generated schema types of alert rules and deliveries (see lib/api/schema.d.ts). */
import type { components } from "@/lib/api/schema";

type S = components["schemas"];

export type AlertChannels = S["AlertChannels"];
export type AlertRuleRead = S["AlertRuleRead"];
export type AlertRuleCreate = S["AlertRuleCreate"];
export type AlertRuleUpdate = S["AlertRuleUpdate"];
export type AlertTestResult = S["AlertTestResult"];
export type AlertDeliveryRead = S["AlertDeliveryRead"];
export type AlertEvent = AlertRuleCreate["events"][number];
export type DeliveryStatus = AlertDeliveryRead["status"];

export const ALERT_EVENTS: readonly AlertEvent[] = ["run_failed", "sla_breached", "step_error"];

/** What each event means, in the words of docs/alerts.md. */
export const ALERT_EVENT_HELP: Readonly<Record<AlertEvent, string>> = {
  run_failed: "a run ended failed",
  sla_breached: "a node took longer than its sla.max_duration_ms",
  step_error: "a step failed and an error handler with notify_on_error: true took it (the run may well go on)",
};

export const DELIVERY_STATUSES: readonly DeliveryStatus[] = ["pending", "sending", "delivered", "failed"];

export function isAlertEvent(value: string): value is AlertEvent {
  return (ALERT_EVENTS as readonly string[]).includes(value);
}

export function isDeliveryStatus(value: string): value is DeliveryStatus {
  return (DELIVERY_STATUSES as readonly string[]).includes(value);
}

/** Query keys: one tree, so saving a rule refreshes the rules and deliveries everywhere. */
export const alertKeys = {
  all: ["alerts"] as const,
  channels: ["alerts", "channels"] as const,
  rules: ["alerts", "rules"] as const,
  ruleList: (filters: object) => ["alerts", "rules", "list", filters] as const,
  deliveries: ["alerts", "deliveries"] as const,
  deliveryList: (filters: object) => ["alerts", "deliveries", "list", filters] as const,
};
