"""The audit log's hash chain on SQLite and PostgreSQL: entries link from a genesis hash, verify
names the first edited, inserted or deleted entry (the table is changed with SQL, as someone
with database access would), anchors catch a cut-off tail or a recomputed chain, concurrent
appenders (several engines, as several API replicas) still form one contiguous chain, and the
system's own approval decisions are recorded with the change they belong to."""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import insert, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from langorch.services import audit
from langorch.services.approvals import expire_due
from langorch.services.audit import GENESIS, Anchor, AuditRecord
from langorch.services.hub import Hub
from langorch.services.runs import fail_run
from langorch.store.db import make_engine, make_sessionmaker
from langorch.store.models import Approval, AuditEntry, Run

pytestmark = pytest.mark.asyncio


def entry(n: int, **fields: Any) -> AuditRecord:
    values: dict[str, Any] = {"actor": f"user{n}", "actor_kind": "user", "role": "admin", "action": "run.cancel",
                              "subject_type": "run", "subject_id": f"run-{n}", "request_id": f"req-{n}",
                              "outcome": 200, "details": {"n": n}}
    values.update(fields)
    return AuditRecord(**values)


async def fill(sessions: async_sessionmaker[AsyncSession], count: int) -> None:
    for n in range(1, count + 1):
        await audit.record(sessions, entry(n))


async def rows(sessions: async_sessionmaker[AsyncSession]) -> list[AuditEntry]:
    async with sessions() as session:
        return list((await session.scalars(select(AuditEntry).order_by(AuditEntry.seq))).all())


async def check(sessions: async_sessionmaker[AsyncSession], *anchors: Anchor) -> audit.Verification:
    async with sessions() as session:
        return await audit.verify(session, anchors)


async def sql(engine: AsyncEngine, *statements: str) -> None:
    async with engine.begin() as conn:
        for statement in statements:
            await conn.execute(text(statement))


def independent_hash(prev: str, row: AuditEntry) -> str:
    """The documented formula, written out again: sha256(prev_hash ‖ canonical JSON)."""
    fields = {"seq": row.seq, "at": row.at.astimezone(UTC).isoformat(timespec="microseconds"), "actor": row.actor,
              "actor_kind": row.actor_kind, "role": row.role, "action": row.action,
              "subject_type": row.subject_type, "subject_id": row.subject_id, "project_id": row.project_id,
              "request_id": row.request_id, "outcome": row.outcome, "details": row.details}
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(prev.encode() + canonical.encode("utf-8")).hexdigest()


async def test_entries_chain_from_the_genesis_hash(sessions: async_sessionmaker[AsyncSession]) -> None:
    await fill(sessions, 3)

    stored = await rows(sessions)
    assert [r.seq for r in stored] == [1, 2, 3]
    assert stored[0].prev_hash == GENESIS == "0" * 64
    for before, after in itertools.pairwise(stored):
        assert after.prev_hash == before.hash
    prev = GENESIS
    for row in stored:
        assert row.hash == independent_hash(prev, row)
        prev = row.hash
    assert stored[1].actor == "user2" and stored[1].details == {"n": 2} and stored[1].outcome == 200
    result = await check(sessions)
    assert (result.ok, result.checked, result.first_bad_seq, result.problem) == (True, 3, None, None)
    assert (result.head_seq, result.head_hash) == (3, stored[2].hash)


async def test_an_empty_log_verifies(sessions: async_sessionmaker[AsyncSession]) -> None:
    result = await check(sessions)
    assert (result.ok, result.checked, result.head_seq) == (True, 0, None)


async def test_verify_names_an_edited_entry(sessions: async_sessionmaker[AsyncSession], engine: AsyncEngine) -> None:
    await fill(sessions, 4)
    await sql(engine, "UPDATE audit_log SET actor = 'mallory' WHERE seq = 3")

    result = await check(sessions)

    assert (result.ok, result.first_bad_seq, result.checked) == (False, 3, 2)
    assert result.problem is not None and "edited" in result.problem


async def test_verify_names_an_entry_whose_details_were_edited(sessions: async_sessionmaker[AsyncSession],
                                                               engine: AsyncEngine) -> None:
    await fill(sessions, 2)
    await sql(engine, "UPDATE audit_log SET outcome = 403 WHERE seq = 1")

    result = await check(sessions)

    assert (result.ok, result.first_bad_seq) == (False, 1)
    assert result.problem is not None and "edited" in result.problem


async def test_verify_names_a_deleted_entry(sessions: async_sessionmaker[AsyncSession], engine: AsyncEngine) -> None:
    await fill(sessions, 5)
    await sql(engine, "DELETE FROM audit_log WHERE seq = 2")

    result = await check(sessions)

    assert (result.ok, result.first_bad_seq, result.checked) == (False, 2, 1)
    assert result.problem is not None and "missing" in result.problem and "deleted" in result.problem


async def test_verify_names_deleted_entries_hidden_by_renumbering(sessions: async_sessionmaker[AsyncSession],
                                                                  engine: AsyncEngine) -> None:
    await fill(sessions, 5)
    await sql(engine, "DELETE FROM audit_log WHERE seq = 2",
              "UPDATE audit_log SET seq = seq + 1000 WHERE seq > 2",
              "UPDATE audit_log SET seq = seq - 1001 WHERE seq > 1000")

    result = await check(sessions)

    assert (result.ok, result.first_bad_seq) == (False, 2)
    assert result.problem is not None and "does not link" in result.problem


async def test_verify_names_an_inserted_entry(sessions: async_sessionmaker[AsyncSession],
                                              engine: AsyncEngine) -> None:
    """The forger knows the formula: the new entry itself is valid, the next one no longer links."""
    await fill(sessions, 4)
    first = (await rows(sessions))[0]
    forged = AuditEntry(seq=2, at=datetime.now(UTC), actor="mallory", actor_kind="user", role="admin",
                        action="user.create", subject_type="user", subject_id="backdoor", project_id=None,
                        request_id=None, outcome=201, details=None, prev_hash=first.hash)
    forged.hash = audit.entry_hash(first.hash, forged)
    await sql(engine, "UPDATE audit_log SET seq = seq + 1000 WHERE seq >= 2",
              "UPDATE audit_log SET seq = seq - 999 WHERE seq >= 1002")
    async with engine.begin() as conn:
        await conn.execute(insert(AuditEntry).values(
            {c: getattr(forged, c) for c in (*audit.HASHED_FIELDS, "prev_hash", "hash")}))

    result = await check(sessions)

    assert (result.ok, result.first_bad_seq, result.checked) == (False, 3, 2)
    assert result.problem is not None and "inserted" in result.problem


async def test_verify_names_an_entry_appended_by_hand(sessions: async_sessionmaker[AsyncSession],
                                                      engine: AsyncEngine) -> None:
    await fill(sessions, 2)
    await sql(engine, "INSERT INTO audit_log (seq, at, actor, actor_kind, action, prev_hash, hash) VALUES "
                      f"(3, '2026-01-01 00:00:00.000000', 'mallory', 'user', 'user.create', '{'1' * 64}', "
                      f"'{'2' * 64}')")

    result = await check(sessions)

    assert (result.ok, result.first_bad_seq) == (False, 3)


async def test_an_anchor_catches_a_truncated_tail(sessions: async_sessionmaker[AsyncSession],
                                                  engine: AsyncEngine) -> None:
    await fill(sessions, 5)
    before = await check(sessions)
    assert before.head_seq == 5 and before.head_hash is not None
    anchor = Anchor(before.head_seq, before.head_hash)
    await sql(engine, "DELETE FROM audit_log WHERE seq > 3")

    assert (await check(sessions)).ok  # a shorter chain is still a chain
    result = await check(sessions, anchor)

    assert (result.ok, result.first_bad_seq, result.checked) == (False, 4, 3)
    assert result.problem is not None and "truncated" in result.problem


async def test_an_anchor_catches_a_recomputed_chain(sessions: async_sessionmaker[AsyncSession],
                                                    engine: AsyncEngine) -> None:
    """With database access, an edit plus recomputed hashes verifies; the anchor kept outside does not."""
    await fill(sessions, 3)
    before = await check(sessions)
    assert before.head_hash is not None
    await sql(engine, "UPDATE audit_log SET actor = 'nobody' WHERE seq = 2")
    async with sessions() as session:
        prev = GENESIS
        for row in (await session.scalars(select(AuditEntry).order_by(AuditEntry.seq))).all():
            row.prev_hash = prev
            row.hash = prev = audit.entry_hash(prev, row)
            await session.flush()
        await session.commit()

    assert (await check(sessions)).ok
    result = await check(sessions, Anchor(3, before.head_hash))

    assert (result.ok, result.first_bad_seq) == (False, 3)
    assert result.problem is not None and "rewritten" in result.problem


async def test_an_anchor_that_holds_is_reported_ok(sessions: async_sessionmaker[AsyncSession]) -> None:
    await fill(sessions, 3)
    first = (await rows(sessions))[1]
    await fill(sessions, 2)

    result = await check(sessions, Anchor(2, first.hash))

    assert (result.ok, result.checked) == (True, 5)


async def test_anchors_parse_from_seq_and_hash() -> None:
    assert Anchor.parse(f"12:{'AB' * 32}") == Anchor(12, "ab" * 32)
    for bad in ("12", "x:" + "a" * 64, "0:" + "a" * 64, "3:abc", "3:" + "g" * 64):
        with pytest.raises(ValueError):
            Anchor.parse(bad)


async def test_values_are_stored_as_hashed(sessions: async_sessionmaker[AsyncSession]) -> None:
    """Details that are not plain JSON, NUL characters and over-long values are stored in the
    form that was hashed, so the entry still verifies when read back."""
    await audit.record(sessions, entry(1, subject_id="a\x00b" + "x" * 500, actor="é" * 300,
                                       details={"when": datetime(2026, 1, 2, tzinfo=UTC), "nan": float("nan"),
                                                "set": {1}, 3: "int key", "nested": {"deep": [1.5, None, True]}}))

    [row] = await rows(sessions)
    assert row.subject_id is not None and len(row.subject_id) == 400 and "\x00" not in row.subject_id
    assert row.actor == "é" * 200
    assert row.details == {"when": "2026-01-02T00:00:00+00:00", "nan": "nan", "set": [1], "3": "int key",
                           "nested": {"deep": [1.5, None, True]}}
    assert (await check(sessions)).ok


@pytest.mark.parametrize("take_lock", [True, False], ids=["locked", "retry-only"])
async def test_concurrent_appenders_form_one_chain(db_url: str, take_lock: bool,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Three engines (three API replicas) append 60 entries at once. With the lock they take
    turns; without it (a writer that takes none) a seq conflict is retried."""
    if not take_lock:
        async def no_lock(session: AsyncSession) -> None:
            return None

        monkeypatch.setattr(audit, "_lock", no_lock)
    engines = [make_engine(db_url) for _ in range(3)]
    try:
        makers = [make_sessionmaker(e) for e in engines]
        await asyncio.gather(*(audit.record(makers[n % 3], entry(n)) for n in range(60)))
        stored = await rows(makers[0])
        result = await check(makers[0])
    finally:
        for e in engines:
            await e.dispose()
    assert [r.seq for r in stored] == list(range(1, 61))
    assert sorted(r.actor for r in stored) == sorted(f"user{n}" for n in range(60))
    assert (result.ok, result.checked) == (True, 60)


async def test_a_system_entry_commits_or_rolls_back_with_its_change(
        sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as session:
        await audit.record_system(session, "approval.timeout", subject_type="approval", subject_id="a1")
        await session.rollback()
    assert await rows(sessions) == []

    async with sessions() as session:
        await audit.record_system(session, "approval.timeout", subject_type="approval", subject_id="a2",
                                  details={"run_id": "r"})
        await session.commit()
    [row] = await rows(sessions)
    assert (row.actor, row.actor_kind, row.action, row.subject_id, row.outcome, row.details) == (
        "system", "system", "approval.timeout", "a2", 200, {"run_id": "r"})


async def _waiting_run(sessions: async_sessionmaker[AsyncSession], *, expires_at: datetime | None) -> tuple[str, str]:
    async with sessions() as session:
        run = Run(procedure_id="p", procedure_version="1", ir_hash="x" * 64, thread_id="t",
                  status="waiting_approval")
        session.add(run)
        await session.flush()
        approval = Approval(run_id=run.run_id, node_id="gate", interrupt_id="i1", status="pending",
                            expires_at=expires_at)
        session.add(approval)
        await session.commit()
        return run.run_id, approval.approval_id


async def test_an_approval_that_times_out_is_recorded_as_the_systems_decision(
        sessions: async_sessionmaker[AsyncSession]) -> None:
    run_id, approval_id = await _waiting_run(sessions, expires_at=datetime.now(UTC) - timedelta(minutes=1))

    assert await expire_due(sessions, Hub()) == [approval_id]

    [row] = await rows(sessions)
    assert (row.actor, row.actor_kind, row.action, row.subject_type, row.subject_id) == (
        "system", "system", "approval.timeout", "approval", approval_id)
    assert row.details == {"run_id": run_id, "decision": "timeout"}
    assert (await check(sessions)).ok


async def test_approvals_closed_with_their_run_are_recorded(sessions: async_sessionmaker[AsyncSession]) -> None:
    run_id, approval_id = await _waiting_run(sessions, expires_at=None)

    async with sessions() as session:
        await fail_run(session, run_id, {"type": "Gone", "message": "the procedure is gone"})
        await session.commit()

    [row] = await rows(sessions)
    assert (row.actor, row.action, row.subject_id, row.details) == (
        "system", "approval.cancel", approval_id, {"run_id": run_id, "status": "canceled"})
