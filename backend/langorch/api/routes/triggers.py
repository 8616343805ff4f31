"""/api/triggers: trigger registrations — list, read, create, change, delete, pause and
resume, fire now, the next fire times, fire history and webhook secret rotation. The
signed webhook endpoint itself is in routes/webhooks.py."""

from __future__ import annotations

import contextlib
import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Header, Query, Request, Response, status

from langorch.api.deps import Ctx, Session
from langorch.api.guard import current_identity
from langorch.api.runtime_deps import Runtime
from langorch.api.schemas.common import Limit, Offset, error_responses, set_total
from langorch.api.schemas.triggers import (
    FireResult,
    FireTime,
    NextFires,
    SchedulePreview,
    SchedulePreviewRequest,
    SecretRotated,
    TriggerCreate,
    TriggerCreated,
    TriggerFireRead,
    TriggerRead,
    TriggerType,
    TriggerUpdate,
)
from langorch.scheduling.schedules import Schedule, ScheduleError, describe, zone
from langorch.services import trigger_fire, triggers
from langorch.services.errors import Conflict, Invalid
from langorch.services.secret_store import keyring_for
from langorch.services.webhooks import check_sources
from langorch.store.models import TriggerRegistration

router = APIRouter(prefix="/triggers", tags=["triggers"])

WEBHOOK_PATH = "/api/triggers/webhook/{procedure_id}"
CKP_FIELDS = frozenset({"trigger_type", "name", "cron", "rrule", "timezone", "config", "version"})
"""Fields of a ``source = ckp`` registration that come from the CKP (change the CKP instead)."""
MAX_NEXT = 100


def read(reg: TriggerRegistration) -> dict[str, Any]:
    """A registration as answered: no secret; its webhook URL and schedule in words."""
    out = TriggerRead.model_validate(reg).model_dump()
    out["has_secret"] = bool(reg.secret)
    out["previous_secret_until"] = reg.previous_secret_until if reg.previous_secret else None
    if reg.trigger_type == "webhook":
        out["webhook_url"] = WEBHOOK_PATH.format(procedure_id=reg.procedure_id)
    out["schedule_description"] = _description(reg)
    return out


def _description(reg: TriggerRegistration) -> str | None:
    try:
        schedule = triggers.schedule_of(reg)
    except ScheduleError:
        return None
    return describe(schedule) if schedule is not None else None


def _fields(body: TriggerCreate | TriggerUpdate, sent: set[str], timezone: str | None = None) -> dict[str, Any]:
    """The body's fields as the service takes them: a naive ``at`` is on the trigger's wall clock."""
    fields = {name: getattr(body, name) for name in sent}
    at = fields.get("at")
    if isinstance(at, datetime) and at.tzinfo is None:
        with contextlib.suppress(ScheduleError):  # the service names the timezone field
            fields["at"] = at.replace(tzinfo=zone(fields.get("timezone", timezone)))
    config = fields.get("config")
    if isinstance(config, dict) and "webhook_config" in config:
        if not isinstance(config["webhook_config"], dict):
            raise Invalid("config.webhook_config: an object", details=[{"field": "config.webhook_config",
                                                                       "message": "an object"}])
        check_sources(config["webhook_config"].get("allowed_sources"))
    return fields


@router.get("", response_model=list[TriggerRead], responses=error_responses(422))
async def list_triggers(
    session: Session, response: Response, limit: Limit = 100, offset: Offset = 0,
    procedure_id: Annotated[str | None, Query(max_length=200)] = None,
    trigger_type: TriggerType | None = None,
    enabled: Annotated[bool | None, Query(description="true: active ones; false: paused ones.")] = None,
) -> list[dict[str, Any]]:
    """Registrations by procedure; ``X-Total-Count`` carries the total before paging."""
    rows, total = await triggers.list_triggers(session, procedure_id=procedure_id, trigger_type=trigger_type,
                                               enabled=enabled, limit=limit, offset=offset)
    set_total(response, total)
    return [read(row) for row in rows]


@router.post("", response_model=TriggerCreated, status_code=status.HTTP_201_CREATED,
             responses=error_responses(422, 503))
async def create_trigger(body: TriggerCreate, request: Request, session: Session, ctx: Ctx) -> dict[str, Any]:
    """Register a trigger. A webhook gets a signing secret, in this answer only. A schedule,
    type or procedure that does not check out → 422 naming the field."""
    ring = keyring_for(ctx.settings.secrets)
    made = await triggers.create(session, ring, _fields(body, body.model_fields_set | {"procedure_id",
                                                                                        "trigger_type"}),
                                 created_by=current_identity(request).name)
    await session.commit()
    return {**read(made.trigger), "secret": made.secret}


@router.get("/{trigger_id}", response_model=TriggerRead, responses=error_responses(404))
async def get_trigger(trigger_id: str, session: Session) -> dict[str, Any]:
    return read(await triggers.get(session, trigger_id))


@router.put("/{trigger_id}", response_model=TriggerRead, responses=error_responses(404, 409, 422))
async def update_trigger(trigger_id: str, body: TriggerUpdate, session: Session) -> dict[str, Any]:
    """Change the fields sent. A trigger derived from the CKP (``source: ckp``) keeps what the
    CKP says (type, name, schedule, timezone, config, version → 409); its dedupe, overlap,
    concurrency and input mapping can change."""
    reg = await triggers.get(session, trigger_id)
    changes = _fields(body, set(body.model_fields_set), reg.timezone)
    if reg.source == "ckp":
        fixed = sorted(name for name in CKP_FIELDS & set(changes) if changes[name] != getattr(reg, name))
        if fixed:
            raise Conflict(f"{', '.join(fixed)} of this trigger come from the procedure's CKP; change the CKP "
                           "(or pause the trigger)", details={"fields": fixed, "source": "ckp"})
    reg = await triggers.update(session, reg, changes)
    await session.commit()
    return read(reg)


@router.delete("/{trigger_id}", status_code=status.HTTP_204_NO_CONTENT, responses=error_responses(404, 409))
async def delete_trigger(trigger_id: str, session: Session) -> Response:
    """Remove a trigger with its history and secrets. One derived from the CKP → 409 (it would
    come back with the active version: pause it, or change the CKP)."""
    reg = await triggers.get(session, trigger_id)
    if reg.source == "ckp":
        raise Conflict("this trigger comes from the procedure's active version; pause it, or remove the trigger "
                       "from the CKP", details={"source": "ckp"})
    await triggers.remove(session, reg)
    await session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{trigger_id}/enable", response_model=TriggerRead, responses=error_responses(404))
async def enable_trigger(trigger_id: str, session: Session) -> dict[str, Any]:
    """Resume: a schedule continues from now (the paused time is not caught up)."""
    reg = await triggers.set_enabled(session, await triggers.get(session, trigger_id), True)
    await session.commit()
    return read(reg)


@router.post("/{trigger_id}/disable", response_model=TriggerRead, responses=error_responses(404))
async def disable_trigger(trigger_id: str, session: Session) -> dict[str, Any]:
    """Pause: nothing fires (webhook deliveries get 404) until it is resumed."""
    reg = await triggers.set_enabled(session, await triggers.get(session, trigger_id), False)
    await session.commit()
    return read(reg)


@router.post("/{trigger_id}/fire", response_model=FireResult, responses=error_responses(404, 409, 422))
async def fire_trigger(
    trigger_id: str, request: Request, session: Session, rt: Runtime,
    payload: Annotated[dict[str, Any] | None, Body(description="The payload, as a delivery would carry it "
                                                               "(mapped into inputs like one).")] = None,
    idempotency_key: Annotated[str | None, Header(max_length=300, description=(
        "Makes a repeated request start nothing; without it, every request fires."))] = None,
) -> FireResult:
    """Fire now, as the trigger would, by the caller. The answer is the fire's outcome: ``queued``
    with the new run, or why not (``skipped_overlap``, ``waiting``, ``refused_concurrency``,
    ``deduplicated``) — data, not errors. Inputs that do not fit → 422."""
    reg = await triggers.get(session, trigger_id)
    result = await trigger_fire.fire(session, rt, reg, payload=payload if payload is not None else {},
                                     triggered_by=current_identity(request).name,
                                     idempotency_key=idempotency_key or f"manual:{uuid.uuid4().hex}")
    return FireResult.model_validate({"outcome": result.outcome, "run_id": result.run_id, "detail": result.detail,
                                      "fire_id": result.fire_id, "created": result.created})


@router.post("/preview", response_model=SchedulePreview, responses=error_responses(422))
async def preview_schedule(body: SchedulePreviewRequest) -> SchedulePreview:
    """A schedule being edited, before it is saved: its description and next ``n`` fire times
    (changes nothing). 422 names the field that does not check out."""
    try:
        schedule = Schedule(cron=body.cron or None, rrule=body.rrule or None, at=body.at, timezone=body.timezone)
        instants = schedule.upcoming(datetime.now(UTC), body.n)
    except ScheduleError as exc:
        raise Invalid(f"{exc.field}: {exc.message}", details=[{"field": exc.field, "message": exc.message}]) \
            from exc
    tz = zone(body.timezone)
    return SchedulePreview(timezone=body.timezone, description=describe(schedule),
                           fires=[FireTime(utc=i, local=i.astimezone(tz)) for i in instants])


@router.get("/{trigger_id}/next-fires", response_model=NextFires, responses=error_responses(404, 422))
async def next_fires(
    trigger_id: str, session: Session,
    n: Annotated[int, Query(ge=1, le=MAX_NEXT, description="How many.")] = 10,
    after: Annotated[datetime | None, Query(description="Count from this instant (default now); without an "
                                                        "offset: UTC.")] = None,
) -> NextFires:
    """The next ``n`` fire times in UTC and on the trigger's wall clock, with the schedule in
    words. Triggers without a schedule have none."""
    reg = await triggers.get(session, trigger_id)
    tz_name = reg.timezone or "UTC"
    schedule = triggers.schedule_of(reg)
    start = after or datetime.now(UTC)
    start = start if start.tzinfo is not None else start.replace(tzinfo=UTC)
    if not 1970 <= start.year <= 9000:
        raise Invalid("after: between the years 1970 and 9000",
                      details=[{"field": "after", "message": "between the years 1970 and 9000"}])
    instants = schedule.upcoming(start, n) if schedule is not None else []
    tz = zone(tz_name)
    return NextFires(trigger_id=reg.id, enabled=reg.enabled, timezone=tz_name,
                     description=describe(schedule) if schedule is not None else None,
                     fires=[FireTime(utc=i, local=i.astimezone(tz)) for i in instants])


@router.get("/{trigger_id}/history", response_model=list[TriggerFireRead], responses=error_responses(404, 422))
async def trigger_history(trigger_id: str, session: Session, response: Response, limit: Limit = 100,
                          offset: Offset = 0) -> list[Any]:
    """Fires, newest first, with their outcome and run; ``X-Total-Count`` carries the total."""
    await triggers.get(session, trigger_id)
    rows, total = await triggers.history(session, trigger_id, limit=limit, offset=offset)
    set_total(response, total)
    return rows


@router.post("/{trigger_id}/rotate-secret", response_model=SecretRotated, responses=error_responses(404, 422, 503))
async def rotate_secret(trigger_id: str, session: Session, ctx: Ctx) -> SecretRotated:
    """A new webhook signing secret, shown only in this answer. Deliveries signed with the
    previous one are accepted for 24 hours, so senders can switch without losing any."""
    reg = await triggers.get(session, trigger_id)
    secret = await triggers.rotate_secret(session, keyring_for(ctx.settings.secrets), reg)
    await session.commit()
    return SecretRotated(trigger_id=reg.id, secret=secret, previous_valid_until=reg.previous_secret_until)
