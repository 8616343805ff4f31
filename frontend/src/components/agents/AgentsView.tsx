"use client";

import { useState } from "react";
import { Button } from "@/components/ui/Button";
import { ConfirmDialog } from "@/components/ui/ConfirmDialog";
import { Dialog } from "@/components/ui/Dialog";
import { ErrorBox } from "@/components/ui/ErrorBox";
import { Card, Empty, Loading, PageHeader } from "@/components/ui/Page";
import { StatusBadge } from "@/components/ui/StatusBadge";
import { Time } from "@/components/ui/Time";
import { useActionCatalog } from "@/hooks/useActionCatalog";
import { useAgentHealthCheck } from "@/hooks/useAgentHealthCheck";
import { useAgentPools } from "@/hooks/useAgentPools";
import { useAgents } from "@/hooks/useAgents";
import { useCan } from "@/hooks/useCan";
import { useDeleteAgent } from "@/hooks/useDeleteAgent";
import { useSaveAgent } from "@/hooks/useSaveAgent";
import { useToast } from "@/hooks/useToast";
import { errorMessage } from "@/lib/api/errors";
import type { AgentRead } from "@/lib/api/models";
import { plural } from "@/lib/format/format";
import { AgentForm } from "./AgentForm";

function AgentCard({ agent: a, onDelete, mayManage }: { agent: AgentRead; onDelete: () => void; mayManage: boolean }) {
  const save = useSaveAgent();
  const health = useAgentHealthCheck();
  const toast = useToast();
  const online = a.status === "online";
  const toggle = () =>
    save.mutate(
      { agentId: a.agent_id, update: { status: online ? "offline" : "online" } },
      { onError: (e) => toast.show("error", errorMessage(e)), onSuccess: () => toast.show("success", `${a.name} is ${online ? "offline" : "online"}`) },
    );
  const resetCircuit = () =>
    save.mutate(
      { agentId: a.agent_id, update: { circuit_state: "closed" } },
      { onError: (e) => toast.show("error", errorMessage(e)), onSuccess: () => toast.show("success", `Circuit of ${a.name} closed`) },
    );
  const probe = () =>
    health.mutate(a.agent_id, {
      onSuccess: (h) => toast.show(h.ok ? "success" : "error", h.ok ? `${a.name} is healthy (${h.latency_ms.toFixed(0)} ms)` : `${a.name} is unhealthy: ${h.error ?? `HTTP ${String(h.status_code)}`}`),
      onError: (e) => toast.show("error", errorMessage(e)),
    });
  return (
    <li className="flex flex-col gap-2 rounded-lg border border-slate-200 bg-white p-4 dark:border-slate-700 dark:bg-slate-900">
      <div className="flex flex-wrap items-center gap-2">
        <h2 className="font-semibold">{a.name}</h2>
        <StatusBadge status={a.status} />
        <span className="rounded bg-slate-100 px-1.5 font-mono text-xs dark:bg-slate-800">{a.channel}</span>
        {a.pool_id ? <span className="text-xs text-slate-600 dark:text-slate-400">pool {a.pool_id}</span> : null}
      </div>
      <p className="font-mono text-xs break-all text-slate-600 dark:text-slate-400">{a.base_url}</p>
      <p className="flex flex-wrap items-center gap-2 text-xs">
        Circuit <StatusBadge status={a.circuit_state} label={a.circuit_state.replace("_", " ")} />
        {a.consecutive_failures > 0 ? <span>{plural(a.consecutive_failures, "consecutive failure")}</span> : null}
        {a.circuit_open_until ? (
          <span>
            open until <Time iso={a.circuit_open_until} />
          </span>
        ) : null}
        <span>· concurrency {a.concurrency_limit}</span>
        <span>
          · heartbeat <Time iso={a.last_heartbeat_at} relative />
        </span>
      </p>
      <p className="flex flex-wrap gap-1">
        {(a.capabilities ?? []).length === 0 ? <span className="text-xs text-slate-600 dark:text-slate-400">any action</span> : null}
        {(a.capabilities ?? []).map((c) => (
          <span key={c} className="rounded bg-blue-50 px-1.5 font-mono text-xs text-blue-900 dark:bg-blue-950 dark:text-blue-100">
            {c}
          </span>
        ))}
      </p>
      {mayManage ? (
      <div className="mt-1 flex flex-wrap gap-2" data-testid="agent-actions">
        <Button size="sm" onClick={toggle} disabled={save.isPending}>
          Mark {online ? "offline" : "online"}
          <span className="sr-only"> {a.name}</span>
        </Button>
        <Button size="sm" onClick={probe} disabled={health.isPending}>
          Check health<span className="sr-only"> of {a.name}</span>
        </Button>
        {a.circuit_state !== "closed" ? (
          <Button size="sm" onClick={resetCircuit}>
            Reset circuit
          </Button>
        ) : null}
        <Button size="sm" variant="danger" onClick={onDelete}>
          Delete<span className="sr-only"> {a.name}</span>
        </Button>
      </div>
      ) : null}
    </li>
  );
}

export function AgentsView() {
  const agents = useAgents();
  const pools = useAgentPools();
  const catalog = useActionCatalog();
  const remove = useDeleteAgent();
  const toast = useToast();
  const [adding, setAdding] = useState(false);
  const [target, setTarget] = useState<AgentRead | null>(null);
  // Registering, changing, probing and deleting agents is the operator's.
  const mayManage = useCan().can("operator");
  return (
    <>
      <PageHeader
        title="Agents"
        subtitle="Workers that run steps for a channel. Runs pick an online agent whose circuit is closed, pool by pool, round-robin."
        actions={
          mayManage ? (
            <Button variant="primary" onClick={() => setAdding(true)}>
              Register agent
            </Button>
          ) : null
        }
      />
      {agents.isError ? <ErrorBox error={agents.error} /> : null}
      {agents.isPending ? <Loading /> : null}
      {agents.data && agents.data.items.length === 0 ? (
        <Card>
          <Empty>No agents registered. Steps without an agent run inside the orchestrator.</Empty>
        </Card>
      ) : null}
      <ul className="grid gap-4 lg:grid-cols-2 2xl:grid-cols-3" aria-label="Agents">
        {(agents.data?.items ?? []).map((a) => (
          <AgentCard key={a.agent_id} agent={a} onDelete={() => setTarget(a)} mayManage={mayManage} />
        ))}
      </ul>
      <div className="mt-6 grid gap-4 lg:grid-cols-2">
        <Card title="Pools">
          {(pools.data ?? []).length === 0 ? <p className="text-sm text-slate-600 dark:text-slate-400">No pools.</p> : null}
          <ul className="text-sm">
            {(pools.data ?? []).map((p) => (
              <li key={p.pool_id} className="flex justify-between gap-2 py-1">
                <span className="font-mono">{p.pool_id}</span>
                <span>
                  {p.channels.join(", ")} · {p.online}/{p.size} online · concurrency {p.concurrency_limit}
                </span>
              </li>
            ))}
          </ul>
        </Card>
        <Card title="Action catalog">
          {catalog.data ? (
            <div className="flex flex-col gap-2 text-sm">
              <p>
                <span className="font-medium">Built in (no agent): </span>
                <span className="font-mono text-xs">{catalog.data.internal_actions.join(", ")}</span>
              </p>
              {catalog.data.channels.map((c) => (
                <details key={c.channel}>
                  <summary className="cursor-pointer">
                    {c.channel} · {plural(c.actions.length, "action")} · {plural(c.agents.length, "agent")}
                  </summary>
                  <p className="mt-1 font-mono text-xs">{c.actions.join(", ")}</p>
                </details>
              ))}
            </div>
          ) : (
            <Loading />
          )}
        </Card>
      </div>
      <Dialog open={adding} title="Register agent" onClose={() => setAdding(false)} wide>
        <AgentForm onDone={() => setAdding(false)} />
      </Dialog>
      <ConfirmDialog
        open={target !== null}
        title="Delete this agent?"
        message={`${target?.name ?? ""} stops receiving work.`}
        confirmLabel="Delete"
        busy={remove.isPending}
        onCancel={() => setTarget(null)}
        onConfirm={() =>
          target &&
          remove.mutate(target.agent_id, {
            onSuccess: () => toast.show("success", `Deleted ${target.name}`),
            onError: (e) => toast.show("error", errorMessage(e)),
            onSettled: () => setTarget(null),
          })
        }
      />
    </>
  );
}
