"use client";

import Link from "next/link";
import { ErrorBox } from "@/components/ui/ErrorBox";
import { SelectField } from "@/components/ui/Field";
import { Empty, Loading } from "@/components/ui/Page";
import { Pagination } from "@/components/ui/Pagination";
import { Time } from "@/components/ui/Time";
import { shortId } from "@/lib/format/format";
import { runHref } from "@/lib/format/links";
import { CHANNEL_LABELS, ruleNameOf, summaryOf } from "./delivery";
import { DeliveryBadge } from "./DeliveryBadge";
import { DELIVERY_STATUSES, isDeliveryStatus } from "./types";
import { useAlertDeliveries } from "./useAlertDeliveries";

const LIMIT = 50;

/** The latest alert deliveries, by status, paged: each with its run, attempts and last error. */
export function AlertDeliveries({
  status: statusParam,
  offset,
  onChange,
  ruleName,
}: {
  status: string;
  offset: number;
  onChange: (changes: { status?: string | null; offset?: string | null }) => void;
  /** The name of a rule still listed, for deliveries whose payload does not carry it. */
  ruleName: (ruleId: string) => string | undefined;
}) {
  const status = isDeliveryStatus(statusParam) ? statusParam : "";
  const deliveries = useAlertDeliveries({ status, limit: LIMIT, offset });
  const items = deliveries.data?.items ?? [];
  return (
    <>
      <div className="mb-4 w-48">
        <SelectField label="Status" value={status} onChange={(e) => onChange({ status: e.target.value, offset: null })} data-testid="delivery-status-filter">
          <option value="">Every status</option>
          {DELIVERY_STATUSES.map((s) => (
            <option key={s} value={s}>
              {s}
            </option>
          ))}
        </SelectField>
      </div>
      {deliveries.isError ? <ErrorBox error={deliveries.error} title="Could not load the deliveries" /> : null}
      {deliveries.isPending ? <Loading /> : null}
      {deliveries.data && items.length === 0 ? (
        <Empty>{status ? `No ${status} deliveries.` : "No alerts sent yet. A rule hears only about events after it was made."}</Empty>
      ) : null}
      {items.length > 0 ? (
        <div className="overflow-x-auto">
          <table className="w-full text-left text-sm">
            <caption className="sr-only">Alert deliveries</caption>
            <thead className="border-b border-slate-200 text-xs text-slate-600 uppercase dark:border-slate-700 dark:text-slate-400">
              <tr>
                <th scope="col" className="py-2 pr-3">Status</th>
                <th scope="col" className="py-2 pr-3">Alert</th>
                <th scope="col" className="py-2 pr-3">Channel</th>
                <th scope="col" className="py-2 pr-3">Run</th>
                <th scope="col" className="py-2 pr-3">Attempts</th>
                <th scope="col" className="py-2 pr-3">Last error</th>
                <th scope="col" className="py-2 pr-3">Raised</th>
                <th scope="col" className="py-2">Delivered / next try</th>
              </tr>
            </thead>
            <tbody className="divide-y divide-slate-100 dark:divide-slate-800">
              {items.map((d) => {
                const rule = ruleNameOf(d) ?? ruleName(d.rule_id);
                const summary = summaryOf(d);
                return (
                  <tr key={d.delivery_id} data-testid="delivery-row" data-status={d.status} data-run-id={d.run_id} data-channel={d.channel} className="align-top">
                    <td className="py-2 pr-3">
                      <DeliveryBadge status={d.status} />
                    </td>
                    <td className="py-2 pr-3">
                      <span className="font-mono text-xs">{d.event_type}</span>
                      {rule ? <span className="block text-xs text-slate-600 dark:text-slate-400">rule {rule}</span> : null}
                      {summary ? (
                        <span className="block max-w-md truncate text-xs text-slate-600 dark:text-slate-400" title={summary}>
                          {summary}
                        </span>
                      ) : null}
                    </td>
                    <td className="py-2 pr-3">{CHANNEL_LABELS[d.channel]}</td>
                    <td className="py-2 pr-3">
                      <Link href={runHref(d.run_id)} title={d.run_id} className="font-mono text-xs text-blue-700 underline underline-offset-2 dark:text-blue-300" data-testid="delivery-run-link">
                        {shortId(d.run_id)}
                      </Link>
                    </td>
                    <td className="py-2 pr-3">{d.attempts}</td>
                    <td className="py-2 pr-3 text-xs break-words text-red-800 dark:text-red-300">{d.last_error ?? <span className="text-slate-600 dark:text-slate-400">—</span>}</td>
                    <td className="py-2 pr-3">
                      <Time iso={d.created_at} relative />
                    </td>
                    <td className="py-2">
                      {d.delivered_at ? <Time iso={d.delivered_at} relative /> : d.status === "pending" ? <Time iso={d.next_attempt_at} relative /> : "—"}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      ) : null}
      {deliveries.data && deliveries.data.total > 0 ? (
        <Pagination offset={offset} limit={LIMIT} total={deliveries.data.total} onChange={(o) => onChange({ offset: String(o) })} />
      ) : null}
    </>
  );
}
