"use client";

import { useId, useState, type SyntheticEvent } from "react";
import { Button } from "@/components/ui/Button";
import { TextField } from "@/components/ui/Field";
import { useActionCatalog } from "@/hooks/useActionCatalog";
import { useSaveAgent } from "@/hooks/useSaveAgent";
import { useToast } from "@/hooks/useToast";
import { ApiError, errorMessage } from "@/lib/api/errors";
import { channelProblem, KNOWN_CHANNELS, normalizeChannel } from "./channel";

/** Register an agent: channel, URL, the actions it offers (from the catalog), pool and concurrency. */
export function AgentForm({ onDone }: { onDone: () => void }) {
  const save = useSaveAgent();
  const toast = useToast();
  const catalog = useActionCatalog();
  const [name, setName] = useState("");
  const [channel, setChannel] = useState("WEB");
  const [channelTouched, setChannelTouched] = useState(false);
  const listId = useId();
  const [url, setUrl] = useState("http://127.0.0.1:9000");
  const [pool, setPool] = useState("");
  const [limit, setLimit] = useState("1");
  const [caps, setCaps] = useState<Set<string>>(new Set());
  const channels = [...new Set([...KNOWN_CHANNELS, ...(catalog.data?.channels ?? []).map((c) => c.channel)])];
  const channelName = normalizeChannel(channel);
  const actions = catalog.data?.channels.find((c) => c.channel === channelName)?.actions ?? [];
  const fieldError = (f: string) => (save.error instanceof ApiError ? (save.error.fieldErrors.find((e) => e.field === f)?.message ?? null) : null);
  const channelError = channelProblem(channel);

  const submit = (e: SyntheticEvent) => {
    e.preventDefault();
    if (channelError) {
      setChannelTouched(true);
      return;
    }
    save.mutate(
      {
        create: {
          name: name.trim(),
          channel: channelName,
          base_url: url.trim(),
          capabilities: [...caps],
          pool_id: pool.trim() || null,
          concurrency_limit: Number(limit) || 1,
          status: "online",
        },
      },
      {
        onSuccess: (a) => {
          toast.show("success", `Registered ${a.name}`);
          onDone();
        },
        onError: (err) => toast.show("error", `Not registered: ${errorMessage(err)}`),
      },
    );
  };
  return (
    <form onSubmit={submit} className="flex flex-col gap-4" aria-label="Register agent">
      <div className="grid gap-3 md:grid-cols-2">
        <TextField label="Name" required value={name} onChange={(e) => setName(e.target.value)} error={fieldError("name")} />
        <div>
          <TextField
            label="Channel"
            required
            list={listId}
            value={channel}
            autoComplete="off"
            spellCheck={false}
            onChange={(e) => {
              setChannel(e.target.value);
              setCaps(new Set());
            }}
            onBlur={() => setChannelTouched(true)}
            error={(channelTouched || channel.trim() !== "" ? channelError : null) ?? fieldError("channel")}
            hint="Any channel name (e.g. ERP, HELPDESK, CRM); the known ones are suggested. Stored upper-case."
            data-testid="agent-channel"
          />
          <datalist id={listId}>
            {channels.map((c) => (
              <option key={c} value={c} />
            ))}
          </datalist>
        </div>
        <TextField label="Base URL" required value={url} onChange={(e) => setUrl(e.target.value)} error={fieldError("base_url")} hint="Where POST /execute and GET /health answer." />
        <TextField label="Pool" value={pool} onChange={(e) => setPool(e.target.value)} hint="Agents in one pool share work round-robin." />
        <TextField label="Concurrency limit" type="number" min={1} value={limit} onChange={(e) => setLimit(e.target.value)} error={fieldError("concurrency_limit")} />
      </div>
      <fieldset>
        <legend className="mb-1 text-sm font-medium">Capabilities ({caps.size} selected)</legend>
        {actions.length === 0 ? (
          <p className="text-sm text-slate-600 dark:text-slate-400">No known actions for {channelName || "this channel"}; the agent will be asked for any.</p>
        ) : null}
        <div className="grid max-h-48 grid-cols-2 gap-1 overflow-y-auto md:grid-cols-3">
          {actions.map((a) => (
            <label key={a} className="flex items-center gap-2 text-sm">
              <input
                type="checkbox"
                checked={caps.has(a)}
                onChange={() =>
                  setCaps((s) => {
                    const next = new Set(s);
                    if (next.has(a)) next.delete(a);
                    else next.add(a);
                    return next;
                  })
                }
              />
              <span className="font-mono text-xs">{a}</span>
            </label>
          ))}
        </div>
      </fieldset>
      <div className="flex gap-2">
        <Button type="submit" variant="primary" disabled={save.isPending || !name.trim() || channelError !== null}>
          Register agent
        </Button>
        <Button onClick={onDone}>Cancel</Button>
      </div>
    </form>
  );
}
