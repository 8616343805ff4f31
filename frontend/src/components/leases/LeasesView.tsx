"use client";

import Link from "next/link";
import { useState } from "react";
import { Button } from "@/components/ui/Button";
import { ConfirmDialog } from "@/components/ui/ConfirmDialog";
import { ErrorBox } from "@/components/ui/ErrorBox";
import { Card, Empty, Loading, PageHeader } from "@/components/ui/Page";
import { Time } from "@/components/ui/Time";
import { useCan } from "@/hooks/useCan";
import { useLeases } from "@/hooks/useLeases";
import { useNow } from "@/hooks/useNow";
import { useReleaseLease } from "@/hooks/useReleaseLease";
import { useToast } from "@/hooks/useToast";
import { errorMessage } from "@/lib/api/errors";
import type { LeaseRead } from "@/lib/api/models";
import { shortId } from "@/lib/format/format";
import { runHref } from "@/lib/format/links";

export function LeasesView() {
  const [all, setAll] = useState(false);
  const leases = useLeases(all);
  const release = useReleaseLease();
  const toast = useToast();
  const now = useNow(true, 10_000);
  const [target, setTarget] = useState<LeaseRead | null>(null);
  // Forcing a lease free is the operator's.
  const mayRelease = useCan().can("operator");
  return (
    <>
      <PageHeader title="Resource leases" subtitle="Exclusive claims that runs hold on shared resources (a desktop, a mailbox, a file). Refreshed every 10 s." />
      <Card>
        <label className="mb-3 flex items-center gap-2 text-sm">
          <input type="checkbox" checked={all} onChange={(e) => setAll(e.target.checked)} />
          Include released and expired leases
        </label>
        {leases.isError ? <ErrorBox error={leases.error} /> : null}
        {leases.isPending ? <Loading /> : null}
        {leases.data && leases.data.items.length === 0 ? <Empty>No {all ? "" : "active "}leases.</Empty> : null}
        {leases.data && leases.data.items.length > 0 ? (
          <table className="w-full text-left text-sm">
            <caption className="sr-only">Leases</caption>
            <thead className="text-xs text-slate-600 uppercase dark:text-slate-400">
              <tr>
                <th scope="col" className="py-2 pr-3">Resource</th>
                <th scope="col" className="pr-3">Held by</th>
                <th scope="col" className="pr-3">Acquired</th>
                <th scope="col" className="pr-3">Expires</th>
                <th scope="col" className="pr-3">State</th>
                <th scope="col"><span className="sr-only">Actions</span></th>
              </tr>
            </thead>
            <tbody className="divide-y divide-slate-100 dark:divide-slate-800">
              {leases.data.items.map((l) => {
                const soon = l.active && l.expires_at && Date.parse(l.expires_at) - now < 60_000;
                return (
                  <tr key={l.lease_id}>
                    <td className="py-2 pr-3 font-mono">{l.resource_key}</td>
                    <td className="pr-3">
                      {l.run_id ? (
                        <Link href={runHref(l.run_id)} className="font-mono text-blue-700 underline underline-offset-2 dark:text-blue-300">
                          {shortId(l.run_id)}
                        </Link>
                      ) : (
                        "—"
                      )}
                      {l.node_id ? <span className="text-xs text-slate-600 dark:text-slate-400"> · {l.node_id}{l.step_id ? `/${l.step_id}` : ""}</span> : null}
                    </td>
                    <td className="pr-3"><Time iso={l.acquired_at} relative /></td>
                    <td className="pr-3">
                      <Time iso={l.expires_at} relative />
                      {soon ? <span className="ml-2 rounded bg-amber-200 px-1.5 text-xs text-amber-900">expiring</span> : null}
                    </td>
                    <td className="pr-3">{l.active ? "active" : l.released_at ? "released" : "expired"}</td>
                    <td className="text-right">
                      {l.active && mayRelease ? (
                        <Button size="sm" variant="danger" onClick={() => setTarget(l)}>
                          Force release<span className="sr-only"> {l.resource_key}</span>
                        </Button>
                      ) : null}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        ) : null}
      </Card>
      <ConfirmDialog
        open={target !== null}
        title="Force-release this lease?"
        message={`${target?.resource_key ?? ""} becomes free at once, even if the run still uses it.`}
        confirmLabel="Release"
        busy={release.isPending}
        onCancel={() => setTarget(null)}
        onConfirm={() =>
          target &&
          release.mutate(target.lease_id, {
            onSuccess: () => toast.show("success", `Released ${target.resource_key}`),
            onError: (e) => toast.show("error", errorMessage(e)),
            onSettled: () => setTarget(null),
          })
        }
      />
    </>
  );
}
