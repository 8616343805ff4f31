"""/api routes: approvals — the inbox, one approval, a decision, and the inbox SSE stream."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from sse_starlette.sse import EventSourceResponse

from langorch.api.deps import Session
from langorch.api.guard import current_identity
from langorch.api.runtime_deps import Runtime
from langorch.api.schemas.approvals import ApprovalDecision, ApprovalRead
from langorch.api.schemas.common import Limit, Offset, error_responses, set_total
from langorch.services import approval_rules, streams
from langorch.services import approvals as service
from langorch.store.models import Approval

router = APIRouter(prefix="/approvals", tags=["approvals"])

KEEPALIVE_S = 15


@router.get("", response_model=list[ApprovalRead], responses=error_responses(422))
async def list_approvals(
    response: Response, session: Session, limit: Limit = 100, offset: Offset = 0,
    status_filter: Annotated[str | None, Query(alias="status", max_length=200,
                                               description="Comma list: pending,approved,rejected,…")] = None,
    run_id: Annotated[str | None, Query(max_length=64)] = None,
    node_id: Annotated[str | None, Query(max_length=400)] = None,
) -> list[Approval]:
    """Pending first, then newest first; the unpaginated count is in ``X-Total-Count``."""
    statuses = [s.strip() for s in (status_filter or "").split(",") if s.strip()]
    rows, total = await service.list_approvals(session, service.ApprovalFilters(statuses, run_id, node_id),
                                               limit=limit, offset=offset)
    set_total(response, total)
    return rows


@router.get("/stream", responses={200: {"content": {"text/event-stream": {}},
                                        "description": "event: approval_update, data: {action, approval}"}})
async def stream_approvals(rt: Runtime) -> Response:
    """Inbox changes as they happen: ``action`` is created, decided, expired or canceled."""

    async def sse() -> Any:
        yield {"event": "ready", "data": "{}"}
        async for change in streams.follow_approvals(rt):
            row = change.pop("approval")
            change["approval"] = ApprovalRead.model_validate(row).model_dump(mode="json") if row else None
            yield {"event": "approval_update", "data": json.dumps(change, default=str)}

    return EventSourceResponse(sse(), ping=KEEPALIVE_S, headers={"Cache-Control": "no-cache",
                                                                  "X-Accel-Buffering": "no"})


@router.get("/{approval_id}", response_model=ApprovalRead, responses=error_responses(404))
async def get_approval(approval_id: str, session: Session) -> Approval:
    return await service.get_approval(session, approval_id)


@router.post("/{approval_id}/decision", response_model=ApprovalRead, responses=error_responses(403, 404, 409, 422))
async def decide(approval_id: str, body: ApprovalDecision, request: Request, session: Session,
                 rt: Runtime) -> Approval:
    """Record the decision, under the caller's name, and resume exactly this gate of the run (via the
    queue). A second decision gets 409 with the first one in ``error.details.first_decision``; a caller
    the node's approval_level, approvers or approver_groups exclude gets 403."""
    identity = current_identity(request)
    request.state.audit_details = {"decision": body.decision or body.status}
    return await service.decide(session, rt, approval_id, service.Decision(
        decision=body.decision, status=body.status, decided_by=identity.name, comment=body.comment,
        payload=body.payload), approval_rules.Decider(
        identity.name, identity.names(), identity.groups, is_admin=identity.role == "admin"))
