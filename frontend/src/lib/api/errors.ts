/** The API's error envelope `{"error": {"code", "message", "details"}}` as a thrown value. */

export interface Diagnostic {
  code: string;
  severity: string;
  path: string;
  message: string;
  hint?: string | null;
}

export interface FieldError {
  field: string;
  message: string;
}

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: unknown;
  /** Seconds to wait before trying again (a 429's Retry-After), when the server said. */
  retryAfter: number | null = null;

  constructor(status: number, code: string, message: string, details: unknown) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.details = details;
  }

  /** Compiler diagnostics carried by a 422 on an invalid CKP. */
  get diagnostics(): Diagnostic[] {
    const d = this.details;
    const list = Array.isArray(d) ? d : isObject(d) && Array.isArray(d.diagnostics) ? d.diagnostics : [];
    return list.filter(
      (x): x is Diagnostic => isObject(x) && typeof x.code === "string" && typeof x.path === "string",
    );
  }

  /** Per-field problems (`invalid_input` on run inputs; request validation `loc`s otherwise). */
  get fieldErrors(): FieldError[] {
    const d = this.details;
    if (!Array.isArray(d)) return [];
    const out: FieldError[] = [];
    for (const x of d) {
      if (!isObject(x)) continue;
      if (typeof x.field === "string" && typeof x.message === "string") out.push({ field: x.field, message: x.message });
      else if (Array.isArray(x.loc) && typeof x.message === "string") {
        out.push({ field: x.loc.map(String).filter((p) => p !== "body").join("."), message: x.message });
      }
    }
    return out;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** An ApiError from any failed response body (JSON envelope or not). */
export function toApiError(status: number, body: unknown, fallback: string): ApiError {
  if (isObject(body) && isObject(body.error)) {
    const e = body.error;
    return new ApiError(
      status,
      typeof e.code === "string" ? e.code : "error",
      typeof e.message === "string" ? e.message : fallback,
      e.details,
    );
  }
  if (isObject(body) && body.detail !== undefined) {
    return new ApiError(status, "error", typeof body.detail === "string" ? body.detail : fallback, body.detail);
  }
  return new ApiError(status, status === 0 ? "network" : "error", fallback, body);
}

/** Seconds from a Retry-After header (delta-seconds or an HTTP date), or null. */
export function parseRetryAfter(value: string | null, now: number = Date.now()): number | null {
  if (value === null || value.trim() === "") return null;
  const seconds = Number(value.trim());
  if (Number.isFinite(seconds)) return Math.max(0, Math.ceil(seconds));
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, Math.ceil((at - now) / 1000));
}

/** A one-line text for a toast. */
export function errorMessage(error: unknown): string {
  if (error instanceof ApiError) {
    const fields = error.fieldErrors;
    if (fields.length > 0) return `${error.message}: ${fields.map((f) => `${f.field} ${f.message}`).join("; ")}`;
    return error.message;
  }
  if (error instanceof Error) return error.message;
  return String(error);
}
