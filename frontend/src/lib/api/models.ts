/** Names for the generated schema types the UI uses (see schema.d.ts, from `npm run gen:api`). */
import type { components, paths } from "./schema";

type S = components["schemas"];

export type ProcedureRead = S["ProcedureRead"];
export type ProcedureDetail = S["ProcedureDetail"];
export type ProcedureStatus = ProcedureRead["status"];
export type ProcedureGraph = S["ProcedureGraph"];
export type ValidateResult = S["ValidateResult"];
export type DiagnosticOut = S["DiagnosticOut"];
export type ExplainResult = S["ExplainResult"];
export type ProjectRead = S["ProjectRead"];
export type CostSummary = S["CostSummary"];
export type AgentRead = S["AgentRead"];
export type AgentCreate = S["AgentCreate"];
export type AgentUpdate = S["AgentUpdate"];
export type AgentPool = S["AgentPool"];
export type ActionCatalog = S["ActionCatalog"];
export type LeaseRead = S["LeaseRead"];
export type HealthRead = S["HealthRead"];

export const PROCEDURE_STATUSES: ProcedureStatus[] = ["draft", "active", "deprecated", "archived"];
export type RunRead = S["RunRead"];
export type RunStatus = RunRead["status"];
export type RunEventRead = S["RunEventRead"];
export type ArtifactRead = S["ArtifactRead"];
export type RunDiagnostics = S["RunDiagnostics"];
export type RunMetrics = S["RunMetrics"];
export type CheckpointRead = S["CheckpointRead"];
export type ApprovalRead = S["ApprovalRead"];
export type ApprovalStatus = ApprovalRead["status"];
export type QueueStats = S["QueueStats"];

export const RUN_STATUSES: RunStatus[] = ["queued", "running", "waiting_approval", "completed", "failed", "canceled"];
export const TERMINAL_RUN_STATUSES: RunStatus[] = ["completed", "failed", "canceled"];

export function isTerminal(status: string | null | undefined): boolean {
  return (TERMINAL_RUN_STATUSES as string[]).includes(status ?? "");
}

// Security: sign-in, users, API keys, the audit log, the built-in secret store.
export type AuthStatus = S["AuthStatus"];
export type LoginResult = S["LoginResult"];
export type Me = S["Me"];
export type Role = NonNullable<Me["role"]>;
export type UserRead = S["UserRead"];
export type UserCreate = S["UserCreate"];
export type UserUpdate = S["UserUpdate"];
export type ApiKeyRead = S["KeyRead"];
export type ApiKeyCreate = S["KeyCreate"];
export type ApiKeyCreated = S["KeyCreated"];
export type AuditRead = S["AuditEntryRead"];
export type AuditVerify = S["AuditVerification"];
export type AuditQuery = NonNullable<paths["/api/audit"]["get"]["parameters"]["query"]>;
export type SecretRead = S["SecretRead"];
export type SecretCreate = S["SecretCreate"];
export type SecretRotate = S["SecretUpdate"];

// Triggers (#11): registrations, their next fires and fire history.
export type TriggerRead = S["TriggerRead"];
export type TriggerCreate = S["TriggerCreate"];
export type TriggerCreated = S["TriggerCreated"];
export type TriggerUpdate = S["TriggerUpdate"];
export type TriggerType = TriggerCreate["trigger_type"];
export type Overlap = NonNullable<TriggerCreate["overlap"]>;
export type TriggerFireRead = S["TriggerFireRead"];
export type TriggerFireResult = S["FireResult"];
export type TriggerNextFires = S["NextFires"];
export type TriggerSecretRotated = S["SecretRotated"];
