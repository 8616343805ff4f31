"use client";

import { useId, useState } from "react";
import { Button } from "@/components/ui/Button";
import { inputClass } from "@/components/ui/Field";
import { useCan } from "@/hooks/useCan";
import { useDecideApproval } from "@/hooks/useDecideApproval";
import { useToast } from "@/hooks/useToast";
import { errorMessage } from "@/lib/api/errors";
import type { ApprovalRead } from "@/lib/api/models";
import { decisionLabel } from "@/lib/format/labels";

/** Approve / reject, pick an option, or provide input — with a comment; the decider is the signed-in identity. */
export function DecisionForm({
  approval: a,
  compact = false,
  onDecided,
}: {
  approval: ApprovalRead;
  compact?: boolean;
  /** The approval as the server has it after the decision. */
  onDecided?: (approval: ApprovalRead) => void;
}) {
  const toast = useToast();
  const decide = useDecideApproval({
    onSuccess: (res, d) => {
      toast.show("success", `${decisionLabel(res.decision ?? d.decision)} — recorded; the run resumes`);
      onDecided?.(res);
    },
    onError: (e) => toast.show("error", `Decision not recorded: ${errorMessage(e)}`),
  });
  const [comment, setComment] = useState("");
  const [input, setInput] = useState("");
  const id = useId();
  const perms = useCan();

  if (a.status !== "pending") {
    return (
      <p className="text-sm" data-testid="decision-summary">
        <strong>{decisionLabel(a.decision ?? a.status)}</strong>
        {a.decided_by ? ` by ${a.decided_by}` : ""}
        {a.comment ? ` — “${a.comment}”` : ""}
      </p>
    );
  }

  if (!perms.canAnywhere("approver")) {
    return (
      <p className="text-sm text-slate-600 dark:text-slate-400" data-testid="decision-not-allowed">
        {perms.ready ? "Deciding approvals needs the approver role." : "Checking your role…"}
      </p>
    );
  }

  const send = (decision: string, payload?: unknown) => decide.mutate({ approvalId: a.approval_id, decision, comment, payload });

  const sendInput = () => {
    let payload: unknown = input;
    try {
      payload = JSON.parse(input);
    } catch {
      payload = input;
    }
    send("approve", payload);
  };

  const options = (a.options ?? []).map((o) => (typeof o === "string" ? o : JSON.stringify(o)));
  return (
    <div className={`flex flex-col gap-3 ${compact ? "" : "max-w-xl"}`}>
      {!compact ? (
        <div className="grid gap-3 sm:grid-cols-2">
          {/* The server records the caller's identity as the decider. */}
          <p className="text-sm">
            Deciding as <strong data-testid="decider-name">{perms.me?.name ?? "…"}</strong>
          </p>
          <div>
            <label htmlFor={`${id}-comment`} className="mb-1 block text-sm font-medium">Comment</label>
            <input id={`${id}-comment`} className={inputClass} value={comment} onChange={(e) => setComment(e.target.value)} />
          </div>
        </div>
      ) : null}
      {a.decision_type === "provide_input" && !compact ? (
        <div>
          <label htmlFor={`${id}-input`} className="mb-1 block text-sm font-medium">Input (text or JSON)</label>
          <textarea id={`${id}-input`} rows={4} className={`${inputClass} font-mono`} value={input} onChange={(e) => setInput(e.target.value)} />
        </div>
      ) : null}
      <div className="flex flex-wrap gap-2">
        {a.decision_type === "select_option" && options.length > 0 ? (
          options.map((o) => (
            <Button key={o} size={compact ? "sm" : "md"} variant="primary" disabled={decide.isPending} onClick={() => send(o)}>
              {o}
            </Button>
          ))
        ) : a.decision_type === "provide_input" && !compact ? (
          <Button variant="primary" disabled={decide.isPending || input.trim() === ""} onClick={sendInput}>
            Submit input
          </Button>
        ) : a.decision_type === "provide_input" ? null : (
          <Button size={compact ? "sm" : "md"} variant="success" disabled={decide.isPending} onClick={() => send("approve")} data-testid="approve-button">
            Approve<span className="sr-only"> {a.node_id}</span>
          </Button>
        )}
        <Button size={compact ? "sm" : "md"} variant="danger" disabled={decide.isPending} onClick={() => send("reject")} data-testid="reject-button">
          Reject<span className="sr-only"> {a.node_id}</span>
        </Button>
      </div>
    </div>
  );
}
