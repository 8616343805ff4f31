"use client";

import { Button } from "@/components/ui/Button";
import { ErrorBox } from "@/components/ui/ErrorBox";
import { useVerifyAudit } from "@/hooks/useVerifyAudit";
import type { AuditVerify } from "@/lib/api/models";
import { plural } from "@/lib/format/format";

/** One sentence for a verification result. */
export function verifySummary(v: AuditVerify): string {
  if (v.ok) return `Chain intact: ${plural(v.checked, "entry", "entries")} checked.`;
  const where = v.first_bad_seq !== null ? ` at entry ${String(v.first_bad_seq)}` : "";
  return `Chain broken${where}${v.problem ? `: ${v.problem}` : ""} (${plural(v.checked, "entry", "entries")} intact before it).`;
}

/** "Verify chain": walks the hash chain on the server and says whether it holds. */
export function VerifyChain() {
  const verify = useVerifyAudit();
  const result = verify.data;
  return (
    <div className="flex flex-col gap-2">
      <div>
        <Button variant="primary" onClick={() => verify.mutate()} disabled={verify.isPending} data-testid="audit-verify">
          {verify.isPending ? "Verifying…" : "Verify chain"}
        </Button>
      </div>
      {verify.isError ? <ErrorBox error={verify.error} title="Could not verify" /> : null}
      {result ? (
        <p
          role="status"
          data-testid="audit-verify-result"
          data-ok={result.ok ? "true" : "false"}
          className={`rounded-md border p-3 text-sm ${
            result.ok
              ? "border-green-300 bg-green-50 text-green-950 dark:border-green-800 dark:bg-green-950 dark:text-green-100"
              : "border-red-300 bg-red-50 text-red-950 dark:border-red-800 dark:bg-red-950 dark:text-red-100"
          }`}
        >
          {verifySummary(result)}
          {result.ok && result.head_seq !== null && result.head_hash ? (
            <span className="mt-1 block font-mono text-xs break-all" title="Keep this outside the database to catch a truncated log later">
              head {result.head_seq}:{result.head_hash}
            </span>
          ) : null}
        </p>
      ) : null}
    </div>
  );
}
