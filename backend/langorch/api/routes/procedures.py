"""/api routes: procedures — import, list, versions, read, replace, delete, graph, explain,
lifecycle, validate and the CKP JSON Schema."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response, status

from langorch.api.deps import Session
from langorch.api.guard import current_identity
from langorch.api.schemas.common import DiagnosticOut, Limit, Offset, error_responses, set_total
from langorch.api.schemas.procedures import (
    ExplainRequest,
    ExplainResult,
    ProcedureCreate,
    ProcedureDetail,
    ProcedureGraph,
    ProcedureRead,
    ProcedureStatus,
    ProcedureStatusChange,
    ProcedureUpdate,
    ValidateRequest,
    ValidateResult,
)
from langorch.ckp import Diagnostic, ckp_json_schema
from langorch.services import procedure_graph
from langorch.services import procedures as service
from langorch.store.models import Procedure

router = APIRouter(prefix="/procedures", tags=["procedures"])


def _read(row: Procedure, counts: dict[tuple[str, str], int]) -> ProcedureRead:
    read = ProcedureRead.model_validate(row)
    read.run_count = counts.get((row.procedure_id, row.version), 0)
    return read


async def _detail(session: Session, row: Procedure, warnings: Iterable[Diagnostic]) -> ProcedureDetail:
    counts = await service.run_counts(session, [row])
    detail = ProcedureDetail.model_validate(row)
    detail.run_count = counts.get((row.procedure_id, row.version), 0)
    detail.warnings = [DiagnosticOut(**d.to_dict()) for d in warnings]
    return detail


@router.post("/validate", response_model=ValidateResult, responses=error_responses(413, 422))
async def validate_procedure(body: ValidateRequest, session: Session) -> ValidateResult:
    """Compile a posted CKP and return its diagnostics; nothing is saved."""
    result = await service.compile_document(session, body.ckp_json)
    proc = result.procedure
    return ValidateResult(valid=result.ir is not None,
                          diagnostics=[DiagnosticOut(**d.to_dict()) for d in result.diagnostics],
                          procedure_id=proc.procedure_id if proc else None, version=proc.version if proc else None,
                          ir_hash=result.ir.ir_hash if result.ir else None,
                          scopes=_scopes(result.scopes, body.scopes_for))


def _scopes(scopes: dict[str, list[str]], wanted: list[str] | None) -> dict[str, list[str]]:
    """The scopes of the ``wanted`` nodes that exist (all when None)."""
    if wanted is None:
        return scopes
    return {node_id: scopes[node_id] for node_id in wanted if node_id in scopes}


@router.get("/schema", response_model=dict[str, Any])
async def get_ckp_schema() -> dict[str, Any]:
    """The CKP JSON Schema (Draft 2020-12)."""
    return ckp_json_schema()


@router.post("", response_model=ProcedureDetail, status_code=status.HTTP_201_CREATED,
             responses={200: {"model": ProcedureDetail, "description": "Identical to a stored version"},
                        **error_responses(409, 413, 422)})
async def create_procedure(body: ProcedureCreate, request: Request, session: Session,
                           response: Response) -> ProcedureDetail:
    """Compile and store a CKP. Errors → 422 with the diagnostics in ``error.details``;
    the same document as a stored version → 200 with ``unchanged: true``; a different
    document under an existing procedure_id + version → 409; warnings come back with the
    version. ``created_by`` is the caller."""
    saved = await service.create(session, body.ckp_json, project_id=body.project_id,
                                 procedure_id=body.procedure_id, version=body.version, status=body.status,
                                 created_by=current_identity(request).name, change_note=body.change_note)
    detail = await _detail(session, saved.row, saved.warnings)
    if saved.action == "unchanged":
        response.status_code = status.HTTP_200_OK
        detail.unchanged = True
    return detail


@router.get("", response_model=list[ProcedureRead], responses=error_responses(422))
async def list_procedures(
    session: Session,
    response: Response,
    limit: Limit = 100,
    offset: Offset = 0,
    search: Annotated[str | None, Query(max_length=200, description="Substring of id, description, "
                                                                    "keywords, intents, domain or tags.")] = None,
    status_: Annotated[ProcedureStatus | None, Query(alias="status")] = None,
    project_id: Annotated[str | None, Query(max_length=64)] = None,
    tags: Annotated[str | None, Query(max_length=1000, description="Comma list; any tag matches.")] = None,
    all_versions: Annotated[bool, Query(description="Every version instead of the newest per id.")] = False,
) -> list[ProcedureRead]:
    """Procedures, newest matching version per procedure_id (``all_versions=true`` for all).
    ``X-Total-Count`` carries the total before paging."""
    rows, total = await service.list_procedures(
        session, search=search, status=status_, project_id=project_id,
        tags=(tags or "").split(","), all_versions=all_versions, limit=limit, offset=offset)
    set_total(response, total)
    counts = await service.run_counts(session, rows)
    return [_read(row, counts) for row in rows]


@router.get("/{procedure_id}/versions", response_model=list[ProcedureRead], responses=error_responses(404))
async def list_versions(procedure_id: str, session: Session, response: Response) -> list[ProcedureRead]:
    """Every version of a procedure, newest first."""
    rows = await service.versions(session, procedure_id)
    set_total(response, len(rows))
    counts = await service.run_counts(session, rows)
    return [_read(row, counts) for row in rows]


@router.get("/{procedure_id}", response_model=ProcedureDetail, responses=error_responses(404))
async def get_latest_version(procedure_id: str, session: Session) -> ProcedureDetail:
    """The newest version of a procedure, with its CKP."""
    row = await service.latest(session, procedure_id)
    return await _detail(session, row, await service.warnings_of(session, row))


@router.get("/{procedure_id}/{version}", response_model=ProcedureDetail, responses=error_responses(404))
async def get_version(procedure_id: str, version: str, session: Session) -> ProcedureDetail:
    """One version with its CKP and current compiler warnings."""
    row = await service.get(session, procedure_id, version)
    return await _detail(session, row, await service.warnings_of(session, row))


@router.put("/{procedure_id}/{version}", response_model=ProcedureDetail,
            responses=error_responses(404, 409, 413, 422))
async def update_version(procedure_id: str, version: str, body: ProcedureUpdate,
                         session: Session) -> ProcedureDetail:
    """Replace the CKP of a version. 409 once the version has runs: save a new version instead."""
    saved = await service.update(session, procedure_id, version, body.ckp_json, status=body.status,
                                 project_id=body.project_id, set_project="project_id" in body.model_fields_set,
                                 change_note=body.change_note)
    return await _detail(session, saved.row, saved.warnings)


@router.delete("/{procedure_id}/{version}", status_code=status.HTTP_204_NO_CONTENT,
               responses=error_responses(404, 409))
async def delete_version(procedure_id: str, version: str, session: Session,
                         force: Annotated[bool, Query(description="Delete even if finished runs exist.")] = False,
                         ) -> Response:
    """Delete a version. With runs: 409 unless ``force=true``; never while one of its runs is unfinished."""
    await service.delete_version(session, procedure_id, version, force=force)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{procedure_id}/{version}/graph", response_model=ProcedureGraph, responses=error_responses(404, 422))
async def get_graph(procedure_id: str, version: str, session: Session) -> dict[str, Any]:
    """Nodes and edges to draw, from the compiled IR."""
    row = await service.get(session, procedure_id, version)
    ir, _ = await service.compile_stored(session, row)
    return procedure_graph.graph(ir)


@router.post("/{procedure_id}/{version}/explain", response_model=ExplainResult,
             responses=error_responses(404, 422))
async def explain_version(procedure_id: str, version: str, session: Session,
                          body: ExplainRequest | None = None) -> dict[str, Any]:
    """Static analysis (a dry run that executes nothing): external calls, approvals, inputs,
    secrets and the most LLM calls a run can make."""
    row = await service.get(session, procedure_id, version)
    ir, result = await service.compile_stored(session, row)
    return procedure_graph.explain(ir, result, body.input_vars if body else None)


@router.patch("/{procedure_id}/{version}/status", response_model=ProcedureRead,
              responses=error_responses(404, 409, 422))
@router.post("/{procedure_id}/{version}/status", response_model=ProcedureRead,
             responses=error_responses(404, 409, 422))
async def change_status(procedure_id: str, version: str, body: ProcedureStatusChange,
                        session: Session) -> ProcedureRead:
    """Lifecycle: draft → active → deprecated → archived, and deprecated → active. Others → 409."""
    row = await service.set_status(session, procedure_id, version, body.status)
    return _read(row, await service.run_counts(session, [row]))
