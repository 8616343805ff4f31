/** What the sign-in and password forms check and say. */
import { apiBase } from "@/lib/api/base";
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

/** The single sign-on start, coming back to `next` (a path the server gives is under the API's base). */
export function oidcHref(url: string, next: string): string {
  const base = url.startsWith("/") ? `${apiBase()}${url}` : url;
  return next === "/" ? base : `${base}${base.includes("?") ? "&" : "?"}${new URLSearchParams({ next }).toString()}`;
}

export const MIN_PASSWORD_LENGTH = 12;

/** The problem with a new password before it is sent, or null. */
export function newPasswordProblem(current: string, next: string, repeat: string): string | null {
  if (next.length < MIN_PASSWORD_LENGTH) return `At least ${String(MIN_PASSWORD_LENGTH)} characters.`;
  if (next === current) return "The new password must differ from the current one.";
  if (repeat !== next) return "The two new passwords differ.";
  return null;
}
