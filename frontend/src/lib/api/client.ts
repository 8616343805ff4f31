/**
 * The typed API client: `openapi-fetch` over the types `npm run gen:api` generates from
 * the server's OpenAPI schema, so a path, a parameter or a body the server does not
 * accept is a compile error. `unwrap` turns the error envelope into a thrown ApiError.
 */
import createClient from "openapi-fetch";
import { apiBase } from "./base";
import { parseRetryAfter, toApiError } from "./errors";
import type { paths } from "./schema";
import { sessionMiddleware } from "./session";

/**
 * Same-origin requests with the session cookie; writes carry the CSRF token and a 401
 * sends the browser to the login page (lib/api/session.ts).
 */
export const api = createClient<paths>({
  baseUrl: apiBase(),
  headers: { Accept: "application/json" },
  credentials: "same-origin",
});
api.use(sessionMiddleware);

interface FetchResult<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

/** The body of a successful answer; throws ApiError otherwise (and on network failure). */
export async function unwrap<T>(request: Promise<FetchResult<T>>): Promise<T> {
  let result: FetchResult<T>;
  try {
    result = await request;
  } catch (cause) {
    throw toApiError(0, null, cause instanceof Error ? `Cannot reach the server: ${cause.message}` : "Cannot reach the server");
  }
  const { data, error, response } = result;
  if (!response.ok || error !== undefined) {
    const failure = toApiError(response.status, error, `${response.status.toString()} ${response.statusText}`.trim());
    failure.retryAfter = parseRetryAfter(response.headers.get("Retry-After"));
    throw failure;
  }
  return data as T;
}

export interface Page<T> {
  items: T[];
  total: number;
}

/** A list endpoint's page: the JSON array plus the X-Total-Count header. */
export async function unwrapPage<T>(request: Promise<FetchResult<T[]>>): Promise<Page<T>> {
  let total = 0;
  const items = await unwrap(
    request.then((r) => {
      total = Number(r.response.headers.get("X-Total-Count") ?? "NaN");
      return r;
    }),
  );
  const list = Array.isArray(items) ? items : [];
  return { items: list, total: Number.isFinite(total) ? total : list.length };
}
