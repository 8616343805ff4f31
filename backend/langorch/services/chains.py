"""Run-completed chains: when a run of procedure A ends, every enabled ``run_completed``
trigger whose ``source_procedure_id`` is A starts its own procedure with A's outputs.

A trigger's ``config``: ``{"source_procedure_id": "A", "on": ["completed"] | ["failed"] |
both (default ["completed"]), "filter": "<CKP condition>"}`` (a CKP-derived trigger keeps
the same keys under ``run_completed_config``). The payload is ``{run_id, procedure_id,
status, outputs, error}``; the filter is a condition over it in the runtime's safe
expression language (``outputs.amount > 100``); the started run's inputs are the outputs
unless the trigger has an ``input_mapping``. The source run's id is the fire's
idempotency key, so one source run starts at most one run per trigger however often the
hook runs. A chain that would close a cycle (A → B → … → A) is refused at registration.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from langorch.ckp.expressions import ExpressionSyntaxError, parse_expression
from langorch.runtime.conditions import evaluate_condition
from langorch.runtime.errors import ConditionError, InputError
from langorch.services import trigger_fire
from langorch.services.errors import Invalid, ServiceError
from langorch.services.runtime_wiring import ServerRuntime
from langorch.store.models import Run, TriggerDedupe, TriggerFire, TriggerRegistration

__all__ = ["ON_STATUSES", "ChainConfig", "after_run", "chain_config", "check_cycle", "find_cycle", "payload_of"]

log = logging.getLogger(__name__)

ON_STATUSES = ("completed", "failed")
TYPE = "run_completed"


@dataclass(frozen=True)
class ChainConfig:
    source_procedure_id: str
    on: tuple[str, ...]
    filter: str | None


def _invalid(field: str, message: str) -> Invalid:
    return Invalid(f"{field}: {message}", details=[{"field": field, "message": message}])


def chain_config(config: Mapping[str, Any] | None) -> ChainConfig:
    """The chain settings of a registration's ``config``; Invalid (422) naming the field."""
    raw: Any = config or {}
    prefix = "config"
    if isinstance(raw.get("run_completed_config"), Mapping):
        raw, prefix = raw["run_completed_config"], "config.run_completed_config"
    source = raw.get("source_procedure_id")
    if not isinstance(source, str) or not source.strip():
        raise _invalid(f"{prefix}.source_procedure_id", "a run_completed trigger names the procedure whose runs "
                                                        "start it")
    on = raw.get("on", ["completed"])
    if isinstance(on, str):
        on = [on]
    if not isinstance(on, list) or not on or any(s not in ON_STATUSES for s in on):
        raise _invalid(f"{prefix}.on", f"a non-empty list of {', '.join(ON_STATUSES)}")
    condition = raw.get("filter")
    if condition is not None:
        if not isinstance(condition, str) or not condition.strip():
            raise _invalid(f"{prefix}.filter", "a condition over the source run, e.g. \"outputs.amount > 100\"")
        try:
            parse_expression(condition)
        except ExpressionSyntaxError as exc:
            raise _invalid(f"{prefix}.filter", f"cannot parse {condition!r}: {exc}") from exc
    return ChainConfig(source.strip(), tuple(dict.fromkeys(on)), condition)


# -- cycles ------------------------------------------------------------------------------------

async def find_cycle(session: AsyncSession, procedure_id: str, source_procedure_id: str, *,
                     ignore_trigger: str | None = None) -> list[str] | None:
    """The cycle a chain ``source → procedure_id`` would close with the chains already
    registered (``[source, procedure_id, …, source]``), or None."""
    if procedure_id == source_procedure_id:
        return [source_procedure_id, procedure_id]
    edges: dict[str, set[str]] = {}
    rows = await session.execute(select(TriggerRegistration.id, TriggerRegistration.procedure_id,
                                        TriggerRegistration.config)
                                 .where(TriggerRegistration.trigger_type == TYPE))
    for trigger_id, target, config in rows:
        if trigger_id == ignore_trigger:
            continue
        try:
            source = chain_config(config).source_procedure_id
        except Invalid:
            continue
        edges.setdefault(source, set()).add(target)
    # Breadth-first from the chain's target: reaching its source closes the cycle.
    parent: dict[str, str] = {procedure_id: ""}
    frontier = [procedure_id]
    while frontier:
        following: list[str] = []
        for node in frontier:
            for nxt in sorted(edges.get(node, ())):
                if nxt in parent:
                    continue
                parent[nxt] = node
                if nxt == source_procedure_id:
                    path = [nxt]
                    while path[-1] != procedure_id:
                        path.append(parent[path[-1]])
                    return [source_procedure_id, *reversed(path)]
                following.append(nxt)
        frontier = following
    return None


async def check_cycle(session: AsyncSession, reg: TriggerRegistration) -> None:
    """Invalid (422 naming the cycle) when ``reg`` would close a cycle of chains."""
    if reg.trigger_type != TYPE:
        return
    config = chain_config(reg.config)
    cycle = await find_cycle(session, reg.procedure_id, config.source_procedure_id, ignore_trigger=reg.id)
    if cycle is not None:
        shown = " → ".join(cycle)
        raise Invalid(f"config.source_procedure_id: this chain would form a cycle: {shown}",
                      details=[{"field": "config.source_procedure_id", "message": f"cycle: {shown}",
                                "cycle": cycle}])


# -- firing ------------------------------------------------------------------------------------

def payload_of(run: Run) -> dict[str, Any]:
    return {"run_id": run.run_id, "procedure_id": run.procedure_id, "status": run.status,
            "outputs": dict(run.output_vars or {}), "error": run.error}


async def after_run(rt: ServerRuntime, run_id: str) -> list[str]:
    """Start the chains of a run that just ended (called once its final status is committed);
    returns the ids of the runs started. Never raises: a chain's failure is in its history."""
    try:
        async with rt.sessions() as session:
            run = await session.get(Run, run_id)
            if run is None or run.status not in ON_STATUSES:
                return []
            regs = list(await session.scalars(select(TriggerRegistration).where(
                TriggerRegistration.trigger_type == TYPE, TriggerRegistration.enabled.is_(True))
                .order_by(TriggerRegistration.created_at)))
            payload = payload_of(run)
            started: list[str] = []
            for reg in regs:
                try:
                    run_of_chain = await _fire(session, rt, reg, payload)
                except Exception:  # one broken chain must not stop the others
                    log.exception("chain %s after run %s could not fire", reg.id, run_id)
                    await session.rollback()
                    continue
                if run_of_chain:
                    started.append(run_of_chain)
            return started
    except Exception:
        log.exception("the chains after run %s could not be looked up", run_id)
        return []


async def _fire(session: AsyncSession, rt: ServerRuntime, reg: TriggerRegistration,
                payload: dict[str, Any]) -> str | None:
    try:
        config = chain_config(reg.config)
    except Invalid:
        return None
    if config.source_procedure_id != payload["procedure_id"] or payload["status"] not in config.on:
        return None
    source_run = str(payload["run_id"])
    key = trigger_fire.dedupe_key(reg, idempotency_key=source_run, digest="", scheduled_for=None)
    if await session.get(TriggerDedupe, key) is not None:
        return None  # this source run already started its chain
    if config.filter:
        try:
            if not evaluate_condition(config.filter, payload):
                return None
        except ConditionError as exc:
            session.add(TriggerFire(trigger_id=reg.id, outcome="failed", payload_hash=trigger_fire.payload_hash(
                payload), detail=f"filter of run {source_run}: {exc}"))
            await session.commit()
            return None
    try:
        result = await trigger_fire.fire(session, rt, reg, payload=payload, triggered_by=f"run {source_run}",
                                         idempotency_key=source_run)
    except (ServiceError, InputError) as exc:  # recorded as a failed fire in the trigger's history
        log.warning("chain %s (%s) after run %s could not start a run: %s", reg.id, reg.procedure_id,
                    source_run, exc)
        return None
    return result.run_id if result.created else None
