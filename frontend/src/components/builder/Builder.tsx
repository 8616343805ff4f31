"use client";

import { useReactFlow } from "@xyflow/react";
import Link from "next/link";
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { CodeEditor, type CodeEditorHandle } from "@/components/ckp/CodeEditor";
import { syntaxProblem, type EditorProblem } from "@/components/ckp/diagnostics";
import { Button } from "@/components/ui/Button";
import { useBuilderValidation } from "@/hooks/useBuilderValidation";
import { useRun } from "@/hooks/useRun";
import { useRunEvents } from "@/hooks/useRunEvents";
import { useSchemaChecker } from "@/hooks/useSchemaChecker";
import { useToast } from "@/hooks/useToast";
import type { ProcedureDetail } from "@/lib/api/models";
import {
  addNode,
  BuilderError,
  connect,
  disconnect,
  duplicateNodes,
  getNode,
  listNodes,
  outputPorts,
  positionOf,
  removeNodes,
  renameNode,
  replaceNode,
  setPositions,
  startNode,
  type CkpDoc,
  type JsonObject,
  type Position,
} from "@/lib/builder/document";
import { builderProblems } from "@/lib/builder/editorProblems";
import { canRedo, canUndo, createHistory, push, redo, undo, type History } from "@/lib/builder/history";
import { EditClock, probeEnabled, recordLatency, type ProbeTarget } from "@/lib/builder/probe";
import { countBySeverity, nodeOfPath, nodePointers, problemsByNode } from "@/lib/builder/problems";
import { isTypingTarget, shortcutFor, type ShortcutAction } from "@/lib/builder/shortcuts";
import { ckpToGraph } from "@/lib/ckp/graph";
import { layoutElk } from "@/lib/ckp/layout";
import type { CkpNodeType } from "@/lib/ckp/tiers";
import { runOverlay } from "@/lib/events/timeline";
import { plural } from "@/lib/format/format";
import { procedureHref } from "@/lib/format/links";
import { BuilderCanvas } from "./BuilderCanvas";
import { BuilderProblemList } from "./BuilderProblemList";
import { nodeWidth } from "./BuilderNode";
import { InspectorPane } from "./InspectorPane";
import { Palette } from "./Palette";
import { SaveDialog } from "./SaveDialog";
import { TestRunPanel } from "./TestRunPanel";

interface Session {
  history: History<CkpDoc>;
  /** Bumped by every change of the document (edits, undo, redo): what validation answers are matched to. */
  revision: number;
}

/** The stored version the builder is on (opened, or just saved): what a test run runs. */
export interface SavedVersion {
  procedureId: string;
  version: string;
  projectId: string | null;
  /** The document as stored; the builder's document is "unsaved" once it is another object. */
  doc: CkpDoc;
}

const EMPTY_SET: ReadonlySet<string> = new Set();
const FIT = { padding: 0.15, maxZoom: 1.25, duration: 200 };

function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function str(value: unknown): string {
  return typeof value === "string" ? value : "";
}

/** Layout sizes: each node is as wide as its output handles need. */
function layoutSizes(doc: CkpDoc): Map<string, { width: number; height: number }> {
  return new Map(listNodes(doc).map(({ id, node }) => [id, { width: nodeWidth(outputPorts(node).length), height: 96 }]));
}

function splitEdgeId(id: string): { source: string; portId: string } | null {
  const at = id.indexOf("::");
  return at > 0 ? { source: id.slice(0, at), portId: id.slice(at + 2) } : null;
}

/**
 * The visual builder: palette, canvas, inspector, JSON pane and problems around one
 * document held in an undo history. Every edit (canvas, inspector, JSON) pushes a new
 * document; the JSON text is the document pretty-printed, except while the user is
 * typing in it (their text is kept, and pushed whenever it parses).
 */
export function Builder({
  initial,
  opened,
  onSaved,
}: {
  initial: CkpDoc;
  /** The stored version this document was opened from, when it was. */
  opened: ProcedureDetail | null;
  onSaved: (saved: ProcedureDetail) => void;
}) {
  const toast = useToast();
  const flow = useReactFlow();
  const [session, setSession] = useState<Session>(() => ({ history: createHistory(initial), revision: 0 }));
  const sessionRef = useRef(session);
  const clock = useRef(new EditClock());
  const [draft, setDraft] = useState<string | null>(null);
  const [selection, setSelection] = useState<{ nodes: ReadonlySet<string>; edges: ReadonlySet<string> }>({ nodes: EMPTY_SET, edges: EMPTY_SET });
  const [focusPath, setFocusPath] = useState<string | null>(null);
  const [jsonOpen, setJsonOpen] = useState(false);
  const [saveOpen, setSaveOpen] = useState(false);
  const [runOpen, setRunOpen] = useState(false);
  const [runId, setRunId] = useState("");
  const [saved, setSaved] = useState<SavedVersion | null>(() =>
    opened ? { procedureId: opened.procedure_id, version: opened.version, projectId: opened.project_id ?? null, doc: initial } : null,
  );
  const [layout, setLayout] = useState<ReadonlyMap<string, Position>>(() => new Map());
  const clipboard = useRef<string[]>([]);
  const editor = useRef<CodeEditorHandle>(null);
  const canvasBox = useRef<HTMLDivElement>(null);
  const fitted = useRef(false);
  const root = useRef<HTMLDivElement>(null);

  const doc = session.history.present;
  const revision = session.revision;

  // ---- the history -------------------------------------------------------------------
  const commit = useCallback((next: Session) => {
    sessionRef.current = next;
    setSession(next);
    if (probeEnabled(window as ProbeTarget)) clock.current.mark(next.revision, performance.now());
  }, []);

  /** Applies `fn` to the current document and pushes the result; a BuilderError is shown, not thrown. Returns the new document. */
  const edit = useCallback(
    (fn: (d: CkpDoc) => CkpDoc, coalesceKey: string | null = null, keepDraft = false): CkpDoc | null => {
      const s = sessionRef.current;
      let next: CkpDoc;
      try {
        next = fn(s.history.present);
      } catch (e) {
        if (e instanceof BuilderError) {
          toast.show("error", e.message);
          return null;
        }
        throw e;
      }
      if (!keepDraft) setDraft(null);
      if (next === s.history.present) return next;
      commit({ history: push(s.history, next, coalesceKey), revision: s.revision + 1 });
      return next;
    },
    [commit, toast],
  );

  const step = useCallback(
    (direction: "undo" | "redo") => {
      const s = sessionRef.current;
      if (direction === "undo" ? !canUndo(s.history) : !canRedo(s.history)) return;
      setDraft(null);
      commit({ history: direction === "undo" ? undo(s.history) : redo(s.history), revision: s.revision + 1 });
    },
    [commit],
  );

  // ---- derived views of the document -------------------------------------------------
  const pretty = useMemo(() => JSON.stringify(doc, null, 2), [doc]);
  const text = draft ?? pretty;
  const syntax = useMemo(() => (draft === null ? null : syntaxProblem(draft)), [draft]);
  const ids = useMemo(() => listNodes(doc).map((n) => n.id), [doc]);
  const idSet = useMemo(() => new Set(ids), [ids]);
  const selectedNodes = useMemo(() => new Set([...selection.nodes].filter((id) => idSet.has(id))), [selection.nodes, idSet]);
  const selectedEdges = selection.edges;
  const pointers = useMemo(() => nodePointers(doc), [doc]);

  const inspected = selectedNodes.size === 1 ? ([...selectedNodes][0] ?? null) : null;
  const validation = useBuilderValidation(doc, revision, inspected);
  const checker = useSchemaChecker();
  const schema = useMemo(() => (checker ? checker(doc) : []), [checker, doc]);
  // Placed in the text only while the JSON pane shows it (see builderProblems).
  const placedIn = jsonOpen ? text : null;
  const problems = useMemo<EditorProblem[]>(() => {
    const list = builderProblems(placedIn, validation.diagnostics, schema);
    return syntax ? [syntax, ...list] : list;
  }, [placedIn, validation.diagnostics, schema, syntax]);
  const byNode = useMemo(() => problemsByNode(problems, pointers), [problems, pointers]);
  const counts = useMemo(() => new Map([...byNode].map(([id, list]) => [id, countBySeverity(list)])), [byNode]);
  const errors = problems.filter((p) => p.severity === "error").length;

  // The latency probe (browser suite only): the answer for `validation.revision` is on screen now.
  useEffect(() => {
    if (validation.revision < 0) return;
    const target = window as ProbeTarget;
    if (probeEnabled(target)) recordLatency(target, clock.current.take(validation.revision, performance.now()));
  }, [validation.revision]);

  // ---- positions: $ui where stored, else the layout ------------------------------------
  const unplaced = useMemo(() => listNodes(doc).filter(({ id, node }) => !positionOf(node) && !layout.has(id)).map((n) => n.id), [doc, layout]);
  useEffect(() => {
    if (unplaced.length === 0) return;
    let alive = true;
    const graph = ckpToGraph(doc);
    layoutElk(graph, layoutSizes(doc))
      .then((r) => {
        if (!alive) return;
        setLayout((prev) => {
          const next = new Map(prev);
          for (const [id, p] of r.positions) if (!next.has(id)) next.set(id, p);
          return next;
        });
      })
      .catch(() => {
        if (!alive) return;
        // No ELK (should not happen): a column each, so nothing is hidden under another.
        setLayout((prev) => new Map([...prev, ...unplaced.map((id, i): [string, Position] => [id, { x: 0, y: i * 140 }])]));
      });
    return () => {
      alive = false;
    };
  }, [unplaced, doc]);
  const positions = useMemo(() => {
    const out = new Map<string, Position>();
    for (const { id, node } of listNodes(doc)) {
      const p = positionOf(node) ?? layout.get(id);
      if (p) out.set(id, p);
    }
    return out;
  }, [doc, layout]);
  const ready = unplaced.length === 0;
  useEffect(() => {
    if (!ready || fitted.current) return;
    fitted.current = true;
    const t = window.setTimeout(() => void flow.fitView(FIT), 60);
    return () => window.clearTimeout(t);
  }, [ready, flow]);

  // ---- canvas edits ------------------------------------------------------------------
  const select = useCallback((nodes: ReadonlySet<string>, edges: ReadonlySet<string> = EMPTY_SET) => {
    setSelection({ nodes, edges });
    setFocusPath(null);
  }, []);

  const onCanvasSelect = useCallback(
    (update: (nodes: ReadonlySet<string>, edges: ReadonlySet<string>) => { nodes: ReadonlySet<string>; edges: ReadonlySet<string> }) => {
      setSelection((s) => update(s.nodes, s.edges));
      setFocusPath(null);
    },
    [],
  );

  const viewCentre = useCallback((): Position => {
    const box = canvasBox.current?.getBoundingClientRect();
    if (!box) return { x: 0, y: 0 };
    const at = flow.screenToFlowPosition({ x: box.left + box.width / 2, y: box.top + box.height / 2 });
    return { x: Math.round(at.x - 104), y: Math.round(at.y - 40) };
  }, [flow]);

  const addAt = useCallback(
    (type: CkpNodeType, position: Position) => {
      let added = "";
      edit((d) => {
        const r = addNode(d, type, position);
        added = r.id;
        return r.doc;
      });
      if (added) select(new Set([added]));
    },
    [edit, select],
  );

  const onConnect = useCallback((source: string, portId: string, target: string) => edit((d) => connect(d, source, portId, target)), [edit]);
  const onMove = useCallback((moved: ReadonlyMap<string, Position>) => edit((d) => setPositions(d, moved)), [edit]);

  const deleteSelection = useCallback(() => {
    const nodes = [...selectedNodes];
    const current = sessionRef.current.history.present;
    // Only connections that still exist (a selected edge may have gone with an undo or a JSON edit).
    const edges = [...selectedEdges]
      .map(splitEdgeId)
      .filter((e): e is { source: string; portId: string } => {
        if (e === null || selectedNodes.has(e.source)) return false;
        const node = getNode(current, e.source);
        return node !== undefined && outputPorts(node).some((p) => p.id === e.portId && p.target !== null);
      });
    if (nodes.length === 0 && edges.length === 0) return;
    edit((d) => {
      let next = d;
      for (const e of edges) next = disconnect(next, e.source, e.portId);
      return removeNodes(next, nodes);
    });
    select(EMPTY_SET);
  }, [selectedNodes, selectedEdges, edit, select]);

  const duplicate = useCallback(
    (source: readonly string[]) => {
      const present = source.filter((id) => idSet.has(id));
      if (present.length === 0) return;
      let copies: string[] = [];
      edit((d) => {
        const r = duplicateNodes(d, present, { x: 40, y: 40 }, positions);
        copies = r.ids;
        return r.doc;
      });
      if (copies.length > 0) select(new Set(copies));
    },
    [idSet, edit, positions, select],
  );

  const tidyUp = useCallback(() => {
    const current = sessionRef.current.history.present;
    layoutElk(ckpToGraph(current), layoutSizes(current))
      .then((r) => {
        edit((d) => setPositions(d, r.positions));
        window.setTimeout(() => void flow.fitView(FIT), 60);
      })
      .catch((e: unknown) => toast.show("error", `Could not lay the graph out: ${e instanceof Error ? e.message : String(e)}`));
  }, [edit, flow, toast]);

  const run = useCallback(
    (action: ShortcutAction) => {
      switch (action) {
        case "delete":
          deleteSelection();
          break;
        case "duplicate":
          duplicate([...selectedNodes]);
          break;
        case "copy":
          clipboard.current = [...selectedNodes];
          if (selectedNodes.size > 0) toast.show("info", `Copied ${plural(selectedNodes.size, "node")}`);
          break;
        case "paste":
          duplicate(clipboard.current);
          break;
        case "selectAll":
          select(new Set(ids));
          break;
        case "undo":
        case "redo":
          step(action);
          break;
        case "fit":
          void flow.fitView(FIT);
          break;
      }
    },
    [deleteSelection, duplicate, selectedNodes, ids, select, step, flow, toast],
  );

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.defaultPrevented || isTypingTarget(e.target)) return;
      // Keys aimed at the builder (or at nothing in particular), not at the navigation or a toast.
      const target = e.target instanceof Node ? e.target : null;
      if (target !== null && target !== document.body && !root.current?.contains(target)) return;
      const action = shortcutFor(e);
      if (!action) return;
      // Copying with no node selected copies text as usual.
      if (action === "copy" && selectedNodes.size === 0) return;
      e.preventDefault();
      run(action);
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [run, selectedNodes]);

  // ---- JSON pane ---------------------------------------------------------------------
  const onJsonChange = useCallback(
    (value: string) => {
      const current = sessionRef.current.history.present;
      if (value === JSON.stringify(current, null, 2)) {
        setDraft(null);
        return;
      }
      setDraft(value);
      let parsed: unknown;
      try {
        parsed = JSON.parse(value);
      } catch {
        return; // the canvas stays as it was; the syntax problem says why
      }
      if (isObject(parsed)) edit(() => parsed, "json", true);
    },
    [edit],
  );

  // ---- inspector ---------------------------------------------------------------------
  const only = inspected;
  const onNodeChange = useCallback((id: string, node: JsonObject) => edit((d) => replaceNode(d, id, node), `node:${id}`), [edit]);
  const onRename = useCallback(
    (from: string, to: string) => {
      const next = edit((d) => renameNode(d, from, to));
      if (next && next !== doc) {
        // A node placed by the layout keeps its place under its new id (no new layout of the whole graph).
        setLayout((prev) => {
          const at = prev.get(from);
          return at && !prev.has(to) ? new Map(prev).set(to, at) : prev;
        });
        select(new Set([to]));
      }
    },
    [edit, select, doc],
  );
  const onSettingsChange = useCallback((next: CkpDoc) => edit(() => next, "settings"), [edit]);

  const nodeOfProblem = useMemo(() => {
    const owner = new Map<EditorProblem, string>();
    for (const [id, list] of byNode) if (id !== "") for (const p of list) owner.set(p, id);
    return (p: EditorProblem) => owner.get(p) ?? null;
  }, [byNode]);
  const revealProblem = useCallback(
    (p: EditorProblem) => {
      const id = nodeOfPath(p.path, pointers);
      if (id) {
        setSelection({ nodes: new Set([id]), edges: EMPTY_SET });
        setFocusPath(p.path);
        const at = positions.get(id);
        if (at) void flow.setCenter(at.x + 104, at.y + 48, { zoom: Math.max(flow.getZoom(), 0.8), duration: 200 });
      } else {
        setSelection({ nodes: EMPTY_SET, edges: EMPTY_SET });
        setFocusPath(p.path);
        if (jsonOpen) editor.current?.reveal(p.from, p.to);
      }
    },
    [pointers, positions, flow, jsonOpen],
  );

  // ---- test run overlay --------------------------------------------------------------
  const runQuery = useRun(runId);
  const events = useRunEvents(runId);
  const overlay = useMemo(() => (runId && runQuery.data ? runOverlay(events.events, runQuery.data) : runId ? runOverlay(events.events) : null), [runId, runQuery.data, events.events]);

  const dirty = saved === null || saved.doc !== doc;
  const procedureId = str(doc.procedure_id);

  return (
    <div
      ref={root}
      className="flex flex-col gap-3"
      data-testid="builder"
      data-revision={revision}
      data-validated-revision={validation.revision}
      data-errors={errors}
    >
      <div className="flex flex-wrap items-center gap-2" role="toolbar" aria-label="Builder actions">
        <Button size="sm" onClick={() => step("undo")} disabled={!canUndo(session.history)} title="Undo (Ctrl+Z)" data-testid="builder-undo">
          Undo
        </Button>
        <Button size="sm" onClick={() => step("redo")} disabled={!canRedo(session.history)} title="Redo (Ctrl+Shift+Z)" data-testid="builder-redo">
          Redo
        </Button>
        <Button size="sm" onClick={() => duplicate([...selectedNodes])} disabled={selectedNodes.size === 0} title="Duplicate (Ctrl+D)" data-testid="builder-duplicate">
          Duplicate
        </Button>
        <Button size="sm" onClick={deleteSelection} disabled={selectedNodes.size === 0 && selectedEdges.size === 0} title="Delete (Delete)" data-testid="builder-delete">
          Delete
        </Button>
        <Button size="sm" onClick={tidyUp} disabled={ids.length === 0} title="Lay the whole graph out again" data-testid="builder-tidy">
          Tidy up
        </Button>
        <Button size="sm" onClick={() => void flow.fitView(FIT)} title="Zoom to fit (Shift+1 or F)" data-testid="builder-fit">
          Fit
        </Button>
        <Button size="sm" onClick={() => setJsonOpen((o) => !o)} aria-pressed={jsonOpen} data-testid="builder-json-toggle">
          {jsonOpen ? "Hide JSON" : "Show JSON"}
        </Button>
        <span className="flex-1" />
        <span className="text-xs text-slate-600 dark:text-slate-400" aria-live="polite" data-testid="builder-check-status">
          {validation.error
            ? "The server could not check this document; only the schema was checked."
            : validation.checking
              ? "Checking…"
              : errors > 0
                ? plural(errors, "error")
                : "No errors"}
        </span>
        {saved ? (
          <span className="text-xs" data-testid="builder-saved">
            {dirty ? "Unsaved changes · " : ""}
            <Link href={procedureHref(saved.procedureId, saved.version)} className="text-blue-700 underline underline-offset-2 dark:text-blue-300" data-testid="builder-procedure-link">
              {saved.procedureId} v{saved.version}
            </Link>
          </span>
        ) : null}
        <Button size="sm" onClick={() => setRunOpen((o) => !o)} disabled={saved === null} aria-pressed={runOpen} title={saved ? "Run the saved version" : "Save first"} data-testid="builder-test-run">
          Test run
        </Button>
        <Button size="sm" variant="primary" onClick={() => setSaveOpen(true)} data-testid="builder-save">
          Save…
        </Button>
      </div>
      {syntax ? (
        <p role="alert" className="rounded-md border border-red-300 bg-red-50 px-3 py-2 text-sm text-red-900 dark:border-red-800 dark:bg-red-950 dark:text-red-100" data-testid="builder-json-syntax">
          The JSON does not parse, so the canvas still shows the last document that did. {syntax.message}
        </p>
      ) : null}
      <div className="grid h-[calc(100vh-13rem)] min-h-[560px] gap-3 lg:grid-cols-[12rem_minmax(0,1fr)_22rem]">
        <div className="overflow-y-auto pr-1">
          <Palette onAdd={(type) => addAt(type, viewCentre())} />
        </div>
        <div className={`grid min-h-0 gap-3 ${jsonOpen ? "grid-rows-2 xl:grid-cols-2 xl:grid-rows-1" : ""}`}>
          <div ref={canvasBox} className="relative min-h-0 rounded-lg border border-slate-200 bg-white dark:border-slate-700 dark:bg-slate-900">
            <BuilderCanvas
              doc={doc}
              positions={positions}
              counts={counts}
              overlay={overlay}
              selectedNodes={selectedNodes}
              selectedEdges={selectedEdges}
              onSelect={onCanvasSelect}
              onConnect={onConnect}
              onMove={onMove}
              onDropType={addAt}
            />
            {ids.length === 0 ? (
              <p className="pointer-events-none absolute inset-x-0 top-1/3 text-center text-sm text-slate-600 dark:text-slate-400">
                Drag a node from the palette here (or press one) to start.
              </p>
            ) : null}
          </div>
          {jsonOpen ? (
            <div className="min-h-0 overflow-hidden" data-testid="builder-json">
              <CodeEditor ref={editor} value={text} onChange={onJsonChange} problems={problems} label="CKP JSON of the procedure being built" height="100%" />
            </div>
          ) : null}
        </div>
        <aside className="min-h-0 overflow-y-auto rounded-lg border border-slate-200 bg-white p-3 dark:border-slate-700 dark:bg-slate-900" aria-label="Inspector" data-testid="builder-inspector">
          <InspectorPane
            doc={doc}
            selected={only}
            selectedCount={selectedNodes.size}
            byNode={byNode}
            pointers={pointers}
            scopes={validation.scopes}
            focusPath={focusPath}
            start={startNode(doc)}
            onNodeChange={onNodeChange}
            onRename={onRename}
            onSettingsChange={onSettingsChange}
          />
        </aside>
      </div>
      {runOpen && saved ? (
        <TestRunPanel
          saved={saved}
          doc={doc}
          dirty={dirty}
          runId={runId}
          run={runQuery.data ?? null}
          streamState={events.state}
          onStarted={setRunId}
          onClose={() => setRunOpen(false)}
        />
      ) : null}
      <div data-testid="builder-problems">
        {problems.length === 0 ? <p className="text-sm text-slate-600 dark:text-slate-400">{validation.revision < 0 ? "Checking…" : "No problems found by the schema or the compiler."}</p> : null}
        <BuilderProblemList problems={problems} nodeOf={nodeOfProblem} onReveal={revealProblem} />
      </div>
      <SaveDialog
        open={saveOpen}
        onClose={() => setSaveOpen(false)}
        doc={doc}
        errors={errors}
        checking={validation.checking}
        defaultProjectId={saved?.projectId ?? opened?.project_id ?? null}
        onSaved={(detail, stored) => {
          // The stored document (its version and id written in) becomes the builder's.
          const next = edit(() => stored, "save");
          setSaved({ procedureId: detail.procedure_id, version: detail.version, projectId: detail.project_id ?? null, doc: next ?? stored });
          setSaveOpen(false);
          onSaved(detail);
        }}
      />
      {procedureId === "" ? null : <span className="sr-only">Editing {procedureId}</span>}
    </div>
  );
}
