/** The three-tier node model: every CKP node type belongs to exactly one tier. */
export type Tier = "deterministic" | "intelligent" | "control";

export const NODE_TYPES = [
  "sequence",
  "processing",
  "transform",
  "subflow",
  "llm_action",
  "logic",
  "loop",
  "parallel",
  "verification",
  "human_approval",
  "terminate",
] as const;

export type CkpNodeType = (typeof NODE_TYPES)[number];

const TIERS: Record<CkpNodeType, Tier> = {
  sequence: "deterministic",
  processing: "deterministic",
  transform: "deterministic",
  subflow: "deterministic",
  llm_action: "intelligent",
  logic: "control",
  loop: "control",
  parallel: "control",
  verification: "control",
  human_approval: "control",
  terminate: "control",
};

/** Aliases the older CKP dialects use for node types (mirrors the compiler's rewrite). */
const ALIASES: Record<string, CkpNodeType> = {
  step: "sequence",
  end: "terminate",
  decision: "logic",
  approval: "human_approval",
  llm: "llm_action",
};

export function canonicalType(type: string): string {
  return ALIASES[type] ?? type;
}

export function isNodeType(type: string): type is CkpNodeType {
  return (NODE_TYPES as readonly string[]).includes(type);
}

/** The tier of a node type; unknown types count as deterministic (drawn blue). */
export function tierOf(type: string): Tier {
  const canonical = canonicalType(type);
  return isNodeType(canonical) ? TIERS[canonical] : "deterministic";
}

export const TIER_LABEL: Record<Tier, string> = {
  deterministic: "Deterministic",
  intelligent: "Intelligent",
  control: "Control",
};

/** Tailwind classes per tier: border + tint, readable in light and dark mode. */
export const TIER_CLASSES: Record<Tier, string> = {
  deterministic: "border-blue-600 bg-blue-50 text-blue-950 dark:bg-blue-950 dark:text-blue-50 dark:border-blue-400",
  intelligent:
    "border-purple-600 bg-purple-50 text-purple-950 dark:bg-purple-950 dark:text-purple-50 dark:border-purple-400",
  control: "border-orange-600 bg-orange-50 text-orange-950 dark:bg-orange-950 dark:text-orange-50 dark:border-orange-400",
};

/** Hex colours per tier, for the minimap and legends. */
export const TIER_COLOR: Record<Tier, string> = {
  deterministic: "#2563eb",
  intelligent: "#9333ea",
  control: "#ea580c",
};

/** The glyph each node type shows on its card (canvas and read-only graphs alike). */
export const NODE_ICON: Record<string, string> = {
  sequence: "▶",
  processing: "⚙",
  transform: "⇄",
  subflow: "⧉",
  llm_action: "✦",
  logic: "◆",
  loop: "↻",
  parallel: "⫴",
  verification: "✓",
  human_approval: "✋",
  terminate: "■",
};
