"""The audit log: every mutating action, append-only, in a SHA-256 hash chain.

Entry ``seq`` (contiguous from 1) carries ``prev_hash`` (the hash of entry ``seq - 1``; 64
zeros for the first) and ``hash = sha256(prev_hash ‖ canonical JSON of its fields)``, the
fields being seq, at, actor, actor_kind, role, action, subject_type, subject_id,
project_id, request_id, outcome and details (:data:`HASHED_FIELDS`). Editing a row breaks
its own hash; inserting or deleting one breaks the seq run or the ``prev_hash`` link of the
next. :func:`verify` walks the chain and names the first entry that does not hold.

Truncating the tail leaves a shorter chain that is still valid, and someone who can write
to the database can recompute every hash after a change: no in-database record can tell.
Both are caught against an *anchor* kept outside the database — ``(seq, hash)`` of an
entry as a previous :func:`verify` reported it (or the last line of an export): the chain
must still reach that seq with that hash.

Appends are serialised: on PostgreSQL by a transaction-level advisory lock (held until the
appending transaction ends, so several API replicas and workers take turns), on SQLite by
taking the database's write lock before the head is read. A conflict on ``seq`` (a writer
that took no lock) is retried.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import math
import random
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, func, select, text
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from langorch.services.errors import Unavailable
from langorch.store.db import make_engine, make_sessionmaker
from langorch.store.models import AuditEntry

__all__ = ["GENESIS", "HASHED_FIELDS", "Anchor", "AuditFilters", "AuditRecord", "Verification", "append",
           "entry_hash", "export_entries", "head", "list_entries", "open_database", "record", "record_system",
           "verify"]

log = logging.getLogger(__name__)

GENESIS = "0" * 64
"""The ``prev_hash`` of entry 1."""
HASHED_FIELDS = ("seq", "at", "actor", "actor_kind", "role", "action", "subject_type", "subject_id", "project_id",
                 "request_id", "outcome", "details")
_LIMITS = {"actor": 200, "actor_kind": 16, "role": 16, "action": 64, "subject_type": 32, "subject_id": 400,
           "project_id": 64, "request_id": 64}
"""Column widths: values are cut to them before hashing, so what is stored is what was hashed."""
MAX_DETAILS_CHARS = 16_000
_PG_LOCK_KEY = int.from_bytes(hashlib.sha256(b"langorch.audit_log").digest()[:8], "big", signed=True)
_ATTEMPTS = 30
"""Appends tried when seq conflicts (a writer that took no lock got there first)."""
_BUSY_ATTEMPTS = 3
"""Appends tried when the database is busy or broke a deadlock (SQLite has already waited its busy timeout)."""


@dataclass(frozen=True)
class AuditRecord:
    """What to append; seq, at and the hashes are the log's own."""

    actor: str
    """Who: a username, an API key's name, a token's name, ``system`` or ``anonymous``."""
    actor_kind: str
    """user | api_key | token | system | anonymous."""
    action: str
    """What, as ``<subject>.<verb>``: ``run.cancel``, ``approval.decide``, ``auth.login``."""
    role: str | None = None
    """The actor's global role when it acted."""
    subject_type: str | None = None
    subject_id: str | None = None
    project_id: str | None = None
    request_id: str | None = None
    outcome: int | None = None
    """The HTTP status the action answered (200 for a system action that took effect)."""
    details: Mapping[str, Any] | None = None


def _clean_text(value: Any, limit: int | None = None) -> str | None:
    """Text PostgreSQL and SQLite both store as given: no NUL, no lone surrogates, within the column."""
    if value is None:
        return None
    out = str(value).replace("\x00", "\ufffd").encode("utf-8", "replace").decode("utf-8")
    return out[:limit] if limit else out


def _json_safe(value: Any, depth: int = 0) -> Any:
    """Details as JSON round-trips them (the hash is over what is stored and read back)."""
    if depth > 20:
        return _clean_text(value)
    if isinstance(value, Mapping):
        return {_clean_text(k) or "": _json_safe(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_json_safe(v, depth + 1) for v in value]
    if isinstance(value, bool) or value is None or isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return _clean_text(value)


def _details(details: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if not details:
        return None
    safe: dict[str, Any] = _json_safe(details)
    if len(json.dumps(safe, ensure_ascii=False)) > MAX_DETAILS_CHARS:
        preview = json.dumps(safe, ensure_ascii=False, sort_keys=True)[:MAX_DETAILS_CHARS // 2]
        return {"truncated": True, "preview": preview}
    return safe


def _at_text(at: datetime) -> str:
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def canonical_fields(entry: AuditEntry) -> bytes:
    """The canonical JSON the hash covers: sorted keys, no spaces, UTF-8, ``at`` in UTC to the µs."""
    values = {name: getattr(entry, name) for name in HASHED_FIELDS}
    values["at"] = _at_text(entry.at)
    return json.dumps(values, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode("utf-8")


def entry_hash(prev_hash: str, entry: AuditEntry) -> str:
    """``sha256(prev_hash ‖ canonical JSON of the entry's fields)`` as 64 hex digits."""
    return hashlib.sha256(prev_hash.encode("ascii", "replace") + canonical_fields(entry)).hexdigest()


async def _lock(session: AsyncSession) -> None:
    """Take the append lock for the rest of the session's transaction."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
    elif dialect == "sqlite":
        # A write statement makes SQLite take the database's write lock (waiting out the busy
        # timeout), so the head read next is the head this transaction will append to.
        await session.execute(text("UPDATE audit_log SET seq = seq WHERE 0 = 1"))


async def head(session: AsyncSession) -> tuple[int, str] | None:
    """(seq, hash) of the newest entry, or None for an empty log."""
    row = (await session.execute(select(AuditEntry.seq, AuditEntry.hash)
                                 .order_by(AuditEntry.seq.desc()).limit(1))).first()
    return (int(row[0]), str(row[1])) if row is not None else None


async def append(session: AsyncSession, entry: AuditRecord, *, at: datetime | None = None) -> AuditEntry:
    """Append ``entry`` in the session's transaction (the caller commits, or rolls back and
    the entry goes with the change it records). Holds the append lock until then."""
    await _lock(session)
    last = await head(session)
    seq, prev = (last[0] + 1, last[1]) if last else (1, GENESIS)
    moment = (at or datetime.now(UTC)).astimezone(UTC)
    row = AuditEntry(
        seq=seq, at=moment, actor=_clean_text(entry.actor, _LIMITS["actor"]) or "anonymous",
        actor_kind=_clean_text(entry.actor_kind, _LIMITS["actor_kind"]) or "anonymous",
        role=_clean_text(entry.role, _LIMITS["role"]), action=_clean_text(entry.action, _LIMITS["action"]) or "",
        subject_type=_clean_text(entry.subject_type, _LIMITS["subject_type"]),
        subject_id=_clean_text(entry.subject_id, _LIMITS["subject_id"]),
        project_id=_clean_text(entry.project_id, _LIMITS["project_id"]),
        request_id=_clean_text(entry.request_id, _LIMITS["request_id"]),
        outcome=int(entry.outcome) if entry.outcome is not None else None,
        details=_details(entry.details), prev_hash=prev)
    row.hash = entry_hash(prev, row)
    session.add(row)
    await session.flush()
    return row


async def record(sessions: async_sessionmaker[AsyncSession], entry: AuditRecord) -> AuditEntry:
    """Append ``entry`` in a transaction of its own, retrying a seq conflict or a busy database."""
    conflicts = busy = 0
    while True:
        async with sessions() as session:
            try:
                row = await append(session, entry)
                await session.commit()
                return row
            except (IntegrityError, OperationalError) as exc:
                await session.rollback()
                if isinstance(exc, IntegrityError):
                    conflicts += 1
                else:
                    busy += 1
                if conflicts >= _ATTEMPTS or busy >= _BUSY_ATTEMPTS:
                    raise
                log.info("audit append conflicted (%s); retrying", type(exc).__name__)
        # Jitter: writers that conflicted spread out instead of colliding again.
        await asyncio.sleep(random.uniform(0, 0.005 * min(conflicts + busy, 10)))


async def record_system(session: AsyncSession, action: str, *, subject_type: str | None = None,
                        subject_id: str | None = None, project_id: str | None = None, outcome: int = 200,
                        details: Mapping[str, Any] | None = None) -> AuditEntry:
    """Record what the system decided by itself (an approval timing out, approvals closed with
    their run, a trigger firing), in the caller's transaction: it commits with the change."""
    return await append(session, AuditRecord(actor="system", actor_kind="system", action=action,
                                             subject_type=subject_type, subject_id=subject_id,
                                             project_id=project_id, outcome=outcome, details=details))


# --------------------------------------------------------------------------- reading
@dataclass(frozen=True)
class AuditFilters:
    actor: str | None = None
    action: str | None = None
    """An action, or a prefix ending in ``.`` (``run.`` matches every run action)."""
    subject_type: str | None = None
    subject_id: str | None = None
    project_id: str | None = None
    since: datetime | None = None
    """Entries at or after this time."""
    until: datetime | None = None
    """Entries before this time."""


def _filtered(query: Select[Any], f: AuditFilters) -> Select[Any]:
    if f.actor:
        query = query.where(AuditEntry.actor == f.actor)
    if f.action:
        query = query.where(AuditEntry.action.startswith(f.action, autoescape=True) if f.action.endswith(".")
                            else AuditEntry.action == f.action)
    if f.subject_type:
        query = query.where(AuditEntry.subject_type == f.subject_type)
    if f.subject_id:
        query = query.where(AuditEntry.subject_id == f.subject_id)
    if f.project_id:
        query = query.where(AuditEntry.project_id == f.project_id)
    if f.since:
        query = query.where(AuditEntry.at >= f.since)
    if f.until:
        query = query.where(AuditEntry.at < f.until)
    return query


async def list_entries(session: AsyncSession, filters: AuditFilters, *, limit: int,
                       offset: int) -> tuple[list[AuditEntry], int]:
    """Newest first, and the count before paging."""
    total = await session.scalar(_filtered(select(func.count()).select_from(AuditEntry), filters)) or 0
    rows = (await session.scalars(_filtered(select(AuditEntry), filters).order_by(AuditEntry.seq.desc())
                                  .limit(limit).offset(offset))).all()
    return list(rows), int(total)


async def _batches(session: AsyncSession, query: Select[Any], batch: int) -> AsyncIterator[Sequence[AuditEntry]]:
    """Rows of ``query`` in seq order, ``batch`` at a time (keyset paging: no long-held cursor)."""
    after = 0
    while True:
        rows = (await session.scalars(query.where(AuditEntry.seq > after).order_by(AuditEntry.seq)
                                      .limit(batch))).all()
        if not rows:
            return
        yield rows
        after = rows[-1].seq
        if len(rows) < batch:
            return


def as_dict(row: AuditEntry) -> dict[str, Any]:
    """An entry as exported: every column, ``at`` in ISO 8601 UTC."""
    out = {name: getattr(row, name) for name in (*HASHED_FIELDS, "prev_hash", "hash")}
    out["at"] = _at_text(row.at)
    return out


async def export_entries(sessions: async_sessionmaker[AsyncSession], filters: AuditFilters, *,
                         batch: int = 500) -> AsyncIterator[dict[str, Any]]:
    """Matching entries oldest first, one dict per entry, read a batch at a time."""
    async with sessions() as session:
        async for rows in _batches(session, _filtered(select(AuditEntry), filters), batch):
            for row in rows:
                yield as_dict(row)
            session.expunge_all()


# --------------------------------------------------------------------------- verifying
@dataclass(frozen=True)
class Anchor:
    """An entry as seen before, kept outside the database: the chain must still hold it."""

    seq: int
    hash: str

    @classmethod
    def parse(cls, value: str) -> Anchor:
        """``SEQ:HASH`` → Anchor; ValueError with a reason otherwise."""
        seq_text, sep, digest = value.strip().partition(":")
        digest = digest.strip().lower()
        if not sep or not seq_text.strip().isdigit() or int(seq_text) < 1:
            raise ValueError("an anchor is SEQ:HASH, e.g. 42:3f9a… (seq from 1)")
        if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
            raise ValueError("the anchor's hash must be 64 hex digits")
        return cls(int(seq_text), digest)


@dataclass(frozen=True)
class Verification:
    ok: bool
    checked: int
    """Entries found intact (all of them when ``ok``)."""
    first_bad_seq: int | None = None
    problem: str | None = None
    head_seq: int | None = None
    """The last entry walked: keep ``head_seq:head_hash`` as an anchor for the next verification."""
    head_hash: str | None = None
    anchors_checked: list[int] = field(default_factory=list)


async def verify(session: AsyncSession, anchors: Sequence[Anchor] = (), *, batch: int = 1000) -> Verification:
    """Walk the chain from seq 1 and report the first entry that breaks it.

    An entry is bad when its seq is not the next one (entries before it were deleted), its
    ``prev_hash`` is not the previous entry's hash (an entry was inserted, or one before it
    deleted and the rest renumbered), or its hash is not the hash of its fields (it was
    edited). Each anchor must be an entry of the chain with the anchored hash: a missing one
    means the tail was cut off, a different hash that the chain was rewritten.
    """
    wanted = {a.seq: a.hash for a in anchors}
    expected, prev, checked = 1, GENESIS, 0
    last: AuditEntry | None = None

    def bad(seq: int, problem: str) -> Verification:
        return Verification(False, checked, seq, problem, last.seq if last else None, last.hash if last else None)

    async for rows in _batches(session, select(AuditEntry), batch):
        for row in rows:
            if row.seq != expected:
                if row.seq > expected:
                    gap = f"entry {expected} is" if row.seq == expected + 1 else \
                        f"entries {expected} to {row.seq - 1} are"
                    return bad(expected, f"{gap} missing: deleted from the log")
                return bad(row.seq, f"entry {row.seq} is out of sequence (expected {expected})")
            if row.prev_hash != prev:
                what = "the hash of entry " + str(row.seq - 1) if row.seq > 1 else "the genesis hash"
                return bad(row.seq, f"entry {row.seq} does not link to {what}: an entry was inserted before it, "
                                    "or the entries before it were replaced")
            if entry_hash(prev, row) != row.hash:
                return bad(row.seq, f"entry {row.seq} does not match its hash: it was edited")
            if row.seq in wanted and wanted[row.seq] != row.hash:
                return bad(row.seq, f"entry {row.seq} is not the entry anchored: the log was rewritten from "
                                    "there on")
            prev, expected, checked, last = row.hash, row.seq + 1, checked + 1, row
        session.expunge_all()
    beyond = sorted(s for s in wanted if s >= expected)
    if beyond:
        return bad(expected, f"entry {beyond[0]} (anchored) is missing: the log was truncated after "
                             f"entry {expected - 1}")
    return Verification(True, checked, None, None, last.seq if last else None, last.hash if last else None,
                        sorted(wanted))


@asynccontextmanager
async def open_database(url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Sessions on the database at ``url`` for a command run without a server; a database
    that cannot be read (absent, not migrated) raises :class:`Unavailable`."""
    engine = make_engine(url)
    try:
        yield make_sessionmaker(engine)
    except SQLAlchemyError as exc:
        first = (str(exc).splitlines() or [type(exc).__name__])[0]
        raise Unavailable(f"cannot read the audit log: {first}") from exc
    finally:
        await engine.dispose()
