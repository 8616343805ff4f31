"use client";

import { useState } from "react";
import { Button } from "@/components/ui/Button";
import { ConfirmDialog } from "@/components/ui/ConfirmDialog";
import { Dialog } from "@/components/ui/Dialog";
import { ErrorBox } from "@/components/ui/ErrorBox";
import { Card, Empty, Loading, PageHeader } from "@/components/ui/Page";
import { TabPanel, Tabs } from "@/components/ui/Tabs";
import { useCan } from "@/hooks/useCan";
import { useProjects } from "@/hooks/useProjects";
import { useQueryParams } from "@/hooks/useQueryParams";
import { useToast } from "@/hooks/useToast";
import { errorMessage } from "@/lib/api/errors";
import { AlertDeliveries } from "./AlertDeliveries";
import { AlertRuleForm } from "./AlertRuleForm";
import { AlertRulesTable } from "./AlertRulesTable";
import type { AlertChannels, AlertRuleRead } from "./types";
import { useAlertChannels } from "./useAlertChannels";
import { useAlertRules } from "./useAlertRules";
import { useDeleteAlertRule } from "./useDeleteAlertRule";

const TABS = [
  { id: "rules", label: "Rules" },
  { id: "deliveries", label: "Deliveries" },
];

/** Which channels the server has, in one line; or, without any, what alerts need. */
function ChannelsLine({ channels }: { channels: AlertChannels }) {
  if (!channels.webhook && !channels.email) {
    return (
      <div role="note" className="mb-4 rounded-md border border-amber-300 bg-amber-50 p-3 text-sm text-amber-950 dark:border-amber-700 dark:bg-amber-950 dark:text-amber-100" data-testid="no-alert-channels">
        <p className="font-semibold">Alerts need a channel, and this server has none.</p>
        <p className="mt-1">
          Set <code>LANGORCH_NOTIFY__WEBHOOK_URL</code> (a webhook the server POSTs alerts to) or <code>LANGORCH_NOTIFY__SMTP_HOST</code> (an SMTP server for
          e-mail) on the server and restart it; then rules can be made here.
        </p>
      </div>
    );
  }
  const parts = [
    channels.webhook ? (channels.webhook_signed ? "the notification webhook (signed)" : "the notification webhook (unsigned: no LANGORCH_NOTIFY__WEBHOOK_SECRET)") : "",
    channels.email ? "e-mail through the SMTP server" : "",
  ].filter((p) => p !== "");
  return (
    <p className="mb-4 text-sm text-slate-600 dark:text-slate-400" data-testid="alert-channels">
      This server sends alerts to {parts.join(" and ")}.
    </p>
  );
}

/**
 * Alert rules (who hears about failed runs, SLA breaches and handled step errors, and where)
 * and the record of their deliveries. Viewers read; operators create, toggle, test, edit and
 * delete rules, on the channels the server has.
 */
export function AlertsView() {
  const [params, setParams] = useQueryParams();
  const tab = params.get("tab") === "deliveries" ? "deliveries" : "rules";
  const channels = useAlertChannels();
  const rules = useAlertRules();
  const projects = useProjects();
  const remove = useDeleteAlertRule();
  const toast = useToast();
  // Rules span projects: changing them is the global operator's (as the server decides).
  const mayManage = useCan().can("operator");
  const [editing, setEditing] = useState<AlertRuleRead | "new" | null>(null);
  const [target, setTarget] = useState<AlertRuleRead | null>(null);
  const hasChannel = channels.data ? channels.data.webhook || channels.data.email : false;
  const items = rules.data?.items ?? [];
  const projectName = (id: string) => projects.data?.items.find((p) => p.id === id)?.name;
  const ruleName = (id: string) => items.find((r) => r.rule_id === id)?.name;
  return (
    <>
      <PageHeader
        title="Alerts"
        subtitle="Who hears about failed runs, SLA breaches and step errors taken by a notify_on_error handler, and how each alert was delivered."
        actions={
          mayManage && hasChannel ? (
            <Button variant="primary" onClick={() => setEditing("new")} data-testid="new-alert-rule">
              New rule
            </Button>
          ) : null
        }
      />
      {channels.isError ? <ErrorBox error={channels.error} title="Could not load the server's alert channels" /> : null}
      {channels.data ? <ChannelsLine channels={channels.data} /> : null}
      <Card>
        <Tabs tabs={TABS} active={tab} onChange={(t) => setParams({ tab: t === "rules" ? null : t, status: null, offset: null })} label="Alert sections" />
        <TabPanel id={tab}>
          {tab === "rules" ? (
            <>
              {rules.isError ? <ErrorBox error={rules.error} title="Could not load the alert rules" /> : null}
              {rules.isPending ? <Loading /> : null}
              {rules.data && items.length === 0 ? (
                <Empty>No alert rules yet{mayManage && hasChannel ? ": make one with New rule." : "."}</Empty>
              ) : null}
              {items.length > 0 ? (
                <AlertRulesTable rules={items} mayManage={mayManage} projectName={projectName} onEdit={(r) => setEditing(r)} onDelete={(r) => setTarget(r)} />
              ) : null}
            </>
          ) : (
            <AlertDeliveries status={params.get("status") ?? ""} offset={Number(params.get("offset") ?? "0") || 0} onChange={setParams} ruleName={ruleName} />
          )}
        </TabPanel>
      </Card>
      <Dialog open={editing !== null && channels.data !== undefined} title={editing === "new" ? "New alert rule" : "Edit alert rule"} onClose={() => setEditing(null)} wide>
        {editing !== null && channels.data ? (
          <AlertRuleForm key={editing === "new" ? "new" : editing.rule_id} channels={channels.data} rule={editing === "new" ? null : editing} onDone={() => setEditing(null)} />
        ) : null}
      </Dialog>
      <ConfirmDialog
        open={target !== null}
        title="Delete this alert rule?"
        message={`${target?.name ?? ""} stops sending alerts, and its delivery history is deleted with it.`}
        confirmLabel="Delete"
        busy={remove.isPending}
        onCancel={() => setTarget(null)}
        onConfirm={() =>
          target &&
          remove.mutate(target.rule_id, {
            onSuccess: () => toast.show("success", `Deleted ${target.name}`),
            onError: (e) => toast.show("error", errorMessage(e)),
            onSettled: () => setTarget(null),
          })
        }
      />
    </>
  );
}
