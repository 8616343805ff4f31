"use client";

import Link from "next/link";
import { useState } from "react";
import { ErrorBox } from "@/components/ui/ErrorBox";
import { SelectField } from "@/components/ui/Field";
import { Card, Loading } from "@/components/ui/Page";
import { StatusBadge } from "@/components/ui/StatusBadge";
import { Time } from "@/components/ui/Time";
import { useCan } from "@/hooks/useCan";
import { useProcedure } from "@/hooks/useProcedure";
import { useProcedureVersions } from "@/hooks/useProcedureVersions";
import type { ProcedureDetail } from "@/lib/api/models";
import { builderHref } from "@/lib/builder/links";
import { procedureHref } from "@/lib/format/links";
import { VersionDiff } from "./VersionDiff";

export function VersionsTab({ procedure: p }: { procedure: ProcedureDetail }) {
  const versions = useProcedureVersions(p.procedure_id);
  const items = versions.data?.items ?? [];
  const [left, setLeft] = useState<string>("");
  const [right, setRight] = useState<string>(p.version);
  const leftVersion = left || items.find((v) => v.version !== right)?.version || p.version;
  const a = useProcedure(p.procedure_id, leftVersion);
  const b = useProcedure(p.procedure_id, right);
  const perms = useCan();
  const mayEdit = perms.can("author", p.project_id ?? null);
  if (versions.isPending) return <Loading />;
  if (versions.isError) return <ErrorBox error={versions.error} />;
  return (
    <div className="flex flex-col gap-4">
      <Card title={`Versions (${String(items.length)})`}>
        <table className="w-full text-left text-sm">
          <caption className="sr-only">Versions of {p.procedure_id}</caption>
          <thead className="text-xs text-slate-600 uppercase dark:text-slate-400">
            <tr>
              <th scope="col" className="py-1 pr-3">Version</th>
              <th scope="col" className="pr-3">Status</th>
              <th scope="col" className="pr-3">Runs</th>
              <th scope="col" className="pr-3">IR hash</th>
              <th scope="col" className="pr-3">Created</th>
              {mayEdit ? <th scope="col"><span className="sr-only">Builder</span></th> : null}
            </tr>
          </thead>
          <tbody className="divide-y divide-slate-100 dark:divide-slate-800">
            {items.map((v) => (
              <tr key={v.id}>
                <td className="py-1.5 pr-3">
                  <Link href={procedureHref(v.procedure_id, v.version)} className="font-mono text-blue-700 underline underline-offset-2 dark:text-blue-300" aria-current={v.version === p.version ? "page" : undefined}>
                    {v.version}
                  </Link>
                </td>
                <td className="pr-3">
                  <StatusBadge status={v.status} />
                </td>
                <td className="pr-3">{v.run_count}</td>
                <td className="pr-3 font-mono text-xs">{v.ir_hash.slice(0, 12)}</td>
                <td className="pr-3">
                  <Time iso={v.created_at} />
                </td>
                {mayEdit ? (
                  <td>
                    <Link
                      href={builderHref({ kind: "version", procedureId: v.procedure_id, version: v.version })}
                      className="text-blue-700 underline underline-offset-2 dark:text-blue-300"
                      aria-label={`Open in builder: version ${v.version}`}
                      data-testid={`open-in-builder-${v.version}`}
                    >
                      Open in builder
                    </Link>
                  </td>
                ) : null}
              </tr>
            ))}
          </tbody>
        </table>
      </Card>
      <Card title="Compare versions">
        {items.length < 2 ? (
          <p className="text-sm text-slate-600 dark:text-slate-400">Only one version exists. Save an edited CKP as a new version to compare.</p>
        ) : (
          <>
            <div className="mb-3 grid gap-3 sm:grid-cols-2">
              <SelectField label="Left version" value={leftVersion} onChange={(e) => setLeft(e.target.value)}>
                {items.map((v) => (
                  <option key={v.id} value={v.version}>
                    {v.version}
                  </option>
                ))}
              </SelectField>
              <SelectField label="Right version" value={right} onChange={(e) => setRight(e.target.value)}>
                {items.map((v) => (
                  <option key={v.id} value={v.version}>
                    {v.version}
                  </option>
                ))}
              </SelectField>
            </div>
            {a.data && b.data ? (
              <VersionDiff
                left={JSON.stringify(a.data.ckp_json, null, 2)}
                right={JSON.stringify(b.data.ckp_json, null, 2)}
                leftLabel={`v${leftVersion}`}
                rightLabel={`v${right}`}
              />
            ) : (
              <Loading />
            )}
          </>
        )}
      </Card>
    </div>
  );
}
