"""Trigger registrations, their fires and signed webhook deliveries. No answer but the one
that makes a webhook secret (create, rotate-secret) ever contains it."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from langorch.api.schemas.common import ApiModel

TriggerType = Literal["scheduled", "webhook", "event", "file_watch", "run_completed"]
Overlap = Literal["skip", "queue", "allow"]
FireOutcome = Literal["queued", "deduplicated", "skipped_overlap", "waiting", "refused_concurrency", "failed",
                      "missed", "released", "canceled"]

_NOT_NULL = ("enabled", "misfire_grace_s", "coalesce", "overlap", "max_concurrent", "dedupe_window_s")


class _TriggerFields(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, max_length=200, description="What the trigger is for, for people.")
    version: str | None = Field(default=None, max_length=64,
                                description="The version its runs use; null: the procedure's active version at "
                                            "fire time.")
    enabled: bool | None = Field(default=None, description="false: paused (default true).")
    cron: str | None = Field(default=None, max_length=200,
                             description="scheduled: 5-field cron (minute hour day-of-month month day-of-week) on "
                                         "the wall clock of ``timezone``.")
    rrule: str | None = Field(default=None, max_length=2000,
                              description="scheduled: an RFC 5545 RRULE without DTSTART, e.g. "
                                          "FREQ=WEEKLY;BYDAY=MO;BYHOUR=9;BYMINUTE=0.")
    at: datetime | None = Field(default=None, description="scheduled: fire once at this time (without an offset: "
                                                          "in ``timezone``).")
    timezone: str | None = Field(default=None, max_length=64, description="IANA name, e.g. Europe/Berlin "
                                                                           "(default UTC).")
    misfire_grace_s: int | None = Field(default=None, ge=0, le=30 * 86400,
                                        description="An instant missed by more than this (downtime) is skipped "
                                                    "unless coalesced (default 300).")
    coalesce: bool | None = Field(default=None, description="After downtime, fire once for all missed instants "
                                                            "(default true).")
    overlap: Overlap | None = Field(default=None, description="While earlier runs of the trigger are unfinished: "
                                                              "skip the fire, queue it, or allow it (default).")
    max_concurrent: int | None = Field(default=None, ge=0, le=10_000,
                                       description="With overlap=allow: at most this many unfinished runs (0: no "
                                                   "limit); a webhook beyond it gets 429.")
    dedupe_window_s: int | None = Field(default=None, ge=0, le=365 * 86400,
                                        description="A delivery with the same Idempotency-Key (else the same "
                                                    "payload) within this window starts no second run "
                                                    "(default 86400).")
    input_mapping: dict[str, Any] | None = Field(default=None, description=(
        "The run's input_vars as templates over {payload, trigger, fired_at}, e.g. "
        "{\"order_id\": \"{{payload.order.id}}\"}; unset: a JSON-object payload is the inputs."))
    config: dict[str, Any] | None = Field(default=None, description=(
        "Type settings: webhook_config {allowed_sources: [IP or CIDR], authentication: {type: hmac, secret_ref: "
        "name in the procedure's secret_references}}, event_config, file_watch_config, chain settings."))


class TriggerCreate(_TriggerFields):
    procedure_id: str = Field(min_length=1, max_length=200)
    trigger_type: TriggerType


class TriggerUpdate(_TriggerFields):
    """Only the fields sent change; send ``null`` to clear a nullable one (e.g. ``cron`` when
    switching to ``rrule``)."""

    @model_validator(mode="after")
    def _no_null_for_required(self) -> TriggerUpdate:
        for name in _NOT_NULL:
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        return self


class TriggerRead(ApiModel):
    """A registration; never its secret."""

    id: str
    procedure_id: str
    version: str | None
    source: str = Field(description="ckp: derived from the active version's trigger (change the CKP to change it); "
                                    "api: made through the API or UI.")
    name: str | None
    trigger_type: str
    enabled: bool
    cron: str | None
    rrule: str | None
    at: datetime | None
    timezone: str | None
    misfire_grace_s: int
    coalesce: bool
    overlap: str
    max_concurrent: int
    dedupe_window_s: int
    input_mapping: dict[str, Any] | None
    config: dict[str, Any] | None
    next_fire_at: datetime | None
    last_fired_at: datetime | None
    last_run_id: str | None
    fire_count: int
    created_by: str | None
    created_at: datetime
    updated_at: datetime
    has_secret: bool = Field(default=False, description="webhook: a signing secret made by LangOrch exists.")
    previous_secret_until: datetime | None = Field(default=None, description="webhook: the secret replaced by the "
                                                                             "last rotation is accepted until then.")
    webhook_url: str | None = Field(default=None, description="webhook: where senders POST (path on this server).")
    schedule_description: str | None = Field(default=None, description="scheduled: the schedule in words.")


class TriggerCreated(TriggerRead):
    secret: str | None = Field(default=None, description="webhook: the signing secret, shown only in this answer.")


class SecretRotated(BaseModel):
    trigger_id: str
    secret: str = Field(description="The new signing secret, shown only in this answer.")
    previous_valid_until: datetime | None = Field(description="Deliveries signed with the previous secret are "
                                                              "accepted until then.")


class FireResult(BaseModel):
    """What a fire came to (an outcome, not an error: a skipped or refused fire is data)."""

    outcome: FireOutcome
    run_id: str | None = None
    detail: str | None = None
    fire_id: int | None = None
    created: bool = Field(description="A new run was queued.")


class FireTime(BaseModel):
    utc: datetime
    local: datetime = Field(description="The same instant on the trigger's wall clock (with its offset).")


class NextFires(BaseModel):
    trigger_id: str
    enabled: bool = Field(description="false: paused; these are the times it would fire once resumed.")
    timezone: str
    description: str | None = Field(description="The schedule in words; null for triggers without a schedule.")
    fires: list[FireTime]


class SchedulePreviewRequest(BaseModel):
    """A schedule not saved yet: exactly one of cron, rrule, at."""

    model_config = ConfigDict(extra="forbid")
    cron: str | None = Field(default=None, max_length=200)
    rrule: str | None = Field(default=None, max_length=2000)
    at: datetime | None = None
    timezone: str = Field(default="UTC", max_length=64)
    n: int = Field(default=10, ge=1, le=100)


class SchedulePreview(BaseModel):
    timezone: str
    description: str
    fires: list[FireTime]


class TriggerFireRead(ApiModel):
    id: int
    trigger_id: str
    fired_at: datetime
    scheduled_for: datetime | None
    outcome: str
    run_id: str | None
    payload_hash: str | None
    detail: str | None


class WebhookAccepted(BaseModel):
    run_id: str | None = Field(description="The run the delivery started (or, deduplicated, the one it started "
                                           "before); null when the fire waits or was skipped.")
    trigger_id: str
    outcome: FireOutcome
    deduplicated: bool = False
