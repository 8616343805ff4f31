import { JsonView } from "@/components/ui/JsonView";
import { Card } from "@/components/ui/Page";
import { Time } from "@/components/ui/Time";
import type { ProcedureDetail } from "@/lib/api/models";
import { declaredVariables } from "@/lib/inputs/variables";

function Row({ label, children }: { label: string; children: React.ReactNode }) {
  return (
    <>
      <dt className="text-slate-600 dark:text-slate-400">{label}</dt>
      <dd className="break-words">{children}</dd>
    </>
  );
}

export function ProcedureOverview({ procedure: p }: { procedure: ProcedureDetail }) {
  const ckp = p.ckp_json;
  const variables = declaredVariables(ckp.variables_schema);
  const nodes = ckp.workflow_graph && typeof ckp.workflow_graph === "object" ? (ckp.workflow_graph as { nodes?: object }).nodes : undefined;
  return (
    <div className="grid gap-4 lg:grid-cols-2">
      <Card title="Summary">
        {p.description ? <p className="mb-3 text-sm whitespace-pre-wrap">{p.description}</p> : null}
        <dl className="grid grid-cols-[auto_1fr] gap-x-4 gap-y-1.5 text-sm">
          <Row label="Procedure">{p.procedure_id}</Row>
          <Row label="Version">{p.version}</Row>
          <Row label="Status">{p.status}</Row>
          <Row label="Effective date">{p.effective_date ?? "—"}</Row>
          <Row label="Nodes">{nodes ? Object.keys(nodes).length : "—"}</Row>
          <Row label="Runs">{p.run_count}</Row>
          <Row label="IR hash">
            <span className="font-mono text-xs break-all">{p.ir_hash}</span>
          </Row>
          <Row label="Created">
            <Time iso={p.created_at} /> {p.created_by ? `by ${p.created_by}` : ""}
          </Row>
          <Row label="Updated">
            <Time iso={p.updated_at} />
          </Row>
          <Row label="Tags">{(p.tags ?? []).join(", ") || "—"}</Row>
        </dl>
        {(p.warnings ?? []).length > 0 ? (
          <div className="mt-4">
            <h3 className="mb-1 text-sm font-semibold">Compiler warnings</h3>
            <ul className="list-disc pl-5 text-sm">
              {(p.warnings ?? []).map((w, i) => (
                <li key={i}>
                  <span className="font-mono text-xs">{w.code}</span> {w.message}
                  {w.path ? <span className="font-mono text-xs text-slate-600 dark:text-slate-400"> at {w.path}</span> : null}
                </li>
              ))}
            </ul>
          </div>
        ) : null}
      </Card>
      <Card title="Variables">
        {variables.length === 0 ? (
          <p className="text-sm text-slate-600 dark:text-slate-400">This procedure declares no variables.</p>
        ) : (
          <table className="w-full text-left text-sm">
            <caption className="sr-only">Declared variables</caption>
            <thead className="text-xs text-slate-600 uppercase dark:text-slate-400">
              <tr>
                <th scope="col" className="pr-2">Name</th>
                <th scope="col" className="pr-2">Type</th>
                <th scope="col" className="pr-2">Required</th>
                <th scope="col">Rules</th>
              </tr>
            </thead>
            <tbody>
              {variables.map((v) => (
                <tr key={v.name} className="align-top">
                  <td className="py-1 pr-2">
                    <span className="font-mono">{v.name}</span>
                    {v.description ? <p className="text-xs text-slate-600 dark:text-slate-400">{v.description}</p> : null}
                  </td>
                  <td className="pr-2">{v.type}</td>
                  <td className="pr-2">{v.origin === "system_captured" ? "output" : v.required ? "yes" : "no"}</td>
                  <td className="text-xs">
                    {[
                      v.regex ? `regex ${v.regex}` : "",
                      v.min !== null ? `min ${String(v.min)}` : "",
                      v.max !== null ? `max ${String(v.max)}` : "",
                      v.minLength !== null ? `min length ${String(v.minLength)}` : "",
                      v.maxLength !== null ? `max length ${String(v.maxLength)}` : "",
                      v.allowedValues ? `one of ${JSON.stringify(v.allowedValues)}` : "",
                      v.sensitive ? "sensitive" : "",
                      v.hasDefault ? `default ${JSON.stringify(v.default)}` : "",
                    ]
                      .filter(Boolean)
                      .join(" · ") || "—"}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Card>
      <Card title="Trigger">{ckp.trigger ? <JsonView value={ckp.trigger} /> : <p className="text-sm text-slate-600 dark:text-slate-400">Manual only.</p>}</Card>
      <Card title="Provenance">
        {p.provenance ? <JsonView value={p.provenance} /> : <p className="text-sm text-slate-600 dark:text-slate-400">None recorded.</p>}
      </Card>
      <Card title="Retrieval metadata">
        {p.retrieval_metadata ? <JsonView value={p.retrieval_metadata} /> : <p className="text-sm text-slate-600 dark:text-slate-400">None.</p>}
      </Card>
      <Card title="Global configuration">
        {ckp.global_config ? <JsonView value={ckp.global_config} /> : <p className="text-sm text-slate-600 dark:text-slate-400">Defaults.</p>}
      </Card>
    </div>
  );
}
