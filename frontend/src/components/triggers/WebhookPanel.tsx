"use client";

import { useState, useSyncExternalStore } from "react";
import { CopyButton } from "@/components/settings/CopyButton";
import { Button } from "@/components/ui/Button";
import { ConfirmDialog } from "@/components/ui/ConfirmDialog";
import { Time } from "@/components/ui/Time";
import { useRotateTriggerSecret } from "@/hooks/useRotateTriggerSecret";
import { useToast } from "@/hooks/useToast";
import { errorMessage } from "@/lib/api/errors";
import type { TriggerRead } from "@/lib/api/models";
import { curlExample, deliveryUrl, webhookPath } from "@/lib/triggers/webhook";

const noSubscription = () => () => undefined;

/** A webhook secret just made: shown here once, with a warning, never again. */
export function SecretOnce({ secret, rotated, onDismiss }: { secret: string; rotated: boolean; onDismiss: () => void }) {
  return (
    <div role="alert" className="mb-3 rounded-md border border-amber-400 bg-amber-50 p-4 text-sm text-amber-950 dark:border-amber-700 dark:bg-amber-950 dark:text-amber-100" data-testid="webhook-secret">
      <p className="font-semibold">
        {rotated ? "New signing secret." : "Webhook signing secret."} Copy it now: it will not be shown again.
      </p>
      <p className="mt-1">
        Senders sign each body with it (HMAC-SHA256). {rotated ? "The previous secret stays valid for 24 hours, so senders can switch without losing a delivery." : "Whoever has it can start this procedure."}
      </p>
      <div className="mt-3 flex flex-wrap items-center gap-2">
        <code className="rounded bg-white px-2 py-1 font-mono text-xs break-all text-slate-900 select-all dark:bg-slate-900 dark:text-slate-100" data-testid="webhook-secret-value">
          {secret}
        </code>
        <CopyButton text={secret} label="Copy secret" />
        <Button size="sm" onClick={onDismiss}>
          I have stored it
        </Button>
      </div>
    </div>
  );
}

/**
 * Where senders POST, a curl example that signs the body with openssl (with the secret in
 * it while it is shown), and secret rotation for operators.
 */
export function WebhookPanel({
  trigger,
  sample,
  secret,
  onSecret,
  mayRotate,
}: {
  trigger: TriggerRead;
  /** A JSON body to show in the example. */
  sample: string;
  /** The secret while it is shown (just created or rotated). */
  secret: string | null;
  onSecret: (secret: string | null) => void;
  mayRotate: boolean;
}) {
  const rotate = useRotateTriggerSecret();
  const toast = useToast();
  const [confirm, setConfirm] = useState(false);
  const [withTimestamp, setWithTimestamp] = useState(false);
  const origin = useSyncExternalStore(noSubscription, () => window.location.origin, () => "");
  const url = deliveryUrl(trigger.webhook_url ?? webhookPath(trigger.procedure_id), trigger.id, origin || "http://localhost:8000");
  const example = curlExample({ url, body: sample, secret, timestamp: withTimestamp });
  return (
    <div className="flex flex-col gap-3" data-testid="webhook-panel">
      {secret ? <SecretOnce secret={secret} rotated={rotate.isSuccess} onDismiss={() => onSecret(null)} /> : null}
      <div>
        <h4 className="mb-1 text-sm font-semibold">URL</h4>
        <div className="flex flex-wrap items-center gap-2">
          <code className="rounded bg-slate-100 px-2 py-1 font-mono text-xs break-all dark:bg-slate-950" data-testid="webhook-url">
            {url}
          </code>
          <CopyButton text={url} label="Copy URL" />
        </div>
        <p className="mt-1 text-xs text-slate-600 dark:text-slate-400">
          <code>?trigger=</code> names this trigger among the procedure&apos;s webhooks. POST a JSON body with <code>X-LangOrch-Signature: sha256=&lt;hex HMAC-SHA256 of the body&gt;</code>. With{" "}
          <code>X-LangOrch-Timestamp</code> the signature covers <code>&quot;{"{timestamp}.{body}"}&quot;</code> and a delivery older than 5 minutes is
          refused. A repeated delivery (same <code>Idempotency-Key</code>, else the same body) within the dedupe window starts no second run.
        </p>
      </div>
      <div>
        <div className="mb-1 flex flex-wrap items-center justify-between gap-2">
          <h4 className="text-sm font-semibold">Try it with curl</h4>
          <span className="flex items-center gap-3">
            <label className="flex items-center gap-1.5 text-xs">
              <input type="checkbox" checked={withTimestamp} onChange={(e) => setWithTimestamp(e.target.checked)} data-testid="curl-timestamp" />
              with timestamp (replay protection)
            </label>
            <CopyButton text={example} label="Copy command" />
          </span>
        </div>
        <pre tabIndex={0} aria-label="curl example" className="overflow-x-auto rounded-md bg-slate-100 p-3 font-mono text-xs leading-relaxed dark:bg-slate-950" data-testid="curl-example">
          {example}
        </pre>
        {secret ? null : (
          <p className="mt-1 text-xs text-slate-600 dark:text-slate-400">
            Replace <code>&lt;the webhook secret&gt;</code> with the secret shown when the trigger was made or its secret last rotated.
          </p>
        )}
      </div>
      <div className="flex flex-wrap items-center gap-3 text-sm">
        <span>
          Secret: {trigger.has_secret ? "set by LangOrch" : "none made by LangOrch (the CKP's webhook_config names one)"}
          {trigger.previous_secret_until ? (
            <span className="text-slate-600 dark:text-slate-400">
              {" "}
              · the previous one is accepted until <Time iso={trigger.previous_secret_until} />
            </span>
          ) : null}
        </span>
        {mayRotate ? (
          <Button size="sm" onClick={() => setConfirm(true)} data-testid="rotate-webhook-secret">
            Rotate secret
          </Button>
        ) : null}
      </div>
      <ConfirmDialog
        open={confirm}
        title="Rotate the signing secret?"
        message="A new secret is made and shown once. Deliveries signed with the current one are still accepted for 24 hours; after that only the new one works."
        confirmLabel="Rotate"
        danger={false}
        busy={rotate.isPending}
        onCancel={() => setConfirm(false)}
        onConfirm={() =>
          rotate.mutate(trigger.id, {
            onSuccess: (r) => {
              onSecret(r.secret);
              toast.show("success", "Secret rotated: copy the new one now");
            },
            onError: (e) => toast.show("error", errorMessage(e)),
            onSettled: () => setConfirm(false),
          })
        }
      />
    </div>
  );
}
