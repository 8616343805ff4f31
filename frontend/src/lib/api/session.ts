/**
 * The browser session: the server sets an HttpOnly session cookie and a readable CSRF
 * cookie at login. Every request goes same-origin with cookies; a request that changes
 * something echoes the CSRF cookie in `X-CSRF-Token`; a 401 sends the user to the login
 * page and back to where they were afterwards.
 */
import type { Middleware } from "openapi-fetch";

export const CSRF_COOKIE = "langorch_csrf";
export const CSRF_HEADER = "X-CSRF-Token";
export const LOGIN_PATH = "/login";

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/** A cookie's value from a `document.cookie` string, or null. */
export function readCookie(cookies: string, name: string): string | null {
  for (const part of cookies.split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) {
      const raw = part.slice(eq + 1).trim();
      try {
        return decodeURIComponent(raw);
      } catch {
        return raw;
      }
    }
  }
  return null;
}

/** The path without a trailing slash or .html (a static export serves both forms). */
export function normalPath(pathname: string): string {
  return pathname.replace(/\.html$/, "").replace(/\/+$/, "") || "/";
}

export function isLoginPath(pathname: string): boolean {
  return normalPath(pathname) === LOGIN_PATH;
}

/** The login page's address that comes back to `current` (path + query) after signing in. */
export function loginHref(current: string): string {
  const path = current.split("?")[0] ?? "/";
  if (isLoginPath(path) || normalPath(path) === "/") return LOGIN_PATH;
  return `${LOGIN_PATH}?${new URLSearchParams({ next: current }).toString()}`;
}

/**
 * Where to go after signing in: the `next` parameter when it is a path on this site,
 * else the dashboard (never another origin: `//host` and `/\host` are refused).
 */
export function safeNext(next: string | null | undefined): string {
  if (!next || !next.startsWith("/") || next.startsWith("//") || next.startsWith("/\\")) return "/";
  if (isLoginPath(next.split("?")[0] ?? "")) return "/";
  return next;
}

let redirecting = false;

/** Sends the browser to the login page (once, however many requests answered 401). */
export function redirectToLogin(): void {
  if (typeof window === "undefined" || redirecting) return;
  const { pathname, search } = window.location;
  if (isLoginPath(pathname)) return;
  redirecting = true;
  window.location.assign(loginHref(`${pathname}${search}`));
}

/**
 * Signing out: from now on a 401 (the session is going away) no longer redirects with
 * a way back; the caller loads the login page itself once the server has answered.
 */
export function beginSignOut(): void {
  redirecting = true;
}

/** Whether the answer asks for a login: the API's 401 `unauthenticated` (or any 401). */
export function needsLogin(status: number): boolean {
  return status === 401;
}

/** The openapi-fetch middleware that carries the session (CSRF on writes, 401 → login). */
export const sessionMiddleware: Middleware = {
  onRequest({ request }) {
    if (SAFE_METHODS.has(request.method.toUpperCase()) || typeof document === "undefined") return undefined;
    const token = readCookie(document.cookie, CSRF_COOKIE);
    if (token) request.headers.set(CSRF_HEADER, token);
    return request;
  },
  onResponse({ response, schemaPath }) {
    // A wrong password is the login form's own 401 to show, not a reason to redirect.
    if (needsLogin(response.status) && schemaPath !== "/api/auth/login" && schemaPath !== "/api/auth/password") redirectToLogin();
    return undefined;
  },
};

/** fetch() for the few requests outside the typed client (downloads): same session rules. */
export async function sessionFetch(input: string, init: RequestInit = {}): Promise<Response> {
  const method = (init.method ?? "GET").toUpperCase();
  const headers = new Headers(init.headers);
  if (!SAFE_METHODS.has(method) && typeof document !== "undefined") {
    const token = readCookie(document.cookie, CSRF_COOKIE);
    if (token) headers.set(CSRF_HEADER, token);
  }
  const response = await fetch(input, { ...init, headers, credentials: "same-origin" });
  if (needsLogin(response.status)) redirectToLogin();
  return response;
}
