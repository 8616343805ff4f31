"use client";

import { useId } from "react";
import type { EditorProblem } from "@/components/ckp/diagnostics";
import { inputClass } from "@/components/ui/Field";
import { useActionCatalog } from "@/hooks/useActionCatalog";
import { actionParams, actionsFor, STEP_CONTROL } from "./actions";
import { FieldFrame, ObjectArrayField, ObjectFields, Section, fieldOf, useFormContext } from "./SchemaForm";
import { childPointer, isObject, ownProblems, problemsUnder, schemaDef, setField, type Json, type JsonSchema } from "./schemaForm";

const STEP_SCHEMA: JsonSchema = schemaDef("Step") ?? {};

/** The action of a step: free text (agents declare their own), the channel's actions suggested. */
function ActionInput({ value, onChange, pointer, actions, channel, problems }: {
  value: unknown;
  onChange: (v: string) => void;
  pointer: string;
  actions: readonly string[];
  channel: string | null;
  problems: readonly EditorProblem[];
}) {
  const id = useId();
  const listId = `${id}-actions`;
  const current = typeof value === "string" ? value : "";
  const unknownAction = current !== "" && actions.length > 0 && !actions.includes(current);
  return (
    <FieldFrame
      pointer={pointer}
      label="Action"
      required
      htmlFor={id}
      problems={problems}
      help={
        unknownAction
          ? `Not in the ${channel ?? "engine"} catalog; an agent must declare it.`
          : channel
            ? `Actions of the ${channel} channel and the engine.`
            : "Engine actions and every channel's; set the node's agent to narrow them."
      }
    >
      <input
        id={id}
        className={`${inputClass} font-mono`}
        list={listId}
        value={current}
        aria-required
        aria-invalid={problems.some((p) => p.severity === "error") ? true : undefined}
        onChange={(e) => onChange(e.target.value)}
        data-testid="step-action"
      />
      <datalist id={listId}>
        {actions.map((a) => (
          <option key={a} value={a} />
        ))}
      </datalist>
    </FieldFrame>
  );
}

/** One step: id, action (from the catalog), that action's parameters, output variable, the rest folded. */
function StepBody({ step, index, set, pointer, nodeAgent }: {
  step: Json;
  index: number;
  set: (v: Json) => void;
  pointer: string;
  nodeAgent: string | null;
}) {
  const { problems } = useFormContext();
  const catalog = useActionCatalog();
  const stepAgent = typeof step.agent === "string" && step.agent !== "" ? step.agent : nodeAgent;
  const { channel, actions } = actionsFor(catalog.data, stepAgent);
  const action = typeof step.action === "string" ? step.action : "";
  const params = actionParams(action).filter((p) => !STEP_CONTROL.has(p));
  const main = ["step_id", ...params, "params", "output_variable"];
  const shown = new Set(["action", ...main]);
  const rest = Object.keys(isObject(STEP_SCHEMA.properties) ? STEP_SCHEMA.properties : {}).filter((k) => !shown.has(k));
  const restUnknown = Object.keys(step).filter((k) => !shown.has(k) && !rest.includes(k) && !k.startsWith("$"));
  const restPointers = [...rest, ...restUnknown].map((k) => childPointer(pointer, k));
  const restProblems = problems.filter((p) => restPointers.some((rp) => p.path === rp || p.path.startsWith(`${rp}/`)));
  return (
    <>
      <ActionInput
        value={step.action}
        onChange={(v) => set(setField(step, "action", v))}
        pointer={childPointer(pointer, "action")}
        actions={actions}
        channel={channel}
        problems={ownProblems(problems, childPointer(pointer, "action"))}
      />
      <ObjectFields schema={STEP_SCHEMA} value={step} onChange={set} pointer={pointer} only={main} options={{ templated: true, stepIndex: index }} />
      <Section title="More step settings" problems={restProblems}>
        <ObjectFields
          schema={STEP_SCHEMA}
          value={step}
          onChange={set}
          pointer={pointer}
          exclude={shown}
          options={{ templated: true, stepIndex: index }}
        />
      </Section>
    </>
  );
}

/**
 * A sequence node's steps: add, remove, reorder, per-step action from the agent channel's
 * catalog with that action's parameters; `{{` completion sees what earlier steps wrote.
 */
export function StepsEditor({ node, onChange, pointer, schema }: {
  node: Json;
  onChange: (steps: unknown) => void;
  pointer: string;
  schema: JsonSchema;
}) {
  const { problems } = useFormContext();
  const nodeAgent = typeof node.agent === "string" && node.agent !== "" ? node.agent : null;
  const spec = { ...fieldOf(schema, "steps"), schema: STEP_SCHEMA };
  const stepsPointer = childPointer(pointer, "steps");
  return (
    <div data-testid="steps-editor" data-problem-count={problemsUnder(problems, stepsPointer).length}>
      <ObjectArrayField
        spec={spec}
        value={node.steps}
        onChange={onChange}
        pointer={stepsPointer}
        addLabel="Add step"
        renderItem={(step, i, set) => <StepBody step={step} index={i} set={set} pointer={childPointer(stepsPointer, i)} nodeAgent={nodeAgent} />}
      />
    </div>
  );
}
