"use client";

import type { EditorProblem } from "@/components/ckp/diagnostics";
import { getNode, type CkpDoc, type JsonObject } from "@/lib/builder/document";
import { plural } from "@/lib/format/format";
import { NodeInspector } from "./inspector/NodeInspector";
import { ProcedureSettings } from "./inspector/ProcedureSettings";

const NONE: EditorProblem[] = [];
const NO_SCOPE: string[] = [];

/** The right-hand pane: the selected node's inspector, the procedure's settings when nothing is selected. */
export function InspectorPane({
  doc,
  selected,
  selectedCount,
  byNode,
  pointers,
  scopes,
  focusPath,
  start,
  onNodeChange,
  onRename,
  onSettingsChange,
}: {
  doc: CkpDoc;
  selected: string | null;
  selectedCount: number;
  byNode: ReadonlyMap<string, EditorProblem[]>;
  pointers: ReadonlyMap<string, string>;
  scopes: Record<string, string[]>;
  focusPath: string | null;
  start: string;
  onNodeChange: (id: string, node: JsonObject) => void;
  onRename: (from: string, to: string) => void;
  onSettingsChange: (doc: CkpDoc) => void;
}) {
  const node = selected ? getNode(doc, selected) : undefined;
  if (selected && node) {
    return (
      <div data-testid="builder-inspector-node" data-node-id={selected}>
        {selected === start ? <p className="mb-2 text-xs text-slate-600 dark:text-slate-400">The run starts at this node.</p> : null}
        <NodeInspector
          key={selected}
          nodeId={selected}
          node={node}
          doc={doc}
          problems={byNode.get(selected) ?? NONE}
          nodePath={pointers.get(selected) ?? ""}
          scope={scopes[selected] ?? NO_SCOPE}
          onChange={(next) => onNodeChange(selected, next)}
          onRename={(to) => onRename(selected, to)}
          focusPath={focusPath}
        />
      </div>
    );
  }
  if (selectedCount > 1) {
    return (
      <p className="text-sm" data-testid="builder-multi-selection">
        {plural(selectedCount, "node")} selected. Delete, duplicate or copy them together, or select one to edit it.
      </p>
    );
  }
  return (
    <div data-testid="builder-procedure-settings">
      <ProcedureSettings doc={doc} problems={byNode.get("") ?? NONE} onChange={onSettingsChange} />
    </div>
  );
}
