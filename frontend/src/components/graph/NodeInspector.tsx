import { JsonView } from "@/components/ui/JsonView";
import { TIER_LABEL } from "@/lib/ckp/tiers";
import type { GraphNodeModel } from "@/lib/ckp/graph";

/** The configuration of the selected node, as the CKP declares it. */
export function NodeInspector({ node, extra }: { node: GraphNodeModel | null; extra?: React.ReactNode }) {
  if (!node) {
    return <p className="text-sm text-slate-600 dark:text-slate-400">Select a node in the graph or the list to see its configuration.</p>;
  }
  return (
    <div aria-live="polite" data-testid="node-inspector">
      <h3 className="pr-7 text-base font-semibold break-all">{node.id}</h3>
      <dl className="mt-2 grid grid-cols-[auto_1fr] gap-x-3 gap-y-1 text-sm">
        <dt className="text-slate-600 dark:text-slate-400">Type</dt>
        <dd>{node.type}</dd>
        <dt className="text-slate-600 dark:text-slate-400">Tier</dt>
        <dd>{TIER_LABEL[node.tier]}</dd>
        {node.agent ? (
          <>
            <dt className="text-slate-600 dark:text-slate-400">Agent</dt>
            <dd>{node.agent}</dd>
          </>
        ) : null}
      </dl>
      {extra}
      <h4 className="mt-3 mb-1 text-sm font-semibold">Configuration</h4>
      <JsonView value={node.data} className="max-h-96" />
    </div>
  );
}

export function NodeList({
  nodes,
  selected,
  onSelect,
}: {
  nodes: GraphNodeModel[];
  selected: string | null;
  onSelect: (id: string) => void;
}) {
  return (
    <ul className="flex flex-wrap gap-1" aria-label="Nodes">
      {nodes.map((n) => (
        <li key={n.id}>
          <button
            type="button"
            onClick={() => onSelect(n.id)}
            aria-pressed={selected === n.id}
            className={`rounded border px-2 py-0.5 text-xs ${
              selected === n.id
                ? "border-slate-900 bg-slate-900 text-white dark:border-white dark:bg-white dark:text-slate-900"
                : "border-slate-300 hover:bg-slate-100 dark:border-slate-600 dark:hover:bg-slate-800"
            }`}
          >
            {n.id}
          </button>
        </li>
      ))}
    </ul>
  );
}
