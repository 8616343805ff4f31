"use client";

import { ReactFlowProvider } from "@xyflow/react";
import Link from "next/link";
import { useMemo, useState, type ReactNode } from "react";
import { ErrorBox } from "@/components/ui/ErrorBox";
import { Loading, PageHeader } from "@/components/ui/Page";
import { useProcedure } from "@/hooks/useProcedure";
import { useQueryParams } from "@/hooks/useQueryParams";
import { useToast } from "@/hooks/useToast";
import type { ProcedureDetail } from "@/lib/api/models";
import { newProcedure, type CkpDoc } from "@/lib/builder/document";
import { builderSource, sourceKey, type BuilderSource } from "@/lib/builder/links";
import { findTemplate } from "@/lib/builder/templates";
import { procedureHref } from "@/lib/format/links";
import { Builder } from "./Builder";

function Crumbs({ children }: { children: ReactNode }) {
  return (
    <nav aria-label="Breadcrumb" className="mb-2 text-sm">
      <Link href="/procedures" className="text-blue-700 underline underline-offset-2 dark:text-blue-300">
        Procedures
      </Link>{" "}
      / {children}
    </nav>
  );
}

/**
 * /procedures/builder: `?id=&version=` opens a stored version (saving makes a new one),
 * `?template=` one of the seed workflows, nothing an empty canvas. After a save the
 * address names the saved version, without reloading the builder.
 */
export function BuilderView() {
  const [params, setParams] = useQueryParams();
  const toast = useToast();
  const source = builderSource(params);
  const key = sourceKey(source);
  // The address a save moved to: the builder that saved stays mounted (its history too) on the source it opened.
  const [adopted, setAdopted] = useState<{ key: string; mount: BuilderSource } | null>(null);
  const mount = adopted?.key === key ? adopted.mount : source;
  const mountKey = sourceKey(mount);
  const detail = useProcedure(mount.kind === "version" ? mount.procedureId : "", mount.kind === "version" ? mount.version : null);
  // A template or an empty procedure is made once per source (the builder reads it only when it mounts).
  const made = useMemo<CkpDoc | null>(() => {
    if (mount.kind === "template") return findTemplate(mount.template)?.load() ?? null;
    if (mount.kind === "new") return newProcedure();
    return null;
    // eslint-disable-next-line react-hooks/exhaustive-deps -- keyed by the source, not the object
  }, [mountKey]);

  const onSaved = (saved: ProcedureDetail) => {
    toast.show("success", saved.unchanged ? `Already stored as ${saved.procedure_id} ${saved.version}` : `Saved ${saved.procedure_id} ${saved.version} as a draft`);
    const next: BuilderSource = { kind: "version", procedureId: saved.procedure_id, version: saved.version };
    setAdopted({ key: sourceKey(next), mount });
    setParams({ id: saved.procedure_id, version: saved.version, template: null });
  };

  let initial: { doc: CkpDoc; opened: ProcedureDetail | null };
  if (mount.kind === "version") {
    if (detail.isPending) return <Loading />;
    if (detail.isError) return <ErrorBox error={detail.error} title={`Could not load ${mount.procedureId}`} />;
    initial = { doc: detail.data.ckp_json, opened: detail.data };
  } else if (made) {
    initial = { doc: made, opened: null };
  } else {
    return <ErrorBox error={new Error(`There is no template "${mount.kind === "template" ? mount.template : ""}".`)} />;
  }

  const title =
    source.kind === "version" ? (
      <>
        {source.procedureId} <span className="font-mono text-base font-normal text-slate-600 dark:text-slate-400">{source.version ? `v${source.version}` : ""}</span>
      </>
    ) : source.kind === "template" ? (
      `New procedure from ${findTemplate(source.template)?.title ?? source.template}`
    ) : (
      "New procedure"
    );
  return (
    <>
      <Crumbs>
        {source.kind === "version" ? (
          <>
            <Link href={procedureHref(source.procedureId, source.version)} className="text-blue-700 underline underline-offset-2 dark:text-blue-300">
              {source.procedureId}
            </Link>{" "}
            / builder
          </>
        ) : (
          "builder"
        )}
      </Crumbs>
      <PageHeader title={title} subtitle="Drag nodes from the palette, connect their outputs, edit them on the right; it is checked as you go. Saving makes a new draft version." />
      <ReactFlowProvider>
        <Builder key={mountKey} initial={initial.doc} opened={initial.opened} onSaved={onSaved} />
      </ReactFlowProvider>
    </>
  );
}
