/**
 * Where the API lives. Empty (the default) means the same origin: FastAPI serves this
 * UI and /api together. `NEXT_PUBLIC_API_BASE` (read at build time) points a UI served
 * elsewhere at an API base URL such as http://127.0.0.1:8000.
 */
export function apiBase(): string {
  const value = process.env.NEXT_PUBLIC_API_BASE ?? "";
  return value.replace(/\/+$/, "");
}

/** An absolute or same-origin URL for an API path (for EventSource, downloads and links). */
export function apiUrl(path: string, query?: Record<string, string | number | boolean | null | undefined>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value !== undefined && value !== null && value !== "") params.set(key, String(value));
  }
  const qs = params.toString();
  return `${apiBase()}${path}${qs ? `?${qs}` : ""}`;
}
