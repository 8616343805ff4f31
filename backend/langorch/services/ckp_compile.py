"""Compiling CKP documents against the procedure store: subflows resolve to stored versions.

The compiler is pure and synchronous; the documents a CKP's subflows call (transitively)
are read from the database first, then the compiler runs in a thread.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from langorch.ckp import CompileResult, compile_data, compile_text
from langorch.store.models import Procedure

__all__ = ["compile_document", "version_key"]

_MAX_SUBFLOW_LOOKUPS = 256


def version_key(version: str) -> tuple[tuple[int, int, str], ...]:
    """Orders versions the way people read them: 1.10.0 after 1.9.0, numbers after words."""
    parts = re.split(r"[.\-+_]", version.strip().lstrip("vV"))
    return tuple((1, int(p), "") if p.isdigit() else (0, 0, p) for p in parts)


def _subflow_refs(doc: Any) -> set[tuple[str, str | None]]:
    """Every (procedure_id, version) a ``subflow`` node of ``doc`` calls, in any dialect."""
    found: set[tuple[str, str | None]] = set()
    stack: list[Any] = [doc]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            if value.get("type") == "subflow" and isinstance(value.get("procedure_id"), str):
                version = value.get("version")
                found.add((value["procedure_id"], version if isinstance(version, str) else None))
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    return found


async def _stored_document(session: AsyncSession, procedure_id: str, version: str | None) -> dict[str, Any] | None:
    stmt = select(Procedure.version, Procedure.created_at, Procedure.ckp_json).where(
        Procedure.procedure_id == procedure_id)
    if version is not None:
        stmt = stmt.where(Procedure.version == version)
    rows = (await session.execute(stmt)).all()
    if not rows:
        return None
    best = max(rows, key=lambda r: (version_key(r.version), r.created_at))
    doc: dict[str, Any] = best.ckp_json
    return doc


async def compile_document(session: AsyncSession, document: Any) -> CompileResult:
    """Compile ``document`` (an object, or JSON text) with subflows resolved from the store.

    The subflows it calls (transitively) are read first, so the compiler, which is
    synchronous and pure, runs in a thread without touching the database.
    """
    docs: dict[tuple[str, str | None], dict[str, Any]] = {}
    pending = _subflow_refs(document) if not isinstance(document, str | bytes) else set()
    seen: set[tuple[str, str | None]] = set()
    while pending and len(seen) < _MAX_SUBFLOW_LOOKUPS:
        ref = pending.pop()
        if ref in seen:
            continue
        seen.add(ref)
        doc = await _stored_document(session, *ref)
        if doc is not None:
            docs[ref] = doc
            pending |= _subflow_refs(doc) - seen

    def resolve(procedure_id: str, version: str | None) -> Mapping[str, Any] | None:
        return docs.get((procedure_id, version))

    if isinstance(document, str | bytes):
        return await asyncio.to_thread(compile_text, document, resolve)
    return await asyncio.to_thread(compile_data, document, resolve)
