"""/api routes: runs — start, list, read, events, SSE stream, artifacts, diagnostics,
checkpoints, cancel, retry, delete, cleanup, metrics."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import unquote, urlparse

from fastapi import APIRouter, Header, Query, Request, Response, status
from fastapi.responses import FileResponse
from sse_starlette.sse import EventSourceResponse

from langorch.api.deps import Session
from langorch.api.guard import current_identity, may_start_run
from langorch.api.runtime_deps import Runtime
from langorch.api.schemas.common import Limit, Offset, error_responses, set_total
from langorch.api.schemas.runs import (
    ArtifactRead,
    CheckpointDetail,
    CheckpointRead,
    CleanupResult,
    RunCreate,
    RunDiagnostics,
    RunEventRead,
    RunMetrics,
    RunRead,
    RunRetry,
)
from langorch.ckp.ir import ProcedureIR
from langorch.services import checkpoints, streams
from langorch.services import runs as service
from langorch.services.errors import Invalid, NotFound
from langorch.services.events import list_events
from langorch.services.runtime_wiring import ServerRuntime
from langorch.store.models import Procedure, Run

router = APIRouter(prefix="/runs", tags=["runs"])

KEEPALIVE_S = 15


def _statuses(raw: str | None) -> list[str]:
    return [s.strip() for s in (raw or "").split(",") if s.strip()]


@router.post("", response_model=RunRead, status_code=status.HTTP_201_CREATED,
             responses=error_responses(404, 409, 413, 422))
async def create_run(body: RunCreate, request: Request, session: Session, rt: Runtime) -> Run:
    """Queue a run; ``input_vars`` are checked against the procedure's variables_schema
    (422 with one error per field). The run is committed before the answer. A production run
    needs the operator role, a test or dry_run run the author role; ``triggered_by`` is the caller."""
    return await service.create_run(session, rt, procedure_id=body.procedure_id,
                                    procedure_version=body.procedure_version, input_vars=body.input_vars,
                                    project_id=body.project_id, triggered_by=current_identity(request).name,
                                    mode=body.mode, may_start=lambda mode, project: may_start_run(request, mode,
                                                                                                  project))


@router.get("", response_model=list[RunRead], responses=error_responses(422))
async def list_runs(
    response: Response, session: Session, limit: Limit = 100, offset: Offset = 0,
    status_filter: Annotated[str | None, Query(alias="status", max_length=200,
                                               description="Comma list, e.g. running,waiting_approval")] = None,
    procedure_id: Annotated[str | None, Query(max_length=200)] = None,
    project_id: Annotated[str | None, Query(max_length=64)] = None,
    created_after: datetime | None = None, created_before: datetime | None = None,
    search: Annotated[str | None, Query(max_length=200, description="In run id, procedure id, error")] = None,
) -> list[Run]:
    """Newest first; the unpaginated count is in ``X-Total-Count``."""
    filters = service.RunFilters(status=_statuses(status_filter), procedure_id=procedure_id, project_id=project_id,
                                 created_after=created_after, created_before=created_before, search=search)
    rows, total = await service.list_runs(session, filters, limit=limit, offset=offset)
    set_total(response, total)
    return rows


@router.get("/metrics/summary", response_model=RunMetrics)
async def metrics_summary(session: Session) -> dict[str, Any]:
    """Counts by status, failure rate, and this week's runs, tokens and cost."""
    return await service.metrics_summary(session)


@router.delete("/cleanup/history", response_model=CleanupResult, responses=error_responses(422))
async def cleanup_history(
    session: Session, rt: Runtime, before: datetime | None = None,
    status_filter: Annotated[str | None, Query(alias="status", max_length=200,
                                               description="Comma list of finished states")] = None,
) -> dict[str, Any]:
    """Delete finished runs (with their events, approvals and checkpoints) created before ``before``."""
    return await service.cleanup_history(session, rt, before=before, statuses=_statuses(status_filter))


@router.get("/{run_id}", response_model=RunRead, responses=error_responses(404))
async def get_run(run_id: str, session: Session) -> Run:
    return await service.get_run(session, run_id)


@router.delete("/{run_id}", status_code=status.HTTP_204_NO_CONTENT, responses=error_responses(404, 409))
async def delete_run(run_id: str, session: Session, rt: Runtime) -> Response:
    """409 while the run is queued or running (cancel it first)."""
    await service.delete_run(session, rt, run_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{run_id}/cancel", response_model=RunRead, responses=error_responses(404, 409))
async def cancel_run(run_id: str, session: Session, rt: Runtime) -> Run:
    """A queued or waiting run is canceled at once; a running one within a second
    (``cancellation_requested`` is true until its worker stops it)."""
    return await service.cancel_run(session, rt, run_id)


@router.post("/{run_id}/retry", response_model=RunRead, status_code=status.HTTP_201_CREATED,
             responses=error_responses(404, 409, 422))
async def retry_run(run_id: str, request: Request, session: Session, rt: Runtime,
                    body: RunRetry | None = None) -> Run:
    """A new run (``retry_of``) of the same version that continues from the failed node,
    with ``input_vars`` merged over the old inputs."""
    body = body or RunRetry()
    return await service.retry_run(session, rt, run_id, body.input_vars, current_identity(request).name)


@router.get("/{run_id}/events", response_model=list[RunEventRead], responses=error_responses(404))
async def run_events(run_id: str, session: Session, after_seq: Annotated[int, Query(ge=0)] = 0,
                     limit: Annotated[int, Query(ge=1, le=10_000)] = 1000) -> list[dict[str, Any]]:
    """The timeline ordered by ``seq``, after ``after_seq``."""
    await service.get_run(session, run_id)
    return await list_events(session, run_id, after_seq=after_seq, limit=limit)


def _resume_point(header: str | None, query: str | None) -> int:
    raw = header if header not in (None, "") else query
    if raw in (None, ""):
        return 0
    try:
        value = int(str(raw).strip())
    except ValueError as exc:
        raise Invalid("Last-Event-ID must be the seq of the last event received",
                      details=[{"field": "last_event_id", "message": "must be an integer"}]) from exc
    return max(value, 0)


@router.get("/{run_id}/stream", responses={200: {"content": {"text/event-stream": {}},
                                                 "description": "Server-sent events; id = seq."},
                                           204: {"description": "The run is over and nothing is left to send."},
                                           **error_responses(404, 422)})
async def stream_run(run_id: str, rt: Runtime,
                     last_event_id: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
                     last_event_id_query: Annotated[str | None, Query(alias="last_event_id", max_length=20)] = None,
                     ) -> Response:
    """Replays events after ``Last-Event-ID`` (header or query), then follows live; ends
    with ``event: end`` after the run's terminal event."""
    after = _resume_point(last_event_id, last_event_id_query)
    run_status, highest = await streams.run_state(rt, run_id)
    if run_status is None:
        raise NotFound(f"run {run_id!r} not found", details={"run_id": run_id})
    if after and after >= highest and run_status in service.TERMINAL:
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    async def sse() -> Any:
        async for item in streams.follow_run(rt, run_id, after):
            if "end" in item:
                yield {"event": "end", "data": json.dumps({"run_id": run_id, "status": item["end"]})}
                return
            event = item["event"]
            yield {"id": str(event["seq"]), "data": json.dumps(event, default=str)}

    return EventSourceResponse(sse(), ping=KEEPALIVE_S, headers={"Cache-Control": "no-cache",
                                                                  "X-Accel-Buffering": "no"})


@router.get("/{run_id}/artifacts", response_model=list[ArtifactRead], responses=error_responses(404))
async def list_artifacts(run_id: str, session: Session) -> list[Any]:
    return await service.list_artifacts(session, run_id)


@router.get("/{run_id}/artifacts/{artifact_id}/content", response_class=FileResponse,
            responses={200: {"content": {"application/octet-stream": {}}}, **error_responses(404)})
async def artifact_content(run_id: str, artifact_id: str, session: Session) -> FileResponse:
    """The artifact's bytes, when it is a file this server can read."""
    artifact = await service.get_artifact(session, run_id, artifact_id)
    parsed = urlparse(artifact.uri)
    path = Path(unquote(parsed.path)) if parsed.scheme in ("file", "") else None
    if path is None or not path.is_file():
        raise NotFound(f"artifact {artifact_id!r} has no content stored on this server",
                       details={"uri": artifact.uri})
    return FileResponse(path, media_type=artifact.mime_type, filename=artifact.name)


@router.get("/{run_id}/diagnostics", response_model=RunDiagnostics, responses=error_responses(404))
async def diagnostics(run_id: str, session: Session) -> dict[str, Any]:
    """Last error, failed node, retries, step idempotency records, active leases, pending approvals, jobs."""
    return await service.run_diagnostics(session, run_id)


async def _ir_of(session: Session, rt: ServerRuntime, run: Run) -> ProcedureIR | None:
    row = await session.get(Procedure, run.procedure_row_id) if run.procedure_row_id else None
    return rt.cache.compile(row.id, run.ir_hash, row.ckp_json) if row is not None else None


@router.get("/{run_id}/checkpoints", response_model=list[CheckpointRead], responses=error_responses(404))
async def list_checkpoints(run_id: str, session: Session, rt: Runtime,
                           limit: Annotated[int, Query(ge=1, le=1000)] = 200) -> list[dict[str, Any]]:
    """The run's LangGraph checkpoints, newest first."""
    run = await service.get_run(session, run_id)
    return await checkpoints.list_checkpoints(rt.checkpointer, run.thread_id, await _ir_of(session, rt, run), limit)


@router.get("/{run_id}/checkpoints/{checkpoint_id}", response_model=CheckpointDetail,
            responses=error_responses(404))
async def get_checkpoint(run_id: str, checkpoint_id: str, session: Session, rt: Runtime) -> dict[str, Any]:
    """One checkpoint with the run state it holds (sensitive variables masked)."""
    run = await service.get_run(session, run_id)
    found = await checkpoints.get_checkpoint(rt.checkpointer, run.thread_id, checkpoint_id,
                                             await _ir_of(session, rt, run))
    if found is None:
        raise NotFound(f"checkpoint {checkpoint_id!r} of run {run_id!r} not found")
    return found
