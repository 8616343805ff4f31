"use client";

import Link from "next/link";
import { ErrorBox } from "@/components/ui/ErrorBox";
import { SelectField } from "@/components/ui/Field";
import { Card, Empty, Loading, PageHeader } from "@/components/ui/Page";
import { Time } from "@/components/ui/Time";
import { useCan } from "@/hooks/useCan";
import { useQueryParams } from "@/hooks/useQueryParams";
import { useTriggers } from "@/hooks/useTriggers";
import type { TriggerRead } from "@/lib/api/models";
import { procedureHref } from "@/lib/format/links";
import { TRIGGER_TYPE_LABELS, TRIGGER_TYPES, isTriggerType, summary, typeLabel } from "@/lib/triggers/form";
import { LastFire, TriggerActions, TriggerState } from "./TriggerParts";

function label(t: TriggerRead): string {
  return t.name ?? `${typeLabel(t.trigger_type)} ${t.id.slice(0, 8)}`;
}

/** Every trigger: what fires it, its state, next and last fire; operators pause, resume and fire now. */
export function TriggersView() {
  const [params, setParams] = useQueryParams();
  const typeParam = params.get("type") ?? "";
  const type = isTriggerType(typeParam) ? typeParam : "";
  const state = params.get("state") ?? "";
  const triggers = useTriggers({ trigger_type: type, enabled: state === "enabled" ? true : state === "paused" ? false : null });
  const perms = useCan();
  // The list spans projects and its rows do not say theirs: actions here need the global role
  // (a project operator pauses and fires from the procedure's Triggers tab).
  const mayOperate = perms.can("operator");
  const items = triggers.data?.items ?? [];
  return (
    <>
      <PageHeader
        title="Triggers"
        subtitle="What starts procedures by themselves: schedules, webhooks, events, file watches and run-completed chains. Create and edit them on a procedure's Triggers tab."
      />
      <Card>
        <div className="mb-4 flex flex-wrap gap-3">
          <div className="w-48">
            <SelectField label="Type" value={type} onChange={(e) => setParams({ type: e.target.value })}>
              <option value="">All types</option>
              {TRIGGER_TYPES.map((t) => (
                <option key={t} value={t}>
                  {TRIGGER_TYPE_LABELS[t]}
                </option>
              ))}
            </SelectField>
          </div>
          <div className="w-48">
            <SelectField label="State" value={state} onChange={(e) => setParams({ state: e.target.value })}>
              <option value="">Enabled and paused</option>
              <option value="enabled">Enabled</option>
              <option value="paused">Paused</option>
            </SelectField>
          </div>
        </div>
        {triggers.isError ? <ErrorBox error={triggers.error} title="Could not load the triggers" /> : null}
        {triggers.isPending ? <Loading /> : null}
        {triggers.data && items.length === 0 ? <Empty>No triggers{type || state ? " match" : " yet: add one on a procedure's Triggers tab"}.</Empty> : null}
        {items.length > 0 ? (
          <div className="overflow-x-auto">
            <table className="w-full text-left text-sm">
              <caption className="sr-only">Triggers</caption>
              <thead className="border-b border-slate-200 text-xs text-slate-600 uppercase dark:border-slate-700 dark:text-slate-400">
                <tr>
                  <th scope="col" className="py-2 pr-3">Trigger</th>
                  <th scope="col" className="py-2 pr-3">Procedure</th>
                  <th scope="col" className="py-2 pr-3">State</th>
                  <th scope="col" className="py-2 pr-3">Next fire</th>
                  <th scope="col" className="py-2 pr-3">Last fire</th>
                  <th scope="col" className="py-2 pr-3">Fires</th>
                  <th scope="col" className="py-2">
                    <span className="sr-only">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody className="divide-y divide-slate-100 dark:divide-slate-800">
                {items.map((t) => (
                  <tr key={t.id} data-testid="trigger-row" data-trigger-id={t.id} data-trigger-type={t.trigger_type} className="align-top">
                    <td className="py-2 pr-3">
                      <span className="font-medium">{label(t)}</span>
                      <span className="block text-xs text-slate-600 dark:text-slate-400">
                        {typeLabel(t.trigger_type)} · {summary(t)}
                        {t.source === "ckp" ? " · from the CKP" : ""}
                      </span>
                    </td>
                    <td className="py-2 pr-3">
                      <Link href={procedureHref(t.procedure_id, null, "triggers")} className="text-blue-700 underline underline-offset-2 dark:text-blue-300" data-testid="trigger-procedure-link">
                        {t.procedure_id}
                      </Link>
                      {t.version ? <span className="ml-1 font-mono text-xs text-slate-600 dark:text-slate-400">v{t.version}</span> : null}
                    </td>
                    <td className="py-2 pr-3">
                      <TriggerState trigger={t} />
                    </td>
                    <td className="py-2 pr-3">{t.next_fire_at ? <Time iso={t.next_fire_at} relative /> : "—"}</td>
                    <td className="py-2 pr-3">
                      <LastFire trigger={t} />
                    </td>
                    <td className="py-2 pr-3">{t.fire_count}</td>
                    <td className="py-2 text-right whitespace-nowrap">{mayOperate ? <TriggerActions trigger={t} label={label(t)} /> : null}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ) : null}
        {triggers.data && triggers.data.total > items.length ? (
          <p className="mt-2 text-xs text-slate-600 dark:text-slate-400">
            The first {items.length} of {triggers.data.total}; narrow by type or state.
          </p>
        ) : null}
      </Card>
    </>
  );
}
