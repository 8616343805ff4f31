"use client";

import { ErrorBox } from "@/components/ui/ErrorBox";
import { Loading } from "@/components/ui/Page";
import { useTriggerNextFires } from "@/hooks/useTriggerNextFires";
import { formatInZone } from "@/lib/triggers/zones";

/** The server's words for a saved schedule and its next fire times, in the trigger's zone and in UTC. */
export function NextFiresList({ triggerId, n = 10 }: { triggerId: string; n?: number }) {
  const next = useTriggerNextFires(triggerId, n);
  if (next.isPending) return <Loading label="Computing the next fire times…" />;
  if (next.isError) return <ErrorBox error={next.error} title="Could not compute the next fire times" />;
  const { description, timezone, fires, enabled } = next.data;
  return (
    <div data-testid="next-fires">
      {description ? (
        <p className="mb-2 text-sm">
          Fires <strong data-testid="schedule-description">{description}</strong>
          {enabled ? "." : ". Paused: these are the times it fires once resumed."}
        </p>
      ) : null}
      {fires.length === 0 ? (
        <p className="text-sm text-slate-600 dark:text-slate-400">No fire times ahead.</p>
      ) : (
        <table className="w-full text-left text-sm">
          <caption className="sr-only">Next {fires.length} fire times</caption>
          <thead className="text-xs text-slate-600 uppercase dark:text-slate-400">
            <tr>
              <th scope="col" className="py-1 pr-3">#</th>
              <th scope="col" className="py-1 pr-3">{timezone}</th>
              <th scope="col" className="py-1">UTC</th>
            </tr>
          </thead>
          <tbody className="divide-y divide-slate-100 dark:divide-slate-800">
            {fires.map((f, i) => (
              <tr key={f.utc} data-testid="next-fire">
                <td className="py-1 pr-3 text-slate-600 dark:text-slate-400">{i + 1}</td>
                <td className="py-1 pr-3">
                  <time dateTime={f.local}>{formatInZone(f.utc, timezone)}</time>
                </td>
                <td className="py-1 font-mono text-xs">{f.utc.replace(/\.\d+/, "").replace("+00:00", "Z")}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
