"""Alert rules and their deliveries."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, Field

from langorch.api.schemas.common import ApiModel

AlertEventName = Literal["run_failed", "sla_breached", "step_error"]
_EMAIL = r"^[^@\s<>,;]{1,64}@[^@\s<>,;]{1,253}$"
EmailList = Annotated[list[Annotated[str, Field(pattern=_EMAIL, max_length=320)]], Field(max_length=50)]
_EVENTS_DOC = ("run_failed: a run ends failed; sla_breached: a node breaches its SLA; step_error: a step fails "
               "and an error handler with notify_on_error takes it.")


class AlertRuleCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    events: list[AlertEventName] = Field(min_length=1, max_length=3, description=_EVENTS_DOC)
    project_id: str | None = Field(default=None, max_length=64,
                                   description="Only this project's procedures (else every procedure).")
    procedure_id: str | None = Field(default=None, max_length=200,
                                     description="Only this procedure, every version (not with project_id).")
    webhook: bool = Field(default=False, description="POST the alert to the server's notification webhook "
                                                     "(LANGORCH_NOTIFY__WEBHOOK_URL), signed.")
    email_to: EmailList | None = Field(default=None, description="E-mail the alert to these addresses through "
                                                                  "the server's SMTP server.")
    enabled: bool = True


class AlertRuleUpdate(BaseModel):
    """Only the fields sent are changed; ``null`` clears project_id, procedure_id or email_to."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    events: list[AlertEventName] | None = Field(default=None, min_length=1, max_length=3)
    project_id: str | None = Field(default=None, max_length=64)
    procedure_id: str | None = Field(default=None, max_length=200)
    webhook: bool | None = None
    email_to: EmailList | None = None
    enabled: bool | None = None


class AlertRuleRead(ApiModel):
    rule_id: str
    name: str
    events: list[str]
    project_id: str | None = None
    procedure_id: str | None = None
    webhook: bool
    email_to: Annotated[list[str], BeforeValidator(lambda v: v or [])] = Field(default_factory=list)
    enabled: bool
    created_by: str | None = None
    created_at: datetime
    updated_at: datetime


class AlertDeliveryRead(ApiModel):
    delivery_id: str
    rule_id: str
    run_id: str
    seq: int = Field(description="The run event that raised the alert.")
    event_type: str
    channel: Literal["webhook", "email"]
    status: Literal["pending", "sending", "delivered", "failed"]
    attempts: int
    last_error: str | None = None
    next_attempt_at: datetime
    created_at: datetime
    delivered_at: datetime | None = None
    payload: dict[str, Any] = Field(description="What was (or will be) sent.")


class AlertChannels(BaseModel):
    """What this server can deliver alerts to (a rule may only name these)."""

    webhook: bool = Field(description="LANGORCH_NOTIFY__WEBHOOK_URL is set.")
    webhook_signed: bool = Field(description="LANGORCH_NOTIFY__WEBHOOK_SECRET is set: every POST is signed.")
    email: bool = Field(description="LANGORCH_NOTIFY__SMTP_HOST is set.")


class AlertTestResult(BaseModel):
    channel: Literal["webhook", "email"]
    ok: bool
    error: str | None = None
