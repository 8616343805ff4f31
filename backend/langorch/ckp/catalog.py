"""What CKP actions mean: internal actions, agent channel catalogs, operations.

Pure data, shared by the binder, the validator and the runtime (which checks at
import time that it implements everything listed here).
"""

from __future__ import annotations

INTERNAL_ACTIONS: frozenset[str] = frozenset({
    "log", "wait", "set_variable", "http_request", "set_checkpoint", "restore_checkpoint",
    "read_file", "write_file", "delete_file", "list_directory", "create_directory",
    "copy_file", "move_file", "noop",
})
"""Actions the orchestrator runs itself when the node has no agent (or MasterAgent)."""

ALWAYS_INTERNAL: frozenset[str] = frozenset({
    "log", "wait", "set_variable", "set_checkpoint", "restore_checkpoint", "noop",
})
"""Orchestration actions that run in the engine even inside a node bound to an agent channel."""

SIDE_EFFECT_FREE: frozenset[str] = frozenset({
    "log", "wait", "set_variable", "set_checkpoint", "restore_checkpoint", "read_file",
    "list_directory", "noop", "wait_for_element", "wait_for_text", "wait_for_window",
    "wait_for_dialog", "extract_table_data", "extract_text", "select_all_text", "read_email",
    "search_email", "screenshot", "take_screenshot", "read_excel_file",
})

GENERIC = frozenset({"wait", "screenshot", "log", "set_checkpoint", "restore_checkpoint"})

CHANNEL_CATALOG: dict[str, frozenset[str]] = {
    "DESKTOP": frozenset({
        "launch_app", "activate_window", "wait_for_window", "wait_for_dialog", "click", "type",
        "press_key", "press_keys", "copy_to_clipboard", "paste_from_clipboard", "select_all_results",
        "click_cell", "read_excel_file", "close_window", "maximize_window", "minimize_window",
        "take_screenshot", "extract_text",
    }),
    "WEB": frozenset({
        "navigate", "wait_for_element", "click", "type", "clear", "extract_table_data", "wait_for_text",
        "scroll_to_element", "take_screenshot", "execute_javascript", "switch_frame", "switch_window",
        "upload_file", "download_file", "extract_text", "select_all_text", "select_option", "hover",
        "press_key", "get_attribute",
    }),
    "EMAIL": frozenset({"compose_email", "send_email", "read_email", "search_email", "download_attachment"}),
    "API": frozenset({"http_request", "graphql_query", "soap_request", "websocket_connect"}),
    "DATABASE": frozenset({
        "execute_query", "execute_procedure", "bulk_insert", "bulk_update", "transaction_begin",
        "transaction_commit", "transaction_rollback", "backup_data", "restore_data",
    }),
    "FILE": frozenset({
        "read_file", "write_file", "delete_file", "move_file", "copy_file", "list_directory",
        "create_directory", "zip_files", "unzip_files",
    }),
}

ORCHESTRATOR_CHANNELS = frozenset({"MASTERAGENT", "ORCHESTRATOR", "SYSTEM"})
LLM_CHANNELS = frozenset({"LLM", "LLMAGENT"})
LLM_ACTIONS = frozenset({"llm_call", "llm_complete", "llm_prompt"})

OPERATIONS: frozenset[str] = frozenset({
    "set_variable", "append_to_array", "parse_excel_data", "parse_json", "parse_xml", "parse_csv",
    "calculate", "format_string", "extract_regex", "notify", "log", "hash", "validate_schema",
    "convert_type",
})
UNSUPPORTED_OPERATIONS: frozenset[str] = frozenset({"encrypt", "decrypt"})

TRANSFORMATIONS: frozenset[str] = frozenset({
    "filter", "map", "reduce", "join", "aggregate", "pivot", "sort", "deduplicate",
})

BUILTIN_VARIABLES: frozenset[str] = frozenset({
    "run_id", "procedure_id", "procedure_version", "now", "today", "secrets", "error",
    "telemetry", "input", "variables", "node_id", "loop", "approval", "env_name",
})
"""Names every template may use without declaring them."""


def channel_of_action(action: str) -> str | None:
    """The one channel whose catalog lists ``action``, if exactly one does."""
    owners = [name for name, actions in CHANNEL_CATALOG.items() if action in actions]
    return owners[0] if len(owners) == 1 else None
