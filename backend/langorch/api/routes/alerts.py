"""/api routes: alert rules (who hears about failed runs, SLA breaches, handled step errors)
and the record of their deliveries."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response, status

from langorch.api.deps import Session
from langorch.api.guard import current_identity
from langorch.api.runtime_deps import Runtime
from langorch.api.schemas.alerts import (
    AlertChannels,
    AlertDeliveryRead,
    AlertRuleCreate,
    AlertRuleRead,
    AlertRuleUpdate,
    AlertTestResult,
)
from langorch.api.schemas.common import Limit, Offset, error_responses, set_total
from langorch.runtime.errors import StepError
from langorch.services import alerts as service
from langorch.services.runtime_wiring import ServerRuntime

router = APIRouter(tags=["alerts"])


def _channels(rt: ServerRuntime) -> service.Channels:
    return service.Channels(rt.runner.services.notifier, rt.runner.services.mailer)


@router.get("/alert-channels", response_model=AlertChannels)
async def alert_channels(rt: Runtime) -> Any:
    """Which channels this server has for alerts (set by LANGORCH_NOTIFY__* on the server)."""
    notifier = rt.runner.services.notifier
    return AlertChannels(webhook=notifier is not None, webhook_signed=bool(getattr(notifier, "signed", False)),
                         email=rt.runner.services.mailer is not None)


@router.post("/alert-rules", response_model=AlertRuleRead, status_code=status.HTTP_201_CREATED,
             responses=error_responses(422))
async def create_rule(body: AlertRuleCreate, session: Session, rt: Runtime, request: Request) -> Any:
    """A rule; a channel the server has not configured, or an unknown project or procedure → 422."""
    return await service.create(session, body.model_dump(), _channels(rt),
                                created_by=current_identity(request).name)


@router.get("/alert-rules", response_model=list[AlertRuleRead], responses=error_responses(422))
async def list_rules(session: Session, response: Response, limit: Limit = 100, offset: Offset = 0,
                     project_id: Annotated[str | None, Query(max_length=64)] = None,
                     procedure_id: Annotated[str | None, Query(max_length=200)] = None) -> Any:
    """Rules, newest first; ``X-Total-Count`` carries the total."""
    rows, total = await service.list_rules(session, project_id=project_id, procedure_id=procedure_id,
                                           limit=limit, offset=offset)
    set_total(response, total)
    return rows


@router.get("/alert-rules/{rule_id}", response_model=AlertRuleRead, responses=error_responses(404))
async def get_rule(rule_id: str, session: Session) -> Any:
    return await service.get(session, rule_id)


@router.patch("/alert-rules/{rule_id}", response_model=AlertRuleRead, responses=error_responses(404, 422))
async def update_rule(rule_id: str, body: AlertRuleUpdate, session: Session, rt: Runtime) -> Any:
    """Change the fields sent."""
    return await service.update_rule(session, rule_id, body.model_dump(exclude_unset=True), _channels(rt))


@router.delete("/alert-rules/{rule_id}", status_code=status.HTTP_204_NO_CONTENT, responses=error_responses(404))
async def delete_rule(rule_id: str, session: Session) -> Response:
    """Delete a rule and its delivery history."""
    await service.delete_rule(session, rule_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/alert-rules/{rule_id}/test", response_model=list[AlertTestResult], responses=error_responses(404))
async def test_rule(rule_id: str, session: Session, rt: Runtime) -> Any:
    """Send a test alert on each of the rule's channels now, and say how each went."""
    rule = await service.get(session, rule_id)
    body = {"type": "alert", "alert": "test", "summary": f"Test alert of the rule {rule.name!r}",
            "rule": {"rule_id": rule.rule_id, "name": rule.name}, "run": {}, "event": {}}
    dispatcher = service.AlertDispatcher(rt.sessions, _channels(rt), postgres=rt.postgres)
    results = []
    for channel in (["webhook"] if rule.webhook else []) + (["email"] if rule.email_to else []):
        payload = {**body, "recipients": list(rule.email_to or [])} if channel == "email" else body
        try:
            await dispatcher.send(channel, payload, key=f"alert_test_{uuid.uuid4().hex}")
        except StepError as exc:
            results.append({"channel": channel, "ok": False, "error": str(exc)})
        else:
            results.append({"channel": channel, "ok": True})
    return results


@router.get("/alert-deliveries", response_model=list[AlertDeliveryRead], responses=error_responses(422))
async def list_deliveries(
    session: Session, response: Response, limit: Limit = 100, offset: Offset = 0,
    run_id: Annotated[str | None, Query(max_length=64)] = None,
    rule_id: Annotated[str | None, Query(max_length=64)] = None,
    status_: Annotated[Literal["pending", "sending", "delivered", "failed"] | None, Query(alias="status")] = None,
) -> Any:
    """Alert deliveries, newest first, by run, rule or status; ``X-Total-Count`` carries the total."""
    rows, total = await service.list_deliveries(session, run_id=run_id, rule_id=rule_id, status=status_,
                                                limit=limit, offset=offset)
    set_total(response, total)
    return rows
