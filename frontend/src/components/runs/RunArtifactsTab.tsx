"use client";

import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { buttonClass } from "@/components/ui/Button";
import { ErrorBox } from "@/components/ui/ErrorBox";
import { JsonView } from "@/components/ui/JsonView";
import { Card, Empty, Loading } from "@/components/ui/Page";
import { Time } from "@/components/ui/Time";
import { useRunArtifacts } from "@/hooks/useRunArtifacts";
import { apiUrl } from "@/lib/api/base";
import { sessionFetch } from "@/lib/api/session";
import type { ArtifactRead } from "@/lib/api/models";

function contentUrl(a: ArtifactRead): string {
  return apiUrl(`/api/runs/${encodeURIComponent(a.run_id)}/artifacts/${encodeURIComponent(a.artifact_id)}/content`);
}

function formatSize(n: number): string {
  if (n < 1024) return `${String(n)} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} kB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

/** The parsed value, or undefined when the text is not JSON after all. */
function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

const PREVIEW_LIMIT = 512 * 1024;

function Preview({ artifact }: { artifact: ArtifactRead }) {
  const isImage = artifact.mime_type.startsWith("image/");
  const isText = artifact.mime_type.startsWith("text/") || artifact.mime_type.includes("json") || artifact.mime_type.includes("xml");
  const text = useQuery({
    queryKey: ["artifact-text", artifact.artifact_id],
    enabled: isText && artifact.size <= PREVIEW_LIMIT,
    queryFn: async () => {
      const res = await sessionFetch(contentUrl(artifact));
      if (!res.ok) throw new Error(`HTTP ${String(res.status)}: the content is not stored on this server`);
      return res.text();
    },
  });
  if (isImage) {
    // eslint-disable-next-line @next/next/no-img-element -- artifacts are runtime URLs, not build-time images
    return <img src={contentUrl(artifact)} alt={`Preview of ${artifact.name}`} className="max-h-96 rounded border border-slate-200 dark:border-slate-700" />;
  }
  if (!isText) return <p className="text-sm text-slate-600 dark:text-slate-400">No preview for {artifact.mime_type}; download it instead.</p>;
  if (artifact.size > PREVIEW_LIMIT) return <p className="text-sm">Too large to preview ({formatSize(artifact.size)}).</p>;
  if (text.isPending) return <Loading />;
  if (text.isError) return <ErrorBox error={text.error} title="No preview" />;
  const parsed = artifact.mime_type.includes("json") ? parseJson(text.data) : undefined;
  if (parsed !== undefined) return <JsonView value={parsed} className="max-h-96" />;
  return <pre tabIndex={0} role="region" aria-label={`Content of ${artifact.name}`} className="max-h-96 overflow-auto rounded bg-slate-100 p-3 text-xs whitespace-pre-wrap dark:bg-slate-950">{text.data}</pre>;
}

export function RunArtifactsTab({ runId }: { runId: string }) {
  const artifacts = useRunArtifacts(runId);
  const [open, setOpen] = useState<string | null>(null);
  if (artifacts.isPending) return <Loading />;
  if (artifacts.isError) return <ErrorBox error={artifacts.error} />;
  if (artifacts.data.length === 0) return <Empty>This run produced no artifacts.</Empty>;
  return (
    <Card>
      <ul className="divide-y divide-slate-200 dark:divide-slate-700">
        {artifacts.data.map((a) => (
          <li key={a.artifact_id} className="py-3">
            <div className="flex flex-wrap items-center gap-3">
              <span className="font-medium break-all">{a.name}</span>
              <span className="text-xs text-slate-600 dark:text-slate-400">
                {a.mime_type} · {formatSize(a.size)} · {a.node_id ?? "run"}
                {a.step_id ? `/${a.step_id}` : ""} · <Time iso={a.created_at} />
              </span>
              <span className="flex-1" />
              <button type="button" className={buttonClass("secondary", "sm")} aria-expanded={open === a.artifact_id} onClick={() => setOpen(open === a.artifact_id ? null : a.artifact_id)}>
                {open === a.artifact_id ? "Hide preview" : "Preview"}
              </button>
              <a className={buttonClass("secondary", "sm")} href={contentUrl(a)} download={a.name}>
                Download<span className="sr-only"> {a.name}</span>
              </a>
            </div>
            {open === a.artifact_id ? (
              <div className="mt-2">
                <Preview artifact={a} />
              </div>
            ) : null}
          </li>
        ))}
      </ul>
    </Card>
  );
}
