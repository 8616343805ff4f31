"""/api routes: the audit log — list with filters, export as JSON lines, verify the chain."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response
from fastapi.responses import StreamingResponse

from langorch.api.deps import Ctx, Session
from langorch.api.schemas.audit import AuditEntryRead, AuditVerification
from langorch.api.schemas.common import Limit, Offset, error_responses, set_total
from langorch.services import audit as service
from langorch.services.errors import Invalid
from langorch.store.models import AuditEntry

router = APIRouter(prefix="/audit", tags=["audit"])


def _filters(actor: Annotated[str | None, Query(max_length=200)] = None,
             action: Annotated[str | None, Query(max_length=64, description="An action, or a prefix ending in "
                                                                           "'.' (run. for every run action)")] = None,
             subject_type: Annotated[str | None, Query(max_length=32)] = None,
             subject_id: Annotated[str | None, Query(max_length=400)] = None,
             project_id: Annotated[str | None, Query(max_length=64)] = None,
             since: Annotated[datetime | None, Query(description="At or after (ISO 8601)")] = None,
             until: Annotated[datetime | None, Query(description="Before (ISO 8601)")] = None,
             ) -> service.AuditFilters:
    texts = {"actor": actor, "action": action, "subject_type": subject_type, "subject_id": subject_id,
             "project_id": project_id}
    bad = [name for name, value in texts.items() if value is not None and "\x00" in value]
    if bad:  # no stored value holds one, and PostgreSQL refuses them in a query
        raise Invalid("filters may not contain NUL characters",
                      details=[{"field": name, "message": "contains a NUL character"} for name in bad])
    return service.AuditFilters(actor=actor, action=action, subject_type=subject_type, subject_id=subject_id,
                                project_id=project_id, since=since, until=until)


Filters = Annotated[service.AuditFilters, Depends(_filters)]


@router.get("", response_model=list[AuditEntryRead], responses=error_responses(422))
async def list_audit(session: Session, response: Response, filters: Filters,
                     limit: Limit = 100, offset: Offset = 0) -> list[AuditEntry]:
    """Entries newest first; ``X-Total-Count`` carries the count before paging."""
    rows, total = await service.list_entries(session, filters, limit=limit, offset=offset)
    set_total(response, total)
    return rows


@router.get("/export", responses={200: {"content": {"application/x-ndjson": {}},
                                        "description": "One entry per line, oldest first."},
                                  **error_responses(422)})
async def export_audit(ctx: Ctx, filters: Filters) -> StreamingResponse:
    """The matching entries as JSON lines (streamed), oldest first, with their hashes: the last
    line's ``seq`` and ``hash`` are an anchor for a later verification."""

    async def lines() -> AsyncIterator[bytes]:
        async for entry in service.export_entries(ctx.sessions, filters):
            yield json.dumps(entry, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n"

    return StreamingResponse(lines(), media_type="application/x-ndjson",
                             headers={"Content-Disposition": 'attachment; filename="audit.ndjson"'})


@router.get("/verify", response_model=AuditVerification, responses=error_responses(422))
async def verify_audit(session: Session, anchor: Annotated[list[str] | None, Query(
        max_length=20, description="SEQ:HASH of an entry seen before (repeatable): the chain must still hold "
                                   "it; catches a truncated or rewritten log.")] = None) -> dict[str, Any]:
    """Walk the hash chain from entry 1: ``ok``, how many entries are intact, and the first bad one."""
    anchors: list[service.Anchor] = []
    for value in anchor or []:
        try:
            anchors.append(service.Anchor.parse(value))
        except ValueError as exc:
            raise Invalid(str(exc), details=[{"field": "anchor", "message": str(exc)}]) from exc
    result = await service.verify(session, anchors)
    return {"ok": result.ok, "checked": result.checked, "first_bad_seq": result.first_bad_seq,
            "problem": result.problem, "head_seq": result.head_seq, "head_hash": result.head_hash}
