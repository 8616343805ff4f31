/** Calling a webhook trigger: its absolute URL and a curl command that signs the body with openssl. */

/** The webhook's absolute URL (the server may answer a path; it is then on `origin`). */
export function absoluteUrl(url: string, origin: string): string {
  if (/^https?:\/\//i.test(url)) return url;
  return `${origin.replace(/\/+$/, "")}/${url.replace(/^\/+/, "")}`;
}

/**
 * Where a sender POSTs for this trigger: its URL naming the trigger (`?trigger=<id>`),
 * which the server needs once the procedure has more than one webhook trigger.
 */
export function deliveryUrl(url: string, triggerId: string, origin: string): string {
  const base = absoluteUrl(url, origin);
  return `${base}${base.includes("?") ? "&" : "?"}trigger=${encodeURIComponent(triggerId)}`;
}

/** The webhook path of a procedure, when the server gave no URL. */
export function webhookPath(procedureId: string): string {
  return `/api/triggers/webhook/${encodeURIComponent(procedureId)}`;
}

/** Quotes `text` for a POSIX shell (single quotes, an embedded one closed and escaped). */
export function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

export interface CurlOptions {
  url: string;
  body: string;
  /** The secret, when it is known (shown once); otherwise a placeholder the user replaces. */
  secret?: string | null;
  /** Also send X-LangOrch-Timestamp: the signature then covers "{timestamp}.{body}" (replay protection). */
  timestamp?: boolean;
}

export const SECRET_PLACEHOLDER = "<the webhook secret>";

/**
 * A shell snippet that signs BODY with the secret (HMAC-SHA256, hex, by openssl) and
 * POSTs it with X-LangOrch-Signature: sha256=<hex>, as the server checks it.
 */
export function curlExample({ url, body, secret, timestamp = false }: CurlOptions): string {
  const lines = [`BODY=${shellQuote(body)}`, `SECRET=${shellQuote(secret ?? SECRET_PLACEHOLDER)}`];
  if (timestamp) {
    lines.push(
      "TS=$(date +%s)",
      `SIG=$(printf '%s.%s' "$TS" "$BODY" | openssl dgst -sha256 -hmac "$SECRET" | awk '{print $NF}')`,
    );
  } else {
    lines.push(`SIG=$(printf '%s' "$BODY" | openssl dgst -sha256 -hmac "$SECRET" | awk '{print $NF}')`);
  }
  const curl = [`curl -sS -X POST ${shellQuote(url)}`, `  -H 'Content-Type: application/json'`, `  -H "X-LangOrch-Signature: sha256=$SIG"`];
  if (timestamp) curl.push(`  -H "X-LangOrch-Timestamp: $TS"`);
  curl.push(`  --data-binary "$BODY"`);
  return [...lines, curl.join(" \\\n")].join("\n");
}

/** A sample JSON body from the procedure's declared inputs (name → a value of its type). */
export function sampleBody(variables: readonly { name: string; type: string; origin?: string | null }[]): string {
  const out: Record<string, unknown> = {};
  for (const v of variables) {
    if (v.origin === "system_captured") continue;
    out[v.name] = v.type === "number" || v.type === "integer" ? 1 : v.type === "boolean" ? true : v.type === "array" ? [] : v.type === "object" ? {} : "example";
  }
  return JSON.stringify(out);
}
