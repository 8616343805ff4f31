"use client";

import { useState } from "react";
import { Button } from "@/components/ui/Button";
import { StatusBadge } from "@/components/ui/StatusBadge";
import { useToast } from "@/hooks/useToast";
import { errorMessage } from "@/lib/api/errors";
import { CHANNEL_LABELS } from "./delivery";
import { scopeText } from "./form";
import type { AlertRuleRead, AlertTestResult } from "./types";
import { useSaveAlertRule } from "./useSaveAlertRule";
import { useTestAlertRule } from "./useTestAlertRule";

/** The rule's channels in words: "webhook", "e-mail to a@x, b@y". */
function ChannelsCell({ rule }: { rule: AlertRuleRead }) {
  const emails = rule.email_to ?? [];
  return (
    <span className="flex flex-col gap-0.5">
      {rule.webhook ? <span>webhook</span> : null}
      {emails.length > 0 ? (
        <span>
          e-mail to <span className="text-xs break-all">{emails.join(", ")}</span>
        </span>
      ) : null}
      {!rule.webhook && emails.length === 0 ? <span className="text-slate-600 dark:text-slate-400">none</span> : null}
    </span>
  );
}

/** How the test alert went, channel by channel. */
function TestResults({ results }: { results: AlertTestResult[] }) {
  if (results.length === 0) return <span className="text-xs" role="status">The rule has no channel to test.</span>;
  return (
    <div role="status" aria-label="Test alert results">
      <ul className="flex flex-col items-end gap-0.5 text-xs">
        {results.map((r) => (
          <li key={r.channel} data-testid="alert-test-result" data-channel={r.channel} data-ok={String(r.ok)} className={r.ok ? "text-green-800 dark:text-green-300" : "text-red-700 dark:text-red-400"}>
            {CHANNEL_LABELS[r.channel]}: {r.ok ? "sent" : `failed${r.error ? `: ${r.error}` : ""}`}
          </li>
        ))}
      </ul>
    </div>
  );
}

function EnabledSwitch({ rule }: { rule: AlertRuleRead }) {
  const save = useSaveAlertRule();
  const toast = useToast();
  const toggle = () =>
    save.mutate(
      { ruleId: rule.rule_id, update: { enabled: !rule.enabled } },
      {
        onSuccess: (r) => toast.show("success", `${r.name} ${r.enabled ? "enabled" : "disabled"}`),
        onError: (e) => toast.show("error", errorMessage(e)),
      },
    );
  return (
    <label className="inline-flex items-center gap-2 text-sm">
      <input type="checkbox" role="switch" checked={rule.enabled} disabled={save.isPending} onChange={toggle} data-testid="alert-rule-enabled" />
      {rule.enabled ? "enabled" : "disabled"}
      <span className="sr-only"> {rule.name}</span>
    </label>
  );
}

function RuleActions({ rule, onEdit, onDelete }: { rule: AlertRuleRead; onEdit: () => void; onDelete: () => void }) {
  const test = useTestAlertRule();
  const toast = useToast();
  const [results, setResults] = useState<AlertTestResult[] | null>(null);
  const sendTest = () =>
    test.mutate(rule.rule_id, {
      onSuccess: (r) => setResults(r),
      onError: (e) => {
        setResults(null);
        toast.show("error", `No test alert sent: ${errorMessage(e)}`);
      },
    });
  return (
    <span className="inline-flex flex-col items-end gap-1">
      <span className="inline-flex gap-2">
        <Button size="sm" onClick={sendTest} disabled={test.isPending} data-testid="test-alert-rule">
          {test.isPending ? "Sending…" : "Test"}
          <span className="sr-only"> {rule.name}</span>
        </Button>
        <Button size="sm" onClick={onEdit} data-testid="edit-alert-rule">
          Edit<span className="sr-only"> {rule.name}</span>
        </Button>
        <Button size="sm" variant="danger" onClick={onDelete} data-testid="delete-alert-rule">
          Delete<span className="sr-only"> {rule.name}</span>
        </Button>
      </span>
      {results ? <TestResults results={results} /> : null}
    </span>
  );
}

/** The rules: what each hears, for which procedures, where it sends; operators toggle, test, edit and delete. */
export function AlertRulesTable({
  rules,
  mayManage,
  projectName,
  onEdit,
  onDelete,
}: {
  rules: AlertRuleRead[];
  mayManage: boolean;
  projectName: (id: string) => string | undefined;
  onEdit: (rule: AlertRuleRead) => void;
  onDelete: (rule: AlertRuleRead) => void;
}) {
  return (
    <div className="overflow-x-auto">
      <table className="w-full text-left text-sm">
        <caption className="sr-only">Alert rules</caption>
        <thead className="border-b border-slate-200 text-xs text-slate-600 uppercase dark:border-slate-700 dark:text-slate-400">
          <tr>
            <th scope="col" className="py-2 pr-3">Rule</th>
            <th scope="col" className="py-2 pr-3">Events</th>
            <th scope="col" className="py-2 pr-3">Procedures</th>
            <th scope="col" className="py-2 pr-3">Channels</th>
            <th scope="col" className="py-2 pr-3">State</th>
            <th scope="col" className="py-2">
              <span className="sr-only">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody className="divide-y divide-slate-100 dark:divide-slate-800">
          {rules.map((r) => (
            <tr key={r.rule_id} data-testid="alert-rule-row" data-rule-id={r.rule_id} className="align-top">
              <td className="py-2 pr-3">
                <span className="font-medium" data-testid="alert-rule-name-cell">{r.name}</span>
                {r.created_by ? <span className="block text-xs text-slate-600 dark:text-slate-400">by {r.created_by}</span> : null}
              </td>
              <td className="py-2 pr-3">
                <span className="flex flex-wrap gap-1">
                  {r.events.map((e) => (
                    <span key={e} className="rounded bg-slate-100 px-1.5 font-mono text-xs dark:bg-slate-800">
                      {e}
                    </span>
                  ))}
                </span>
              </td>
              <td className="py-2 pr-3" data-testid="alert-rule-scope">{scopeText(r, projectName)}</td>
              <td className="py-2 pr-3">
                <ChannelsCell rule={r} />
              </td>
              <td className="py-2 pr-3 whitespace-nowrap">
                {mayManage ? <EnabledSwitch rule={r} /> : <StatusBadge status={r.enabled ? "active" : "disabled"} label={r.enabled ? "enabled" : "disabled"} />}
              </td>
              <td className="py-2 text-right whitespace-nowrap">{mayManage ? <RuleActions rule={r} onEdit={() => onEdit(r)} onDelete={() => onDelete(r)} /> : null}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
