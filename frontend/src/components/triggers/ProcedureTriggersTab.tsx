"use client";

import { useState } from "react";
import { Button } from "@/components/ui/Button";
import { ConfirmDialog } from "@/components/ui/ConfirmDialog";
import { ErrorBox } from "@/components/ui/ErrorBox";
import { JsonView } from "@/components/ui/JsonView";
import { Card, Empty, Loading } from "@/components/ui/Page";
import { Time } from "@/components/ui/Time";
import { useCan } from "@/hooks/useCan";
import { useDeleteTrigger } from "@/hooks/useDeleteTrigger";
import { useQueryParams } from "@/hooks/useQueryParams";
import { useToast } from "@/hooks/useToast";
import { useTriggers } from "@/hooks/useTriggers";
import { errorMessage } from "@/lib/api/errors";
import type { ProcedureDetail, TriggerCreated, TriggerRead } from "@/lib/api/models";
import { declaredVariables } from "@/lib/inputs/variables";
import { summary, typeLabel } from "@/lib/triggers/form";
import { sampleBody } from "@/lib/triggers/webhook";
import { NextFiresList } from "./NextFiresList";
import { TriggerForm } from "./TriggerForm";
import { TriggerHistory } from "./TriggerHistory";
import { LastFire, TriggerActions, TriggerState } from "./TriggerParts";
import { WebhookPanel } from "./WebhookPanel";

function label(t: TriggerRead): string {
  return t.name ?? `${typeLabel(t.trigger_type)} ${t.id.slice(0, 8)}`;
}

function Row({ name, children }: { name: string; children: React.ReactNode }) {
  return (
    <>
      <dt className="text-slate-600 dark:text-slate-400">{name}</dt>
      <dd className="break-words">{children}</dd>
    </>
  );
}

/** One trigger: what fires it, its next fires or webhook, its settings and its history. */
function TriggerDetail({
  trigger: t,
  sample,
  secret,
  onSecret,
  mayOperate,
  onEdit,
  onDelete,
}: {
  trigger: TriggerRead;
  sample: string;
  secret: string | null;
  onSecret: (s: string | null) => void;
  mayOperate: boolean;
  onEdit: () => void;
  onDelete: () => void;
}) {
  return (
    <Card
      title={
        <span className="flex flex-wrap items-center gap-2" data-testid="trigger-detail-title">
          {label(t)} <TriggerState trigger={t} />
        </span>
      }
      actions={
        mayOperate ? (
          <span className="flex flex-wrap items-start gap-2">
            <TriggerActions trigger={t} label={label(t)} />
            <Button size="sm" onClick={onEdit} data-testid="edit-trigger">
              Edit
            </Button>
            {t.source === "ckp" ? null : (
              <Button size="sm" variant="danger" onClick={onDelete} data-testid="delete-trigger">
                Delete
              </Button>
            )}
          </span>
        ) : null
      }
    >
      <div className="grid gap-4 lg:grid-cols-2">
        <section aria-label="What fires it">
          <h3 className="mb-2 text-sm font-semibold">{typeLabel(t.trigger_type)}</h3>
          {t.trigger_type === "scheduled" ? <NextFiresList triggerId={t.id} /> : null}
          {t.trigger_type === "webhook" ? <WebhookPanel trigger={t} sample={sample} secret={secret} onSecret={onSecret} mayRotate={mayOperate && t.has_secret} /> : null}
          {t.trigger_type !== "scheduled" && t.trigger_type !== "webhook" ? (
            <>
              <p className="mb-2 text-sm">{summary(t)}</p>
              {t.config ? <JsonView value={t.config} label="Trigger settings" /> : null}
            </>
          ) : null}
        </section>
        <section aria-label="Settings">
          <h3 className="mb-2 text-sm font-semibold">Settings</h3>
          <dl className="grid grid-cols-[auto_1fr] gap-x-4 gap-y-1.5 text-sm">
            <Row name="Source">{t.source === "ckp" ? "the procedure's CKP (active version)" : `made here${t.created_by ? ` by ${t.created_by}` : ""}`}</Row>
            <Row name="Version">{t.version ?? "the active version at fire time"}</Row>
            {t.trigger_type === "scheduled" ? (
              <>
                <Row name="Next fire">
                  <Time iso={t.next_fire_at} />
                </Row>
                <Row name="Missed fires">
                  {t.coalesce ? "coalesced into one" : "each fired"} · grace {t.misfire_grace_s} s
                </Row>
              </>
            ) : (
              <Row name="Dedupe window">{t.dedupe_window_s} s</Row>
            )}
            <Row name="While a run is going">
              {t.overlap}
              {t.max_concurrent > 0 ? ` · at most ${String(t.max_concurrent)} at once` : ""}
            </Row>
            <Row name="Last fire">
              <LastFire trigger={t} />
            </Row>
            <Row name="Fires">{t.fire_count}</Row>
            {t.input_mapping ? (
              <Row name="Input mapping">
                <JsonView value={t.input_mapping} label="Input mapping" />
              </Row>
            ) : null}
          </dl>
        </section>
      </div>
      <section aria-label="Fire history" className="mt-4">
        <h3 className="mb-2 text-sm font-semibold">Fire history</h3>
        <TriggerHistory triggerId={t.id} />
      </section>
    </Card>
  );
}

/** The procedure's triggers; operators create, edit, pause, fire and delete them. */
export function ProcedureTriggersTab({ procedure: p }: { procedure: ProcedureDetail }) {
  const triggers = useTriggers({ procedure_id: p.procedure_id });
  const perms = useCan();
  const toast = useToast();
  const remove = useDeleteTrigger();
  const [params, setParams] = useQueryParams();
  const [mode, setMode] = useState<"view" | "new" | "edit">("view");
  const [secret, setSecret] = useState<{ triggerId: string; value: string } | null>(null);
  const [target, setTarget] = useState<TriggerRead | null>(null);
  // Operator on the procedure's project (the server resolves a trigger to its procedure's project).
  const mayCreate = perms.can("operator", p.project_id ?? null);
  const mayOperate = mayCreate;
  const list = triggers.data?.items ?? [];
  const selectedId = params.get("trigger");
  const selected = list.find((t) => t.id === selectedId) ?? (mode === "new" ? null : (list[0] ?? null));
  const sample = sampleBody(declaredVariables(p.ckp_json.variables_schema));

  const onSaved = (saved: TriggerCreated) => {
    if (saved.secret) setSecret({ triggerId: saved.id, value: saved.secret });
    setMode("view");
    setParams({ trigger: saved.id });
  };

  return (
    <div className="flex flex-col gap-4">
      <Card
        title="Triggers"
        actions={
          mayCreate && mode !== "new" ? (
            <Button variant="primary" size="sm" onClick={() => setMode("new")} data-testid="new-trigger">
              New trigger
            </Button>
          ) : null
        }
      >
        {triggers.isError ? <ErrorBox error={triggers.error} title="Could not load the triggers" /> : null}
        {triggers.isPending ? <Loading /> : null}
        {triggers.data && list.length === 0 ? (
          <Empty>
            Nothing starts this procedure by itself yet.
            {mayCreate ? " Add a schedule, a webhook, an event, a file watch or a chain with New trigger." : ""}
          </Empty>
        ) : null}
        {list.length > 0 ? (
          <div className="overflow-x-auto">
            <table className="w-full text-left text-sm">
              <caption className="sr-only">Triggers of {p.procedure_id}</caption>
              <thead className="border-b border-slate-200 text-xs text-slate-600 uppercase dark:border-slate-700 dark:text-slate-400">
                <tr>
                  <th scope="col" className="py-2 pr-3">Name</th>
                  <th scope="col" className="py-2 pr-3">Type</th>
                  <th scope="col" className="py-2 pr-3">Fires on</th>
                  <th scope="col" className="py-2 pr-3">State</th>
                  <th scope="col" className="py-2 pr-3">Next fire</th>
                  <th scope="col" className="py-2 pr-3">Last fire</th>
                  <th scope="col" className="py-2">Fires</th>
                </tr>
              </thead>
              <tbody className="divide-y divide-slate-100 dark:divide-slate-800">
                {list.map((t) => (
                  <tr key={t.id} data-testid="procedure-trigger-row" data-trigger-type={t.trigger_type} aria-selected={selected?.id === t.id} className={`align-top ${selected?.id === t.id ? "bg-blue-50 dark:bg-slate-800" : ""}`}>
                    <td className="py-2 pr-3">
                      <button type="button" className="text-left font-medium text-blue-700 underline underline-offset-2 dark:text-blue-300" onClick={() => { setMode("view"); setParams({ trigger: t.id }); }}>
                        {label(t)}
                      </button>
                      {t.source === "ckp" ? <span className="block text-xs text-slate-600 dark:text-slate-400">from the CKP</span> : null}
                    </td>
                    <td className="py-2 pr-3">{typeLabel(t.trigger_type)}</td>
                    <td className="py-2 pr-3">{summary(t)}</td>
                    <td className="py-2 pr-3">
                      <TriggerState trigger={t} />
                    </td>
                    <td className="py-2 pr-3">{t.next_fire_at ? <Time iso={t.next_fire_at} relative /> : "—"}</td>
                    <td className="py-2 pr-3">
                      <LastFire trigger={t} />
                    </td>
                    <td className="py-2">{t.fire_count}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ) : null}
      </Card>

      {mode === "new" && mayCreate ? (
        <Card title="New trigger">
          <TriggerForm procedureId={p.procedure_id} onSaved={onSaved} onCancel={() => setMode("view")} />
        </Card>
      ) : null}
      {mode === "edit" && selected && mayOperate ? (
        <Card title={`Edit ${label(selected)}`}>
          <TriggerForm key={selected.id} procedureId={p.procedure_id} trigger={selected} onSaved={onSaved} onCancel={() => setMode("view")} />
        </Card>
      ) : null}
      {mode === "view" && selected ? (
        <TriggerDetail
          trigger={selected}
          sample={sample}
          secret={secret?.triggerId === selected.id ? secret.value : null}
          onSecret={(value) => setSecret(value ? { triggerId: selected.id, value } : null)}
          mayOperate={mayOperate}
          onEdit={() => setMode("edit")}
          onDelete={() => setTarget(selected)}
        />
      ) : null}
      <ConfirmDialog
        open={target !== null}
        title="Delete this trigger?"
        message={`${target ? label(target) : ""} stops firing and is removed with its fire history${target?.trigger_type === "webhook" ? " and its secret: deliveries to its URL are refused from now on" : ""}. Runs it started stay.`}
        confirmLabel="Delete"
        busy={remove.isPending}
        onCancel={() => setTarget(null)}
        onConfirm={() =>
          target &&
          remove.mutate(target.id, {
            onSuccess: () => {
              toast.show("success", `Deleted ${label(target)}`);
              setParams({ trigger: null });
            },
            onError: (e) => toast.show("error", errorMessage(e)),
            onSettled: () => setTarget(null),
          })
        }
      />
    </div>
  );
}
