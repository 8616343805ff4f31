"use client";

import Link from "next/link";
import { Card } from "@/components/ui/Page";
import { Time } from "@/components/ui/Time";
import { CHANNEL_LABELS, ruleNameOf } from "./delivery";
import { DeliveryBadge } from "./DeliveryBadge";
import { useAlertDeliveries } from "./useAlertDeliveries";

/** The alerts a run raised, when it raised any: status, channel and event of each delivery. */
export function RunAlertsPanel({ runId }: { runId: string }) {
  const deliveries = useAlertDeliveries({ run_id: runId, limit: 20, offset: 0 });
  const items = deliveries.data?.items ?? [];
  if (items.length === 0) return null;
  const more = (deliveries.data?.total ?? 0) - items.length;
  return (
    <Card
      title="Alerts"
      className="mt-4"
      actions={
        <Link href="/alerts?tab=deliveries" className="text-sm text-blue-700 underline underline-offset-2 dark:text-blue-300">
          All alerts
        </Link>
      }
    >
      <ul className="divide-y divide-slate-100 text-sm dark:divide-slate-800" data-testid="run-alerts">
        {items.map((d) => {
          const rule = ruleNameOf(d);
          return (
            <li key={d.delivery_id} className="flex flex-wrap items-center gap-x-3 gap-y-1 py-1.5" data-testid="run-alert" data-status={d.status} data-channel={d.channel}>
              <DeliveryBadge status={d.status} />
              <span className="font-mono text-xs">{d.event_type}</span>
              <span>{CHANNEL_LABELS[d.channel]}</span>
              {rule ? <span className="text-xs text-slate-600 dark:text-slate-400">rule {rule}</span> : null}
              <span className="text-xs text-slate-600 dark:text-slate-400">
                {d.delivered_at ? (
                  <>
                    delivered <Time iso={d.delivered_at} relative />
                  </>
                ) : (
                  `${String(d.attempts)} attempt${d.attempts === 1 ? "" : "s"}`
                )}
              </span>
              {d.last_error && d.status !== "delivered" ? <span className="basis-full text-xs break-words text-red-800 dark:text-red-300">{d.last_error}</span> : null}
            </li>
          );
        })}
      </ul>
      {more > 0 ? <p className="mt-1 text-xs text-slate-600 dark:text-slate-400">and {more} more on the Alerts page.</p> : null}
    </Card>
  );
}
