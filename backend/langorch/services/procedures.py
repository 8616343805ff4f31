"""Procedures: import (compile, then store), list, read, replace, lifecycle and delete.

A stored procedure version is always one that compiled without errors. A version that
has runs is immutable (runs resume on exactly the definition they started with): it can
change status but not content, and is deleted only with ``force`` once no run of it is
still active. Every function that writes commits before it returns.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import defer

from langorch.ckp import CompileResult, Diagnostic, ProcedureIR
from langorch.services import projects, triggers
from langorch.services.ckp_compile import compile_document, version_key
from langorch.services.errors import Conflict, Invalid, NotFound
from langorch.store.models import Procedure, Run, TriggerRegistration, utcnow

STATUSES = ("draft", "active", "deprecated", "archived")
TRANSITIONS: Mapping[str, frozenset[str]] = {
    "draft": frozenset({"active"}),
    "active": frozenset({"deprecated"}),
    "deprecated": frozenset({"active", "archived"}),
    "archived": frozenset(),
}
"""Allowed lifecycle steps; setting the current status again is a no-op."""
UNFINISHED_RUN_STATUSES = ("queued", "running", "waiting_approval")

__all__ = [
    "STATUSES", "TRANSITIONS", "DuplicateVersion", "IdentityMismatch", "InvalidCkp", "InvalidTransition", "Saved",
    "VersionHasRuns", "compile_document", "compile_stored", "create", "delete_version", "find", "get",
    "import_document", "latest", "list_procedures", "run_counts", "set_status", "update", "version_key",
    "versions", "warnings_of",
]


class InvalidCkp(Invalid):
    """422: the CKP has compiler errors; ``details`` is the diagnostics list."""

    code = "invalid_ckp"


class IdentityMismatch(Invalid):
    """422: a procedure_id/version given beside the CKP (or in the path) differs from the CKP's."""

    code = "identity_mismatch"


class DuplicateVersion(Conflict):
    code = "duplicate_version"


class VersionHasRuns(Conflict):
    """409: the version has runs, so its definition can no longer change."""

    code = "version_has_runs"


class InvalidTransition(Conflict):
    code = "invalid_transition"


@dataclass
class Saved:
    """A stored version with the warnings its CKP compiled with."""

    row: Procedure
    warnings: list[Diagnostic]
    action: str = "created"
    """created | updated | unchanged (for imports)."""


# --------------------------------------------------------------------------- compiling
def _diagnostics(result: CompileResult) -> list[dict[str, Any]]:
    return [d.to_dict() for d in result.diagnostics]


async def _compile_or_raise(session: AsyncSession, document: dict[str, Any]) -> tuple[ProcedureIR, CompileResult]:
    result = await compile_document(session, document)
    if result.ir is None:
        count = len(result.errors)
        raise InvalidCkp(f"the CKP has {count} error(s); see details", details=_diagnostics(result))
    return result.ir, result


async def compile_stored(session: AsyncSession, row: Procedure) -> tuple[ProcedureIR, CompileResult]:
    """The IR of a stored version (422 if the compiler now rejects what it once accepted)."""
    return await _compile_or_raise(session, row.ckp_json)


# --------------------------------------------------------------------------- fields from the CKP
def _status_of(result: CompileResult) -> str:
    status = (result.procedure.status if result.procedure else None) or ""
    return status.lower() if status.lower() in STATUSES else "draft"


def _dump(value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    dumped: dict[str, Any] = value.model_dump(mode="json", exclude_none=True)
    return dumped


def _apply_document(row: Procedure, document: dict[str, Any], ir: ProcedureIR, result: CompileResult) -> None:
    proc = result.procedure
    assert proc is not None  # an IR exists only for a parsed document
    row.ckp_json = document
    row.ir_hash = ir.ir_hash
    row.description = proc.description or ir.description or None
    row.effective_date = proc.effective_date
    row.provenance = _dump(proc.provenance)
    row.retrieval_metadata = _dump(proc.retrieval_metadata)
    tags: list[str] = []
    for tag in [*(proc.tags or []), *((proc.retrieval_metadata.tags or []) if proc.retrieval_metadata else [])]:
        if isinstance(tag, str) and tag not in tags:
            tags.append(tag)
    row.tags = tags


def _check_identity(ir: ProcedureIR, procedure_id: str | None, version: str | None) -> None:
    problems = [{"field": name, "expected": expected, "ckp": actual}
                for name, expected, actual in (("procedure_id", procedure_id, ir.procedure_id),
                                               ("version", version, ir.version))
                if expected is not None and expected != actual]
    if problems:
        fields = " and ".join(str(p["field"]) for p in problems)
        verb = "does" if len(problems) == 1 else "do"
        raise IdentityMismatch(f"{fields} {verb} not match the CKP document", details=problems)


# --------------------------------------------------------------------------- reads
async def find(session: AsyncSession, procedure_id: str, version: str) -> Procedure | None:
    stmt = select(Procedure).where(Procedure.procedure_id == procedure_id, Procedure.version == version)
    return (await session.execute(stmt)).scalar_one_or_none()


async def get(session: AsyncSession, procedure_id: str, version: str) -> Procedure:
    row = await find(session, procedure_id, version)
    if row is None:
        raise NotFound(f"procedure {procedure_id!r} version {version!r} not found",
                       details={"procedure_id": procedure_id, "version": version})
    return row


async def versions(session: AsyncSession, procedure_id: str) -> list[Procedure]:
    """Every version of ``procedure_id``, newest first (404 when there is none)."""
    stmt = select(Procedure).options(defer(Procedure.ckp_json)).where(Procedure.procedure_id == procedure_id)
    rows = list((await session.execute(stmt)).scalars())
    if not rows:
        raise NotFound(f"procedure {procedure_id!r} not found", details={"procedure_id": procedure_id})
    return sorted(rows, key=lambda r: (version_key(r.version), r.created_at), reverse=True)


async def latest(session: AsyncSession, procedure_id: str) -> Procedure:
    newest = (await versions(session, procedure_id))[0]
    return await get(session, procedure_id, newest.version)


def _matches(row: Procedure, needle: str) -> bool:
    meta = row.retrieval_metadata or {}
    texts: list[Any] = [row.procedure_id, row.description, meta.get("business_domain"), *(row.tags or [])]
    for key in ("keywords", "primary_intents", "tags"):
        value = meta.get(key)
        if isinstance(value, list):
            texts.extend(value)
    return any(isinstance(t, str) and needle in t.casefold() for t in texts)


async def list_procedures(
    session: AsyncSession,
    *,
    search: str | None = None,
    status: str | None = None,
    project_id: str | None = None,
    tags: Iterable[str] = (),
    all_versions: bool = False,
    limit: int = 100,
    offset: int = 0,
) -> tuple[list[Procedure], int]:
    """A page of versions matching every filter, and the total before paging.

    Filters apply first; then, unless ``all_versions``, only the newest matching version
    of each procedure_id is kept. Ordered by procedure_id, newest version first.
    """
    stmt = select(Procedure).options(defer(Procedure.ckp_json))
    if status:
        stmt = stmt.where(Procedure.status == status)
    if project_id:
        stmt = stmt.where(Procedure.project_id == project_id)
    rows = list((await session.execute(stmt)).scalars())
    if search and search.strip():
        needle = search.strip().casefold()
        rows = [r for r in rows if _matches(r, needle)]
    wanted = {t.strip().casefold() for t in tags if t.strip()}
    if wanted:
        rows = [r for r in rows if wanted & {str(t).casefold() for t in (r.tags or [])}]
    rows.sort(key=lambda r: (version_key(r.version), r.created_at), reverse=True)
    if not all_versions:
        newest: dict[str, Procedure] = {}
        for row in rows:
            newest.setdefault(row.procedure_id, row)
        rows = list(newest.values())
    rows.sort(key=lambda r: r.procedure_id)
    return rows[offset:offset + limit], len(rows)


async def run_counts(session: AsyncSession, rows: Iterable[Procedure]) -> dict[tuple[str, str], int]:
    """Runs per (procedure_id, version) for ``rows``."""
    ids = {r.procedure_id for r in rows}
    if not ids:
        return {}
    stmt = (select(Run.procedure_id, Run.procedure_version, func.count())
            .where(Run.procedure_id.in_(ids)).group_by(Run.procedure_id, Run.procedure_version))
    return {(pid, ver): int(n) for pid, ver, n in (await session.execute(stmt)).all()}


async def _run_count(session: AsyncSession, procedure_id: str, version: str, *, unfinished: bool = False) -> int:
    stmt = select(func.count()).select_from(Run).where(Run.procedure_id == procedure_id,
                                                       Run.procedure_version == version)
    if unfinished:
        stmt = stmt.where(Run.status.in_(UNFINISHED_RUN_STATUSES))
    return int((await session.execute(stmt)).scalar_one())


async def warnings_of(session: AsyncSession, row: Procedure) -> list[Diagnostic]:
    """The compiler's current warnings for a stored version (subflows may have appeared since)."""
    result = await compile_document(session, row.ckp_json)
    return result.warnings


# --------------------------------------------------------------------------- writes
async def create(
    session: AsyncSession,
    document: dict[str, Any],
    *,
    project_id: str | None = None,
    procedure_id: str | None = None,
    version: str | None = None,
    status: str | None = None,
    created_by: str | None = None,
    change_note: str | None = None,
) -> Saved:
    """Compile and store a new version; 422 with diagnostics. An identical document under an
    existing version is ``unchanged``; a different one is a 409, even when only its ``$ui``
    annotations differ (same IR hash): the stored document is never silently kept in place
    of the one sent. ``change_note`` is stored with a new version only."""
    ir, result = await _compile_or_raise(session, document)
    _check_identity(ir, procedure_id, version)
    if project_id is not None:
        await projects.get(session, project_id, field="project_id")
    existing = await find(session, ir.procedure_id, ir.version)
    if existing is not None:
        if existing.ckp_json == document:
            return Saved(existing, result.warnings, "unchanged")
        raise DuplicateVersion(
            f"Version {ir.version} of {ir.procedure_id} already exists with different content. "
            "Save this document as a new version (change its \"version\"), or replace the stored one "
            "while it has no runs.",
            details={"id": existing.id, "procedure_id": ir.procedure_id, "version": ir.version})
    row = Procedure(procedure_id=ir.procedure_id, version=ir.version, status=status or _status_of(result),
                    project_id=project_id, created_by=created_by, change_note=change_note)
    _apply_document(row, document, ir, result)
    session.add(row)
    await session.flush()
    await _sync_triggers(session, ir.procedure_id)
    await session.commit()
    return Saved(row, result.warnings)


async def _ensure_no_runs(session: AsyncSession, row: Procedure) -> None:
    count = await _run_count(session, row.procedure_id, row.version)
    if count:
        raise VersionHasRuns(
            f"procedure {row.procedure_id!r} version {row.version!r} has {count} run(s) and can no longer "
            "change; save a new version instead",
            details={"procedure_id": row.procedure_id, "version": row.version, "run_count": count})


def _check_transition(row: Procedure, status: str) -> None:
    if status != row.status and status not in TRANSITIONS.get(row.status, frozenset()):
        allowed = sorted(TRANSITIONS.get(row.status, frozenset()))
        raise InvalidTransition(
            f"cannot move procedure {row.procedure_id!r} version {row.version!r} from {row.status} to {status}",
            details={"from": row.status, "to": status, "allowed": allowed})


async def update(
    session: AsyncSession,
    procedure_id: str,
    version: str,
    document: dict[str, Any],
    *,
    status: str | None = None,
    project_id: str | None = None,
    set_project: bool = False,
    change_note: str | None = None,
) -> Saved:
    """Replace the CKP of a version that has no runs (409 otherwise); ``change_note``, when
    given, replaces the version's note."""
    row = await get(session, procedure_id, version)
    await _ensure_no_runs(session, row)
    ir, result = await _compile_or_raise(session, document)
    _check_identity(ir, procedure_id, version)
    if status is not None:
        _check_transition(row, status)
        row.status = status
    if set_project:
        if project_id is not None:
            await projects.get(session, project_id, field="project_id")
        row.project_id = project_id
    if change_note is not None:
        row.change_note = change_note
    _apply_document(row, document, ir, result)
    row.updated_at = utcnow()
    await session.flush()
    await _sync_triggers(session, row.procedure_id)
    await session.commit()
    return Saved(row, result.warnings, "updated")


async def set_status(session: AsyncSession, procedure_id: str, version: str, status: str) -> Procedure:
    """Move a version along draft → active → deprecated → archived (deprecated → active too)."""
    row = await get(session, procedure_id, version)
    _check_transition(row, status)
    if status != row.status:
        row.status = status
        row.updated_at = utcnow()
        await session.flush()
        await _sync_triggers(session, procedure_id)
        await session.commit()
    return row


async def delete_version(session: AsyncSession, procedure_id: str, version: str, *, force: bool = False) -> None:
    """Delete a version. With runs: 409 unless ``force``; never while a run of it is unfinished.

    Forced deletion keeps the runs (their history stays readable); they lose the link to
    the definition, so a version is never deleted under a run that may still resume.
    """
    row = await get(session, procedure_id, version)
    count = await _run_count(session, procedure_id, version)
    if count and not force:
        raise VersionHasRuns(
            f"procedure {procedure_id!r} version {version!r} has {count} run(s); "
            "pass force=true to delete it anyway (the runs are kept)",
            details={"procedure_id": procedure_id, "version": version, "run_count": count})
    unfinished = await _run_count(session, procedure_id, version, unfinished=True) if count else 0
    if unfinished:
        raise VersionHasRuns(
            f"procedure {procedure_id!r} version {version!r} has {unfinished} unfinished run(s); "
            "cancel them or let them finish first",
            details={"procedure_id": procedure_id, "version": version, "unfinished_runs": unfinished})
    for reg in await session.scalars(select(TriggerRegistration).where(
            TriggerRegistration.procedure_id == procedure_id, TriggerRegistration.version == version)):
        await triggers.remove(session, reg)
    await session.delete(row)
    await session.flush()
    await _sync_triggers(session, procedure_id)
    await session.commit()


async def _sync_triggers(session: AsyncSession, procedure_id: str) -> None:
    """The procedure's ``trigger`` registration follows its active version (services/triggers.py)."""
    await triggers.sync_ckp_triggers(session, None, procedure_id)


async def import_document(
    session: AsyncSession,
    document: dict[str, Any],
    *,
    status: str | None = None,
    project_id: str | None = None,
    created_by: str | None = None,
) -> Saved:
    """Create, or replace an existing version when its definition changed and it has no runs.

    An existing version with the same IR hash is left alone (``unchanged``): that includes a
    file that differs from the stored document only in its UI-only ``$ui`` annotations, so
    re-importing the examples at start-up keeps the positions saved from the builder.
    """
    ir, result = await _compile_or_raise(session, document)
    row = await find(session, ir.procedure_id, ir.version)
    if row is None:
        return await create(session, document, project_id=project_id, status=status, created_by=created_by)
    if row.ir_hash == ir.ir_hash:
        if status is not None and status != row.status:
            row = await set_status(session, ir.procedure_id, ir.version, status)
        return Saved(row, result.warnings, "unchanged")
    return await update(session, ir.procedure_id, ir.version, document, status=status)

