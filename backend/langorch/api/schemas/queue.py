"""Queue statistics."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class WorkerSeen(BaseModel):
    worker_id: str
    hostname: str
    pid: int
    embedded: bool
    concurrency: int
    running_jobs: int
    started_at: datetime
    last_heartbeat_at: datetime
    alive: bool = Field(description="Heartbeat within stale_after_s and not stopped.")


class QueueStats(BaseModel):
    jobs: dict[str, int] = Field(description="Jobs by status: queued, running, done, failed, canceled.")
    queued_by_kind: dict[str, int] = Field(description="Queued jobs by kind: start, resume, retry.")
    oldest_queued_age_s: float | None = None
    workers: list[WorkerSeen]
