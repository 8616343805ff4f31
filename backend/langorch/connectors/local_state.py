"""State kept beside the checkpoints in the CLI's SQLite file: step results (so a
resumed run never repeats a side effect) and a run registry that pins each run to the
exact CKP it started with."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import aiosqlite

_SCHEMA = """
CREATE TABLE IF NOT EXISTS langorch_step_results (
    key TEXT PRIMARY KEY, result TEXT NOT NULL, created_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS langorch_runs (
    run_id TEXT PRIMARY KEY, procedure_id TEXT NOT NULL, version TEXT NOT NULL, ir_hash TEXT NOT NULL,
    ckp_json TEXT NOT NULL, status TEXT NOT NULL, inputs TEXT NOT NULL, announced TEXT NOT NULL DEFAULT '[]',
    created_at REAL NOT NULL, updated_at REAL NOT NULL);
"""


class SqliteStepStore:
    """The StepResultStore port on an aiosqlite connection."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self.conn = conn

    @classmethod
    async def create(cls, conn: aiosqlite.Connection) -> SqliteStepStore:
        await conn.executescript(_SCHEMA)
        await conn.commit()
        return cls(conn)

    async def get(self, key: str) -> tuple[bool, Any]:
        async with self.conn.execute("SELECT result FROM langorch_step_results WHERE key = ?", (key,)) as cur:
            row = await cur.fetchone()
        return (True, json.loads(row[0])) if row else (False, None)

    async def put(self, key: str, result: Any) -> None:
        await self.conn.execute(
            "INSERT OR REPLACE INTO langorch_step_results (key, result, created_at) VALUES (?, ?, ?)",
            (key, json.dumps(result, default=str), time.time()))
        await self.conn.commit()


@dataclass
class RunRecord:
    run_id: str
    procedure_id: str
    version: str
    ir_hash: str
    ckp_json: str
    status: str
    inputs: dict[str, Any]
    announced: list[str]


class RunRegistry:
    """Which procedure (exact text and IR hash) each run started with, and its status."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self.conn = conn

    @classmethod
    async def create(cls, conn: aiosqlite.Connection) -> RunRegistry:
        await conn.executescript(_SCHEMA)
        await conn.commit()
        return cls(conn)

    async def add(self, run_id: str, procedure_id: str, version: str, ir_hash: str, ckp_json: str,
                  inputs: dict[str, Any]) -> None:
        now = time.time()
        await self.conn.execute(
            "INSERT INTO langorch_runs (run_id, procedure_id, version, ir_hash, ckp_json, status, inputs, "
            "created_at, updated_at) VALUES (?, ?, ?, ?, ?, 'running', ?, ?, ?)",
            (run_id, procedure_id, version, ir_hash, ckp_json, json.dumps(inputs, default=str), now, now))
        await self.conn.commit()

    async def get(self, run_id: str) -> RunRecord | None:
        async with self.conn.execute(
            "SELECT run_id, procedure_id, version, ir_hash, ckp_json, status, inputs, announced "
            "FROM langorch_runs WHERE run_id = ?", (run_id,)) as cur:
            row = await cur.fetchone()
        if row is None:
            return None
        return RunRecord(row[0], row[1], row[2], row[3], row[4], row[5], json.loads(row[6]), json.loads(row[7]))

    async def update(self, run_id: str, status: str, announced: list[str]) -> None:
        await self.conn.execute("UPDATE langorch_runs SET status = ?, announced = ?, updated_at = ? "
                                "WHERE run_id = ?", (status, json.dumps(announced), time.time(), run_id))
        await self.conn.commit()
