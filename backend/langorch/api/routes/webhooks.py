"""/api/triggers/webhook/{procedure_id}: signed deliveries that start runs. Anonymous — the
HMAC signature is the credential (see langorch.services.webhooks)."""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request, Response, status

from langorch.api.deps import Ctx, Session
from langorch.api.guard import auth_runtime, rate_limit_address
from langorch.api.runtime_deps import Runtime
from langorch.api.schemas.common import error_responses
from langorch.api.schemas.triggers import WebhookAccepted
from langorch.services import webhooks as service
from langorch.services.errors import Unauthenticated
from langorch.services.secret_store import keyring_for

router = APIRouter(prefix="/triggers/webhook", tags=["triggers"])

_BODY = {"requestBody": {"required": True, "description": "Any JSON object: it becomes the run's inputs (through "
                                                          "the trigger's input_mapping, when it has one).",
                         "content": {"application/json": {"schema": {"type": "object",
                                                                     "additionalProperties": True}}}}}


@router.post("/{procedure_id}", response_model=WebhookAccepted, status_code=status.HTTP_202_ACCEPTED,
             openapi_extra=_BODY,
             responses={200: {"model": WebhookAccepted, "description": "A repeated delivery: the run it started "
                                                                       "before (nothing new is created)"},
                        **error_responses(401, 403, 404, 409, 413, 422, 429, 503)})
async def receive_webhook(
    procedure_id: str, request: Request, response: Response, session: Session, rt: Runtime, ctx: Ctx,
    trigger: Annotated[str | None, Query(max_length=64, description="Which webhook trigger, when the procedure has "
                                                                     "several.")] = None,
    x_langorch_signature: Annotated[str | None, Header(max_length=200, description=(
        "sha256=<hex HMAC-SHA256 of the raw body, or of \"{timestamp}.{body}\" with X-LangOrch-Timestamp>"))] = None,
    x_langorch_timestamp: Annotated[str | None, Header(max_length=20, description="Unix seconds; refused when "
                                                                                  "more than 5 minutes off.")] = None,
    idempotency_key: Annotated[str | None, Header(max_length=300, description=(
        "The sender's delivery id: a repeat within the trigger's dedupe window starts nothing (else the payload "
        "itself is the key)."))] = None,
) -> Any:
    """Start a run from a signed delivery: 202 with the new run, 200 with the earlier run for a
    repeated delivery (same Idempotency-Key, else same payload, within the dedupe window).
    Bad or missing signature, or a stale timestamp → 401 and nothing stored; a sender outside
    ``allowed_sources`` → 403; ``max_concurrent`` unfinished runs → 429 with Retry-After; a body
    that is not a JSON object or does not fit the procedure's variables_schema → 422."""
    settings = ctx.settings.webhooks
    delivery = service.Delivery(body=await request.body(), signature=x_langorch_signature,
                                timestamp=x_langorch_timestamp, idempotency_key=idempotency_key,
                                source=request.client.host if request.client else None)
    try:
        reg, fired = await service.deliver(
            session, rt, keyring_for(ctx.settings.secrets), procedure_id, trigger, delivery,
            service.Freshness(now=time.time(), tolerance_s=settings.timestamp_tolerance_s,
                              require_timestamp=settings.require_timestamp))
    except Unauthenticated:
        # Badly signed deliveries share the per-address bucket of unauthenticated callers: a flood
        # of them gets 429 (not audited) rather than one audited 401 each.
        rate_limit_address(request, auth_runtime(request))
        raise
    deduplicated = fired.outcome == "deduplicated"
    if deduplicated:
        response.status_code = status.HTTP_200_OK
    return WebhookAccepted.model_validate({"run_id": fired.run_id, "trigger_id": reg.id, "outcome": fired.outcome,
                                           "deduplicated": deduplicated})
