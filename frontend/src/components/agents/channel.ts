/** Agent channel names: any name the server accepts (it stores them upper-case), known ones suggested. */

export const KNOWN_CHANNELS = ["WEB", "DESKTOP", "EMAIL", "API", "DATABASE", "DOCUMENT", "MASTERAGENT"] as const;

/** The server's rule for a channel (`AgentCreate.channel`): a letter, then letters, digits or underscores; at most 64. */
export const CHANNEL_PATTERN = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;

/** Why `value` cannot be a channel name, in plain words; null when it can. */
export function channelProblem(value: string): string | null {
  const v = value.trim();
  if (v === "") return "Enter a channel name, e.g. WEB, ERP or HELPDESK.";
  if (v.length > 64) return "A channel name has at most 64 characters.";
  if (!/^[A-Za-z]/.test(v)) return "A channel name starts with a letter.";
  if (!CHANNEL_PATTERN.test(v)) return "A channel name has only letters, digits and underscores (no spaces), e.g. HELP_DESK.";
  return null;
}

/** The name as the server stores it. */
export function normalizeChannel(value: string): string {
  return value.trim().toUpperCase();
}
