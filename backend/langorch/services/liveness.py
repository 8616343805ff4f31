"""Which workers are alive, known from something that dies with their process.

A heartbeat only says a worker *was* alive a while ago, so a dead worker's runs used to
wait out ``stale_after_s`` (30 s) before anyone took them over. Each worker now holds a
lock for as long as its process lives, and any process can test the lock:

* **PostgreSQL**: a session-level advisory lock ``(LIVENESS_NS, key(worker_id))`` on a
  connection the worker keeps open. When the process dies (kill -9 included) the server
  closes the connection and releases the lock; ``pg_try_advisory_xact_lock`` on the same
  key then succeeds, in the tester's own transaction, so the test leaves nothing held.
* **SQLite** (one machine by nature): an exclusive ``flock`` on
  ``<database>.workers/<worker_id>.lock``, released by the kernel when the process dies.
  A server restarted after a crash therefore takes over its own previous claims at once.

A worker records which kind it holds (``workers.liveness``); one that holds none (an
in-memory database) is judged by its heartbeat only. A false "dead" would let two
workers run one run, so a worker whose lock connection breaks takes the lock again at
once, and one that cannot gives up its claims (see ``worker.py``).

"At once" means: the worker waits on the lock's connection itself, so a connection the
server drops (a restart, ``pg_terminate_backend``, a proxy) wakes it the moment it goes,
and the lock is free only while it connects again. Its own process never judges it dead
in that moment (``dead`` skips the workers this process holds the lock of): otherwise a
server's reaper would take its own worker's runs after every dropped connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import logging
import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

log = logging.getLogger(__name__)

LIVENESS_NS = 0x4C4F5756
"""First half of every liveness advisory key ("LOWV"): other advisory locks use one-key forms."""

PG_ADVISORY = "pg_advisory"
FLOCK = "flock"

_HERE: set[str] = set()
"""Workers of this process that hold their lock (or are taking it again after its connection
broke): this process never tests their lock, it knows they are alive."""


def key(worker_id: str) -> int:
    """A signed 32-bit key for ``worker_id`` (a collision only makes a dead worker look alive)."""
    return int.from_bytes(hashlib.sha256(worker_id.encode()).digest()[:4], "big", signed=True)


class Liveness(Protocol):
    """The lock a worker holds while its process lives."""

    kind: str

    async def hold(self) -> None:
        """Take the lock (before the worker claims anything)."""

    async def check(self, within_s: float = 0.0) -> bool:
        """Wait up to ``within_s`` for the lock to be lost, then: True while it is held
        (re-taken if its connection was lost), False if it could not be taken again."""

    async def release(self) -> None:
        """Give the lock up (clean shutdown)."""


class PgLiveness:
    """A session-level advisory lock on a connection of its own."""

    kind = PG_ADVISORY

    def __init__(self, conninfo: str, worker_id: str) -> None:
        self.conninfo = conninfo
        self.worker_id = worker_id
        self._conn: Any = None

    async def hold(self) -> None:
        import psycopg

        self._conn = await psycopg.AsyncConnection.connect(self.conninfo, autocommit=True,
                                                           application_name=f"langorch liveness {self.worker_id}"[:63])
        row = await (await self._conn.execute("SELECT pg_try_advisory_lock(%s, %s)",
                                              (LIVENESS_NS, key(self.worker_id)))).fetchone()
        if not (row and row[0]):
            await self._conn.close()
            self._conn = None
            raise RuntimeError(f"worker id {self.worker_id!r} is in use by a live process")
        _HERE.add(self.worker_id)

    async def check(self, within_s: float = 0.0) -> bool:
        try:
            if self._conn is not None and not self._conn.closed:
                if within_s > 0:
                    # Waiting on the connection (no notification ever comes): one the server
                    # drops ends this wait at once, not at the next poll.
                    async for _ in self._conn.notifies(timeout=within_s):
                        pass
                await self._conn.execute("SELECT 1")
                return True
        except Exception as exc:  # the connection broke: the lock went with it
            log.warning("worker %s lost its liveness connection: %s", self.worker_id, str(exc).strip())
        with contextlib.suppress(Exception):
            if self._conn is not None:
                await self._conn.close()
        self._conn = None
        try:
            await self.hold()
        except Exception as exc:
            _HERE.discard(self.worker_id)
            log.error("worker %s could not take its liveness lock again: %s", self.worker_id, exc)
            return False
        log.warning("worker %s holds its liveness lock again", self.worker_id)
        return True

    async def release(self) -> None:
        _HERE.discard(self.worker_id)
        if self._conn is not None:
            with contextlib.suppress(Exception):
                await self._conn.close()
        self._conn = None


class FileLiveness:
    """An exclusive ``flock`` on a file of its own beside the SQLite database."""

    kind = FLOCK

    def __init__(self, directory: Path, worker_id: str) -> None:
        self.path = directory / f"{_file_name(worker_id)}.lock"
        self.worker_id = worker_id
        self._fd: int | None = None

    async def hold(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise RuntimeError(f"worker id {self.worker_id!r} is in use by a live process") from None
        self._fd = fd
        _HERE.add(self.worker_id)

    async def check(self, within_s: float = 0.0) -> bool:
        if within_s > 0:
            await asyncio.sleep(within_s)  # the kernel holds the lock for as long as the process lives
        return self._fd is not None

    async def release(self) -> None:
        _HERE.discard(self.worker_id)
        if self._fd is not None:
            with contextlib.suppress(OSError):
                self.path.unlink()
            os.close(self._fd)
        self._fd = None


def _file_name(worker_id: str) -> str:
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", worker_id)[:80]
    return f"{safe}-{hashlib.sha256(worker_id.encode()).hexdigest()[:12]}"


def lock_directory(db_url: str) -> Path | None:
    """``<database>.workers`` beside a SQLite file; None for PostgreSQL or an in-memory database."""
    if not db_url.startswith("sqlite"):
        return None
    path = db_url.split("///", 1)[-1].split("?", 1)[0]
    if not path or path == ":memory:" or "mode=memory" in db_url:
        return None
    return Path(path).resolve().with_name(Path(path).name + ".workers")


def pg_conninfo(db_url: str) -> str:
    """A libpq URI for a SQLAlchemy PostgreSQL URL (search_path options kept)."""
    from sqlalchemy.engine import make_url

    url = make_url(db_url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


def for_worker(db_url: str, worker_id: str) -> Liveness | None:
    """The liveness lock a worker on ``db_url`` holds, or None (judged by its heartbeat only)."""
    if db_url.startswith("postgresql"):
        return PgLiveness(pg_conninfo(db_url), worker_id)
    directory = lock_directory(db_url)
    return FileLiveness(directory, worker_id) if directory is not None else None


async def dead(session: AsyncSession, workers: Iterable[tuple[str, str | None]], *, db_url: str) -> set[str]:
    """Of ``(worker_id, liveness)`` pairs, the workers whose lock is free: their process is gone.

    PostgreSQL: ``pg_try_advisory_xact_lock`` in ``session``'s transaction (released when it
    ends). SQLite: a non-blocking ``flock`` of the worker's file, let go at once (the file of
    a dead worker is removed). Workers of this very process are alive by definition: their
    lock is not tested (it is free for a moment while a dropped connection is re-made).
    """
    out: set[str] = set()
    directory = lock_directory(db_url)
    for worker_id, kind in workers:
        if worker_id in _HERE:
            continue
        if kind == PG_ADVISORY and db_url.startswith("postgresql"):
            free = (await session.execute(text("SELECT pg_try_advisory_xact_lock(:ns, :key)"),
                                          {"ns": LIVENESS_NS, "key": key(worker_id)})).scalar()
            if free:
                out.add(worker_id)
        elif kind == FLOCK and directory is not None and _file_free(directory / f"{_file_name(worker_id)}.lock"):
            out.add(worker_id)
    return out


def _file_free(path: Path) -> bool:
    try:
        fd = os.open(path, os.O_RDWR)
    except FileNotFoundError:
        return True  # never held, or removed by a clean stop or an earlier test
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return False
    with contextlib.suppress(OSError):
        path.unlink()  # its owner is gone: nobody will test it again
    os.close(fd)
    return True
