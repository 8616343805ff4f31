// A project's sandbox allowlist as the projects form edits it: free text (one entry per
// line, or comma-separated) to the list the API takes, and a 422 on it back to one message.
import type { FieldError } from "@/lib/api/errors";

export const ALLOWED_HOSTS_HINT =
  "Hosts, addresses and networks this project's procedures may reach although they are loopback, private or link-local (erp.internal, 10.20.0.0/16). Added to the server's LANGORCH_SANDBOX__ALLOWED_HOSTS for this project's runs.";

/** Entries split on line breaks and commas, trimmed, without blanks or repeats, in order. */
export function parseAllowedHosts(text: string): string[] {
  const entries = text
    .split(/[\n,]/)
    .map((entry) => entry.trim())
    .filter((entry) => entry !== "");
  return [...new Set(entries)];
}

/** The list as the field shows it: one entry per line. */
export function formatAllowedHosts(hosts: readonly string[] | null | undefined): string {
  return (hosts ?? []).join("\n");
}

/**
 * The server's messages about `allowed_hosts` (the list, or one entry of it: `allowed_hosts.<i>`),
 * each entry's naming the entry `sent` held at that index; null when there are none.
 */
export function allowedHostsError(errors: readonly FieldError[], sent: readonly string[] | undefined): string | null {
  const messages: string[] = [];
  for (const { field, message } of errors) {
    if (field === "allowed_hosts") messages.push(message);
    const item = /^allowed_hosts\.(\d+)$/.exec(field);
    if (item) {
      const entry = sent?.[Number(item[1])];
      messages.push(entry === undefined ? message : `${entry}: ${message}`);
    }
  }
  return messages.length > 0 ? messages.join("; ") : null;
}
