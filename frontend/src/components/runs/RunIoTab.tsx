import { JsonView } from "@/components/ui/JsonView";
import { Card } from "@/components/ui/Page";
import type { RunRead } from "@/lib/api/models";

export function RunIoTab({ run }: { run: RunRead }) {
  return (
    <div className="grid gap-4 lg:grid-cols-2">
      <Card title="Inputs">
        <JsonView value={run.input_vars} />
      </Card>
      <Card title="Outputs">
        {run.output_vars ? <JsonView value={run.output_vars} /> : <p className="text-sm text-slate-600 dark:text-slate-400">No outputs yet.</p>}
      </Card>
      {run.error ? (
        <Card title="Error" className="lg:col-span-2">
          <JsonView value={run.error} />
        </Card>
      ) : null}
    </div>
  );
}
