"""Trigger registrations: made through the API, or derived from the ``trigger`` of a
procedure's active version (``source = ckp``, replaced whenever the active version changes
and removed when none is active); their schedules, webhook secrets and fire history."""

from __future__ import annotations

import secrets as pysecrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from langorch.scheduling.schedules import Schedule, ScheduleError
from langorch.services.errors import Invalid, NotFound
from langorch.services.secret_keys import KeyRing
from langorch.store.models import Procedure, StoredSecret, TriggerFire, TriggerRegistration, utcnow

TYPES = ("scheduled", "webhook", "event", "file_watch", "run_completed")
OVERLAPS = ("skip", "queue", "allow")
SECRET_SCOPE = "trigger"
"""Webhook secrets live in the built-in secret store under this scope (master-key rotation covers them)."""
ROTATION_GRACE = timedelta(hours=24)


@dataclass(frozen=True)
class NewSecret:
    trigger: TriggerRegistration
    secret: str | None
    """A webhook secret made just now: shown once."""


def now() -> datetime:
    return datetime.now(UTC)


def schedule_of(reg: TriggerRegistration) -> Schedule | None:
    if reg.trigger_type != "scheduled":
        return None
    return Schedule(cron=reg.cron, rrule=reg.rrule, at=reg.at, timezone=reg.timezone or "UTC")


def _invalid(field: str, message: str) -> Invalid:
    return Invalid(f"{field}: {message}", details=[{"field": field, "message": message}])


def check(reg: TriggerRegistration) -> None:
    """Raise Invalid (422, naming the field) unless the registration is consistent."""
    if reg.trigger_type not in TYPES:
        raise _invalid("trigger_type", f"must be one of {', '.join(TYPES)}")
    if reg.overlap not in OVERLAPS:
        raise _invalid("overlap", f"must be one of {', '.join(OVERLAPS)}")
    if reg.trigger_type == "scheduled":
        try:
            schedule_of(reg)
        except ScheduleError as exc:
            raise _invalid(exc.field, exc.message) from exc
    elif any((reg.cron, reg.rrule, reg.at)):
        raise _invalid("trigger_type", "only scheduled triggers take cron, rrule or at")
    if reg.trigger_type == "file_watch":  # the folder, glob and events; the folder inside the watch roots
        from langorch.scheduling.file_watch import check_watch_config
        check_watch_config(reg.config)
    elif reg.trigger_type == "run_completed":  # source procedure, statuses, filter (services/chains.py)
        from langorch.services.chains import chain_config
        chain_config(reg.config)
    elif reg.trigger_type == "event":  # a broker address LangOrch consumes, type patterns, filter
        from langorch.scheduling.event_bus import check_event_config
        check_event_config(reg.config)


def arm(reg: TriggerRegistration, at: datetime | None = None) -> None:
    """Store the next fire time of a schedule (None: nothing more to fire)."""
    schedule = schedule_of(reg)
    reg.next_fire_at = schedule.next_after(at or now()) if schedule is not None and reg.enabled else None


async def get(session: AsyncSession, trigger_id: str) -> TriggerRegistration:
    reg = await session.get(TriggerRegistration, trigger_id)
    if reg is None:
        raise NotFound(f"trigger {trigger_id!r} not found", details={"trigger_id": trigger_id})
    return reg


async def list_triggers(session: AsyncSession, *, procedure_id: str | None = None, trigger_type: str | None = None,
                        enabled: bool | None = None, limit: int = 100,
                        offset: int = 0) -> tuple[list[TriggerRegistration], int]:
    stmt = select(TriggerRegistration)
    if procedure_id:
        stmt = stmt.where(TriggerRegistration.procedure_id == procedure_id)
    if trigger_type:
        stmt = stmt.where(TriggerRegistration.trigger_type == trigger_type)
    if enabled is not None:
        stmt = stmt.where(TriggerRegistration.enabled == enabled)
    total = int((await session.execute(select(func.count()).select_from(stmt.subquery()))).scalar_one())
    rows = await session.scalars(stmt.order_by(TriggerRegistration.procedure_id, TriggerRegistration.created_at)
                                 .limit(limit).offset(offset))
    return list(rows), total


async def _procedure_exists(session: AsyncSession, procedure_id: str, version: str | None) -> None:
    stmt = select(Procedure.id).where(Procedure.procedure_id == procedure_id)
    if version:
        stmt = stmt.where(Procedure.version == version)
    if (await session.scalar(stmt.limit(1))) is None:
        which = f" version {version!r}" if version else ""
        raise _invalid("procedure_id", f"procedure {procedure_id!r}{which} does not exist")


async def create(session: AsyncSession, ring: KeyRing | None, fields: Mapping[str, Any], *,
                 created_by: str | None = None, source: str = "api") -> NewSecret:
    """A registration from validated fields; a webhook gets a generated secret (returned once)."""
    reg = TriggerRegistration(source=source, created_by=created_by, fire_count=0, **_defaults(fields))
    check(reg)
    await _procedure_exists(session, reg.procedure_id, reg.version)
    await _check_chain_cycle(session, reg)
    session.add(reg)
    await session.flush()
    arm(reg)
    secret = None
    if reg.trigger_type == "webhook" and ring is not None:
        secret = await _new_secret(session, ring, reg)
    await session.flush()
    return NewSecret(reg, secret)


async def _check_chain_cycle(session: AsyncSession, reg: TriggerRegistration) -> None:
    """A run_completed chain that would close a cycle of procedures is refused (422 naming it)."""
    if reg.trigger_type == "run_completed":
        from langorch.services.chains import check_cycle
        await check_cycle(session, reg)


def _defaults(fields: Mapping[str, Any]) -> dict[str, Any]:
    values = {"enabled": True, "misfire_grace_s": 300, "coalesce": True, "overlap": "allow", "max_concurrent": 0,
              "dedupe_window_s": 86400}
    values.update({k: v for k, v in fields.items() if v is not None})
    return values


async def update(session: AsyncSession, reg: TriggerRegistration, changes: Mapping[str, Any]) -> TriggerRegistration:
    for name, value in changes.items():
        setattr(reg, name, value)
    check(reg)
    await _check_chain_cycle(session, reg)
    if {"cron", "rrule", "at", "timezone", "enabled"} & set(changes):
        arm(reg)
    reg.updated_at = utcnow()
    await session.flush()
    return reg


async def set_enabled(session: AsyncSession, reg: TriggerRegistration, enabled: bool) -> TriggerRegistration:
    """Pause or resume; a resumed schedule continues from now (no catch-up for the pause)."""
    reg.enabled = enabled
    arm(reg)
    reg.updated_at = utcnow()
    await session.flush()
    return reg


async def remove(session: AsyncSession, reg: TriggerRegistration) -> None:
    await session.execute(delete(StoredSecret).where(StoredSecret.scope == SECRET_SCOPE,
                                                     StoredSecret.name.in_(_secret_names(reg))))
    await session.execute(delete(TriggerFire).where(TriggerFire.trigger_id == reg.id))
    await session.delete(reg)
    await session.flush()


async def history(session: AsyncSession, trigger_id: str, *, limit: int = 100,
                  offset: int = 0) -> tuple[list[TriggerFire], int]:
    stmt = select(TriggerFire).where(TriggerFire.trigger_id == trigger_id)
    total = int((await session.execute(select(func.count()).select_from(stmt.subquery()))).scalar_one())
    rows = await session.scalars(stmt.order_by(TriggerFire.id.desc()).limit(limit).offset(offset))
    return list(rows), total


# -- webhook secrets ---------------------------------------------------------------------------

def _secret_names(reg: TriggerRegistration) -> list[str]:
    return [f"webhook.{reg.id}", f"webhook.{reg.id}.previous"]


async def _store(session: AsyncSession, ring: KeyRing, name: str, value: str) -> None:
    row = await session.scalar(select(StoredSecret).where(StoredSecret.scope == SECRET_SCOPE,
                                                          StoredSecret.name == name))
    version = (row.version + 1) if row is not None else 1
    ciphertext, fingerprint = ring.seal(SECRET_SCOPE, name, version, value)
    if row is None:
        session.add(StoredSecret(scope=SECRET_SCOPE, name=name, version=version, ciphertext=ciphertext,
                                 key_fingerprint=fingerprint, description="webhook signing secret"))
    else:
        row.version, row.ciphertext, row.key_fingerprint = version, ciphertext, fingerprint


async def _new_secret(session: AsyncSession, ring: KeyRing, reg: TriggerRegistration) -> str:
    value = "whsec_" + pysecrets.token_urlsafe(32)
    await _store(session, ring, f"webhook.{reg.id}", value)
    reg.secret = f"webhook.{reg.id}"
    return value


async def rotate_secret(session: AsyncSession, ring: KeyRing, reg: TriggerRegistration,
                        grace: timedelta = ROTATION_GRACE) -> str:
    """A new secret (returned once); the old one stays valid for ``grace``."""
    if reg.trigger_type != "webhook":
        raise _invalid("trigger_type", "only webhook triggers have a secret")
    current = await webhook_secrets(session, ring, reg)
    if current:
        await _store(session, ring, f"webhook.{reg.id}.previous", current[0])
        reg.previous_secret = f"webhook.{reg.id}.previous"
        reg.previous_secret_until = now() + grace
    value = await _new_secret(session, ring, reg)
    reg.updated_at = utcnow()
    await session.flush()
    return value


async def webhook_secrets(session: AsyncSession, ring: KeyRing, reg: TriggerRegistration) -> list[str]:
    """The secrets a delivery may be signed with: the current one, and the previous one during
    its grace period."""
    names = [reg.secret] if reg.secret else []
    if reg.previous_secret and reg.previous_secret_until and reg.previous_secret_until > now():
        names.append(reg.previous_secret)
    out = []
    for name in names:
        row = await session.scalar(select(StoredSecret).where(StoredSecret.scope == SECRET_SCOPE,
                                                              StoredSecret.name == name))
        if row is not None:
            out.append(ring.open(row))
    return out


# -- registrations derived from the CKP --------------------------------------------------------

def _from_ckp(trigger: Mapping[str, Any]) -> dict[str, Any] | None:
    kind = str(trigger.get("type") or "manual")
    if kind == "manual":
        return None
    fields: dict[str, Any] = {"trigger_type": kind, "name": f"{kind} (from the procedure)"}
    if kind == "scheduled":
        at = trigger.get("at")
        when = None
        if isinstance(at, str):
            try:
                when = datetime.fromisoformat(at.strip().replace("Z", "+00:00"))
            except ValueError:
                when = None
        fields.update(cron=trigger.get("schedule"), rrule=trigger.get("rrule"), at=when,
                      timezone=trigger.get("timezone"))
    config = {k: v for k, v in trigger.items() if k.endswith("_config") and isinstance(v, Mapping)}
    if config:
        fields["config"] = dict(config)
    return fields


async def sync_ckp_triggers(session: AsyncSession, ring: KeyRing | None, procedure_id: str) -> None:
    """Make the ``ckp`` registration of ``procedure_id`` match its active version (latest
    active one), keeping its id, state and secret while the trigger is unchanged."""
    active = await session.scalar(select(Procedure).where(Procedure.procedure_id == procedure_id,
                                                          Procedure.status == "active")
                                  .order_by(Procedure.created_at.desc()).limit(1))
    existing = list(await session.scalars(select(TriggerRegistration).where(
        TriggerRegistration.procedure_id == procedure_id, TriggerRegistration.source == "ckp")))
    wanted = None
    if active is not None and isinstance(active.ckp_json, Mapping):
        trigger = active.ckp_json.get("trigger")
        wanted = _from_ckp(trigger) if isinstance(trigger, Mapping) else None
    keep = None
    for reg in existing:
        same = wanted is not None and keep is None and all(getattr(reg, k) == v for k, v in wanted.items())
        if same and reg.version == active.version:  # type: ignore[union-attr]
            keep = reg
        else:
            await remove(session, reg)
    if wanted is not None and keep is None and active is not None:
        try:
            await create(session, ring, {**wanted, "procedure_id": procedure_id, "version": active.version},
                         source="ckp", created_by="procedure")
        except Invalid as exc:
            # A trigger the compiler accepts but this server cannot run (a watched folder outside
            # the allowed roots, a chain that closes a cycle): the version does not become active.
            fields = [{"field": f"trigger.{d.get('field')}", "message": d.get("message")}
                      for d in (exc.details if isinstance(exc.details, list) else []) if isinstance(d, dict)]
            raise Invalid(f"version {active.version} of {procedure_id!r} cannot be active: its trigger cannot be "
                          f"registered ({exc.message})", details=fields or None) from exc
