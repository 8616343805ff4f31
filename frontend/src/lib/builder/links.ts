/** Addresses of the builder page (a static export: everything is in the query string). */
export type BuilderSource =
  | { kind: "new" }
  | { kind: "template"; template: string }
  | { kind: "version"; procedureId: string; version: string | null };

export function builderHref(source: BuilderSource = { kind: "new" }): string {
  const q = new URLSearchParams();
  if (source.kind === "template") q.set("template", source.template);
  if (source.kind === "version") {
    q.set("id", source.procedureId);
    if (source.version) q.set("version", source.version);
  }
  const qs = q.toString();
  return `/procedures/builder${qs ? `?${qs}` : ""}`;
}

/** What the builder opens for these query parameters: a version (`id`, optional `version`), a template, or a new procedure. */
export function builderSource(params: URLSearchParams): BuilderSource {
  const id = params.get("id");
  if (id) return { kind: "version", procedureId: id, version: params.get("version") || null };
  const template = params.get("template");
  if (template) return { kind: "template", template };
  return { kind: "new" };
}

/** A stable key for a source: the builder starts afresh when it changes. */
export function sourceKey(source: BuilderSource): string {
  if (source.kind === "version") return `version:${source.procedureId}@${source.version ?? ""}`;
  if (source.kind === "template") return `template:${source.template}`;
  return "new";
}
