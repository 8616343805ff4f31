"""The schedule loop (leader only): every tick, fire the schedules that are due.

A due registration's ``next_fire_at`` is moved forward with a compare-and-set in the same
transaction that checks the leader's lease, so two processes can never both take the same
instant; each instant then fires with its own dedupe key (``<trigger>:at:<instant>``), so
even a fire repeated after a crash between the two steps starts one run. Instants missed
beyond the grace (or folded into a coalesced fire) are recorded as ``missed`` in the
trigger's history. The stored next fire time is what makes a restart neither skip nor
repeat a fire."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select, update

from langorch.runtime.errors import InputError
from langorch.scheduling.leader import Lease
from langorch.scheduling.schedules import ScheduleError, due
from langorch.services import metrics, trigger_fire, triggers
from langorch.services.errors import ServiceError
from langorch.services.runtime_wiring import ServerRuntime
from langorch.store.models import TriggerFire, TriggerRegistration
from langorch.worker.loops import LoopService

log = logging.getLogger(__name__)


class SchedulerLoop(LoopService):
    name = "scheduler"

    def __init__(self, rt: ServerRuntime, lease: Lease | None, interval_s: float | None = None) -> None:
        super().__init__(interval_s or rt.settings.scheduler.tick_s)
        self.rt = rt
        self.lease = lease

    async def run_once(self, now: datetime | None = None) -> list[str]:
        """Fire what is due at ``now``; returns the ids of the runs started."""
        now = now or datetime.now(UTC)
        started: list[str] = []
        async with self.rt.sessions() as session:
            due_ids = list(await session.scalars(
                select(TriggerRegistration.id).where(TriggerRegistration.enabled.is_(True),
                                                     TriggerRegistration.trigger_type == "scheduled",
                                                     TriggerRegistration.next_fire_at <= now)
                .order_by(TriggerRegistration.next_fire_at).limit(500)))
        for trigger_id in due_ids:
            try:
                started.extend(await self._fire_due(trigger_id, now))
            except Exception:  # one broken registration must not stop the others
                log.exception("schedule %s could not fire", trigger_id)
        async with self.rt.sessions() as session:
            if self.lease is None or await self.lease.held(session, now):
                started.extend(await trigger_fire.release_waiting(session, self.rt))
        return started

    async def _loop(self) -> None:
        """Tick at least every ``interval_s``, and wake exactly when the soonest schedule is due."""
        while True:
            try:
                await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("%s failed", self.name)
            await asyncio.sleep(await self._until_next())

    async def _until_next(self) -> float:
        try:
            async with self.rt.sessions() as session:
                soonest = await session.scalar(select(func.min(TriggerRegistration.next_fire_at)).where(
                    TriggerRegistration.enabled.is_(True), TriggerRegistration.trigger_type == "scheduled"))
        except Exception:
            return self.interval_s
        if soonest is None:
            return self.interval_s
        if soonest.tzinfo is None:
            soonest = soonest.replace(tzinfo=UTC)
        return max(0.0, min(self.interval_s, (soonest - datetime.now(UTC)).total_seconds()))

    async def _fire_due(self, trigger_id: str, now: datetime) -> list[str]:
        async with self.rt.sessions() as session:
            reg = await session.get(TriggerRegistration, trigger_id)
            if reg is None or reg.next_fire_at is None or reg.next_fire_at > now:
                return []
            try:
                schedule = triggers.schedule_of(reg)
            except ScheduleError as exc:
                await self._disable(session, reg, f"schedule no longer valid: {exc}")
                return []
            assert schedule is not None
            plan = due(schedule, reg.next_fire_at, now, grace_s=reg.misfire_grace_s, coalesce=reg.coalesce)
            if self.lease is not None and not await self.lease.held(session, now):
                return []  # deposed while this tick ran: the new leader fires it
            taken = await session.execute(
                update(TriggerRegistration)
                .where(TriggerRegistration.id == reg.id, TriggerRegistration.next_fire_at == reg.next_fire_at)
                .values(next_fire_at=plan.next_fire_at))
            if (getattr(taken, "rowcount", 0) or 0) == 0:
                await session.rollback()
                return []  # another scheduler took this instant
            for instant in plan.missed:
                session.add(TriggerFire(trigger_id=reg.id, fired_at=now, scheduled_for=instant, outcome="missed",
                                        detail="past the misfire grace" if not reg.coalesce
                                        else "folded into a later fire (coalesce)"))
            await session.commit()
            started: list[str] = []
            for instant in plan.fires:
                await session.refresh(reg)
                try:
                    result = await trigger_fire.fire(session, self.rt, reg, payload=_payload(instant),
                                                     triggered_by="schedule", scheduled_for=instant)
                except (ServiceError, InputError) as exc:
                    log.warning("schedule %s (%s) could not start a run: %s", reg.id, reg.procedure_id, exc)
                    continue
                if result.created and result.run_id:
                    started.append(result.run_id)
                    metrics.schedule_fired((datetime.now(UTC) - instant).total_seconds())
            return started

    async def _disable(self, session: Any, reg: TriggerRegistration, why: str) -> None:
        reg.enabled = False
        reg.next_fire_at = None
        session.add(TriggerFire(trigger_id=reg.id, fired_at=datetime.now(UTC), outcome="failed", detail=why))
        await session.commit()


def _payload(instant: datetime) -> dict[str, Any]:
    return {"scheduled_for": instant.isoformat()}
