/**
 * Step actions: which ones a node's agent channel offers (from GET /api/actions) and the
 * parameters the common ones read. A step's parameters are its own fields (the compiler
 * passes every field but the control ones — step_id, action, agent, output_variable,
 * waits, retries — to the action); `params` is a free object for anything else.
 */
import type { components } from "@/lib/api/schema";

export type ActionCatalog = components["schemas"]["ActionCatalog"];

/** Step fields the compiler keeps for itself (`langorch.ckp.binder._STEP_CONTROL`). */
export const STEP_CONTROL = new Set([
  "step_id",
  "action",
  "agent",
  "output_variable",
  "wait_ms",
  "wait_after_ms",
  "timeout_ms",
  "max_retries",
  "retry_delay_ms",
  "retry_on_failure",
  "idempotency_key",
]);

const TARGET = ["target"];
const TITLE = ["title"];
const FILE = ["file_path"];

/** Parameters the built-in actions read (agents and the engine), as Step fields. */
export const ACTION_PARAMS: Readonly<Record<string, readonly string[]>> = {
  // engine
  log: ["message", "level"],
  wait: ["duration_ms"],
  set_variable: ["variable", "value"],
  set_checkpoint: [],
  restore_checkpoint: [],
  noop: [],
  http_request: ["method", "url", "headers", "parameters", "body"],
  read_file: FILE,
  write_file: ["file_path", "value"],
  delete_file: FILE,
  list_directory: FILE,
  create_directory: FILE,
  copy_file: ["file_path", "target"],
  move_file: ["file_path", "target"],
  zip_files: ["file_path", "target"],
  unzip_files: ["file_path", "target"],
  // WEB
  navigate: ["url"],
  click: TARGET,
  type: ["target", "value"],
  clear: TARGET,
  hover: TARGET,
  wait_for_element: TARGET,
  wait_for_text: ["target", "text"],
  scroll_to_element: TARGET,
  extract_text: TARGET,
  extract_table_data: TARGET,
  select_all_text: TARGET,
  select_option: ["target", "value"],
  get_attribute: ["target", "value"],
  execute_javascript: ["value"],
  switch_frame: TARGET,
  switch_window: TITLE,
  upload_file: ["target", "file_path"],
  download_file: ["url", "file_path"],
  take_screenshot: ["path"],
  screenshot: ["path"],
  press_key: ["keys"],
  press_keys: ["keys"],
  // DESKTOP
  launch_app: ["value"],
  activate_window: TITLE,
  wait_for_window: TITLE,
  wait_for_dialog: TITLE,
  close_window: TITLE,
  maximize_window: TITLE,
  minimize_window: TITLE,
  copy_to_clipboard: ["value"],
  paste_from_clipboard: TARGET,
  select_all_results: TARGET,
  click_cell: ["cell"],
  read_excel_file: ["file_path", "sheet_name"],
  // EMAIL
  compose_email: ["recipients", "subject", "body"],
  send_email: ["recipients", "subject", "body"],
  read_email: ["target", "value"],
  search_email: ["target", "value"],
  download_attachment: ["target", "file_path"],
  // API
  graphql_query: ["url", "query", "parameters", "headers"],
  soap_request: ["url", "body", "headers"],
  websocket_connect: ["url"],
  // DATABASE
  execute_query: ["connection_string", "query", "parameters"],
  execute_procedure: ["connection_string", "query", "parameters"],
  bulk_insert: ["connection_string", "target", "value"],
  bulk_update: ["connection_string", "target", "value"],
  transaction_begin: ["connection_string"],
  transaction_commit: ["connection_string"],
  transaction_rollback: ["connection_string"],
  backup_data: ["connection_string", "target"],
  restore_data: ["connection_string", "target"],
};

/** The parameter fields shown for `action`: its known ones, else `target` and `value`. */
export function actionParams(action: string): readonly string[] {
  return ACTION_PARAMS[action] ?? ["target", "value"];
}

/**
 * Actions a step may name under `agent` (the step's or its node's channel): the channel's
 * catalog plus the engine's own actions; with no agent, every channel's. Sorted, each once.
 */
export function actionsFor(catalog: ActionCatalog | undefined, agent: string | null): { channel: string | null; actions: string[] } {
  if (!catalog) return { channel: agent ? agent.toUpperCase() : null, actions: Object.keys(ACTION_PARAMS).sort() };
  const channel = agent ? agent.toUpperCase() : null;
  const names = new Set<string>(catalog.internal_actions);
  if (channel) {
    const found = catalog.channels.find((c) => c.channel.toUpperCase() === channel);
    for (const a of found?.actions ?? []) names.add(a);
    if (["LLM", "LLMAGENT"].includes(channel)) for (const a of catalog.llm_actions) names.add(a);
  } else {
    for (const c of catalog.channels) for (const a of c.actions) names.add(a);
  }
  return { channel, actions: [...names].sort((a, b) => a.localeCompare(b)) };
}
