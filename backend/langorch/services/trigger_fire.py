"""Firing a trigger: one run per fire, never two for one delivery.

A fire is deduplicated by its key — the ``Idempotency-Key`` a sender gave, else the
payload's SHA-256 (webhooks, events, files, chains), or the scheduled instant (schedules) —
within the trigger's window: the key's row is inserted in the same transaction as the run,
so of two concurrent deliveries exactly one creates a run and the other gets its id. The
overlap policy (skip / queue / allow up to ``max_concurrent``) looks at the trigger's
unfinished runs. Every fire is kept in ``trigger_fires``; a run it starts begins its
timeline with ``trigger_fired``."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from langorch.runtime.errors import InputError, TemplateError
from langorch.runtime.ports import RunEvent as PortEvent
from langorch.runtime.templating import render
from langorch.services import runs as run_service
from langorch.services.errors import Invalid, ServiceError
from langorch.services.runtime_wiring import ServerRuntime
from langorch.services.triggers import now
from langorch.store.models import Run, TriggerDedupe, TriggerFire, TriggerRegistration

UNFINISHED = ("queued", "running", "waiting_approval")


@dataclass(frozen=True)
class Fire:
    outcome: str
    """queued | deduplicated | skipped_overlap | waiting | refused_concurrency | failed"""
    run_id: str | None = None
    detail: str | None = None
    fire_id: int | None = None

    @property
    def created(self) -> bool:
        return self.outcome == "queued"


def payload_hash(payload: Any) -> str:
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def map_inputs(reg: TriggerRegistration, payload: Any, fired_at: datetime) -> dict[str, Any]:
    """The run's input_vars: the trigger's ``input_mapping`` rendered over ``{payload, trigger,
    fired_at}``, else the payload itself when it is a JSON object (a chain's: the source run's outputs)."""
    if reg.input_mapping:
        scope = {"payload": payload, "trigger": {"id": reg.id, "type": reg.trigger_type, "name": reg.name},
                 "fired_at": fired_at.isoformat()}
        try:
            rendered = render(dict(reg.input_mapping), scope, where=f"trigger {reg.id!r} input_mapping")
        except TemplateError as exc:  # the payload lacks what the mapping reads: the sender's mistake (422)
            raise Invalid(f"input_mapping: {exc}", details=[{"field": "input_mapping", "message": str(exc)}]) \
                from exc
        return dict(rendered) if isinstance(rendered, Mapping) else {}
    if reg.trigger_type == "run_completed" and isinstance(payload, Mapping):
        payload = payload.get("outputs")  # a chain starts with its source run's outputs (services/chains.py)
    return dict(payload) if isinstance(payload, Mapping) else {}


async def unfinished_runs(session: AsyncSession, trigger_id: str) -> int:
    return int(await session.scalar(select(func.count()).select_from(Run).where(
        Run.trigger_id == trigger_id, Run.status.in_(UNFINISHED))) or 0)


def dedupe_key(reg: TriggerRegistration, *, idempotency_key: str | None, digest: str,
               scheduled_for: datetime | None) -> str:
    if scheduled_for is not None:
        return f"{reg.id}:at:{scheduled_for.isoformat()}"
    if idempotency_key:
        return f"{reg.id}:key:{idempotency_key[:300]}"
    return f"{reg.id}:payload:{digest}"


async def fire(session: AsyncSession, rt: ServerRuntime, reg: TriggerRegistration, *, payload: Any = None,
               triggered_by: str, idempotency_key: str | None = None, scheduled_for: datetime | None = None,
               respect_overlap: bool = True) -> Fire:
    """Start one run of ``reg`` for this delivery (or say why not); commits."""
    digest = payload_hash(payload)
    fired_at = now()
    key = dedupe_key(reg, idempotency_key=idempotency_key, digest=digest, scheduled_for=scheduled_for)
    existing = await _existing(session, reg, key, fired_at)
    if existing is not None:
        return await _record(session, reg, "deduplicated", digest, scheduled_for, run_id=existing,
                             detail="the same delivery already started this run")
    if respect_overlap:
        busy = await unfinished_runs(session, reg.id)
        if busy and reg.overlap == "skip":
            return await _record(session, reg, "skipped_overlap", digest, scheduled_for,
                                 detail=f"{busy} earlier run(s) of this trigger are unfinished")
        if busy and reg.overlap == "queue":
            return await _record(session, reg, "waiting", digest, scheduled_for, payload=payload,
                                 detail=f"starts when the {busy} earlier run(s) of this trigger finish")
        if reg.max_concurrent and busy >= reg.max_concurrent:
            return await _record(session, reg, "refused_concurrency", digest, scheduled_for,
                                 detail=f"{busy} runs of this trigger are unfinished (max_concurrent "
                                        f"{reg.max_concurrent})")
    return await _start(session, rt, reg, payload, digest, key, triggered_by, scheduled_for, fired_at)


async def _existing(session: AsyncSession, reg: TriggerRegistration, key: str, at: datetime) -> str | None:
    row = await session.get(TriggerDedupe, key)
    if row is None:
        return None
    if reg.dedupe_window_s and row.created_at < at - timedelta(seconds=reg.dedupe_window_s) \
            and not key.startswith(f"{reg.id}:at:"):
        await session.delete(row)  # outside the window: a new delivery
        await session.flush()
        return None
    return row.run_id or ""


async def _start(session: AsyncSession, rt: ServerRuntime, reg: TriggerRegistration, payload: Any, digest: str,
                 key: str, triggered_by: str, scheduled_for: datetime | None, fired_at: datetime) -> Fire:
    try:
        inputs = map_inputs(reg, payload, fired_at)
        run = await run_service.create_run(
            session, rt, procedure_id=reg.procedure_id, procedure_version=reg.version, input_vars=inputs,
            trigger_type=reg.trigger_type, triggered_by=triggered_by, trigger_id=reg.id, payload_hash=digest,
            commit=False)
    except (ServiceError, InputError) as exc:
        await session.rollback()
        await session.refresh(reg)  # the rollback expired it; reading it lazily would need IO outside await
        detail = exc.message if isinstance(exc, ServiceError) else str(exc)
        await _record(session, reg, "failed", digest, scheduled_for, detail=detail)
        raise
    session.add(TriggerDedupe(key=key, procedure_id=reg.procedure_id, trigger_id=reg.id, run_id=run.run_id))
    fired = {"trigger_id": reg.id, "trigger_type": reg.trigger_type, "name": reg.name,
             "triggered_by": triggered_by, "payload_hash": digest,
             "scheduled_for": scheduled_for.isoformat() if scheduled_for else None}
    rows = await rt.sink.stage(session, run.run_id, [PortEvent(run.run_id, "trigger_fired", fired, ts=time.time())])
    entry = _fire_row(reg, "queued", digest, scheduled_for, run_id=run.run_id)
    session.add(entry)
    reg.last_fired_at, reg.last_run_id, reg.fire_count = fired_at, run.run_id, reg.fire_count + 1
    try:
        await session.commit()
    except IntegrityError:  # another process took this delivery's key first
        await session.rollback()
        rt.sink.forget(run.run_id)
        winner = await session.get(TriggerDedupe, key)
        return Fire("deduplicated", winner.run_id if winner else None, "a concurrent delivery started the run")
    rt.sink.committed(run.run_id, rows)
    rt.hub.publish("jobs")
    return Fire("queued", run.run_id, None, entry.id)


def _fire_row(reg: TriggerRegistration, outcome: str, digest: str, scheduled_for: datetime | None, *,
              run_id: str | None = None, detail: str | None = None, payload: Any = None) -> TriggerFire:
    return TriggerFire(trigger_id=reg.id, fired_at=now(), scheduled_for=scheduled_for, outcome=outcome,
                       run_id=run_id, payload_hash=digest, detail=detail, payload=payload)


async def _record(session: AsyncSession, reg: TriggerRegistration, outcome: str, digest: str,
                  scheduled_for: datetime | None, *, run_id: str | None = None, detail: str | None = None,
                  payload: Any = None) -> Fire:
    entry = _fire_row(reg, outcome, digest, scheduled_for, run_id=run_id, detail=detail, payload=payload)
    session.add(entry)
    await session.commit()
    return Fire(outcome, run_id, detail, entry.id)


async def release_waiting(session: AsyncSession, rt: ServerRuntime) -> list[str]:
    """Start the oldest waiting fire of every queue-overlap trigger whose earlier runs finished."""
    started: list[str] = []
    waiting = list(await session.scalars(select(TriggerFire).where(TriggerFire.outcome == "waiting")
                                         .order_by(TriggerFire.id)))
    seen: set[str] = set()
    for entry in waiting:
        if entry.trigger_id in seen:
            continue
        seen.add(entry.trigger_id)
        reg = await session.get(TriggerRegistration, entry.trigger_id)
        if reg is None or not reg.enabled:
            entry.outcome, entry.detail, entry.payload = "canceled", "the trigger was paused or removed", None
            await session.commit()
            continue
        if await unfinished_runs(session, reg.id):
            continue
        payload, scheduled_for = entry.payload, entry.scheduled_for
        entry.outcome, entry.payload = "released", None
        await session.flush()
        try:
            result = await fire(session, rt, reg, payload=payload, triggered_by="trigger queue",
                                scheduled_for=scheduled_for, respect_overlap=False)
        except (Invalid, ServiceError, InputError):
            continue
        if result.run_id:
            started.append(result.run_id)
    return started


async def prune_dedupe(session: AsyncSession, older_than: datetime) -> int:
    result = await session.execute(delete(TriggerDedupe).where(TriggerDedupe.created_at < older_than))
    await session.commit()
    return int(getattr(result, "rowcount", 0) or 0)
