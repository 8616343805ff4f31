import { ApiError, errorMessage } from "@/lib/api/errors";

/** What the login form says about a failed sign-in. */
export function loginErrorMessage(error: unknown): string {
  if (error instanceof ApiError) {
    if (error.status === 401) return "Wrong username or password.";
    if (error.status === 429) {
      const wait = error.retryAfter;
      return wait !== null && wait > 0
        ? `Too many failed sign-ins. Wait ${formatWait(wait)} before trying again.`
        : "Too many failed sign-ins. Wait a moment before trying again.";
    }
    if (error.status === 403 && error.code === "account_disabled") return "This account is disabled.";
  }
  return errorMessage(error);
}

/** "45 seconds", "1 minute", "3 minutes 20 seconds". */
export function formatWait(seconds: number): string {
  const s = Math.max(0, Math.ceil(seconds));
  const minutes = Math.floor(s / 60);
  const rest = s % 60;
  const part = (n: number, unit: string) => `${String(n)} ${unit}${n === 1 ? "" : "s"}`;
  if (minutes === 0) return part(rest, "second");
  return rest === 0 ? part(minutes, "minute") : `${part(minutes, "minute")} ${part(rest, "second")}`;
}
