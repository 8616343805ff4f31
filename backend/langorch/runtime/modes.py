"""Run modes: how a run treats the world outside the procedure.

- ``production``: every step does what it says.
- ``dry_run``: external calls with a side effect (agent and MCP actions not known to be
  read-only, ``http_request`` other than GET/HEAD/OPTIONS) are skipped; reads still run.
- ``test``: nothing outside is reached. Agent, MCP, ``http_request`` and LLM-bound steps
  and ``llm_action`` nodes answer from ``global_config.test_data_overrides`` (by
  ``node.step``, ``step`` or, for an LLM node, its node id), else with a mock result.

A run's mode is chosen when it is created and kept in its checkpointed state, so a
resume (after an approval or a crash, in any process) runs in the same mode.
"""

from __future__ import annotations

from typing import Literal, get_args

from langorch.ckp.ir import GlobalConfigIR

RunMode = Literal["production", "dry_run", "test"]
RUN_MODES: tuple[str, ...] = get_args(RunMode)


def default_mode(gc: GlobalConfigIR) -> RunMode:
    """The mode of a run that asks for none: what the procedure's global_config declares."""
    if gc.execution_mode == "dry_run":
        return "dry_run"
    if gc.mock_external_calls:
        return "test"
    return "production"


def resolve_mode(requested: str | None, gc: GlobalConfigIR) -> RunMode:
    """``requested`` when given (one of :data:`RUN_MODES`), else :func:`default_mode`."""
    if requested is None:
        return default_mode(gc)
    if requested not in RUN_MODES:
        raise ValueError(f"unknown run mode {requested!r}; one of {', '.join(RUN_MODES)}")
    return requested  # type: ignore[return-value]
