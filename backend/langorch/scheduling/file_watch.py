"""File-watch triggers (leader only): a run for every new version of a file in a folder.

Every enabled ``file_watch`` registration names ``config.file_watch_config``: a ``path``
(a folder inside one of ``LANGORCH_TRIGGERS__WATCH_ROOTS``), a ``pattern`` (a glob over the
file name, default ``*``) and ``event_types`` (``created`` and/or ``modified``, default
``created``). Each is watched with watchfiles; registrations added, changed or removed
are picked up at the next refresh (every couple of seconds).

One run per file version: a file's version is its path, size and modification time, and
that is the fire's idempotency key, so the same version never starts a second run — not
after a restart either. On start the folder is scanned once: a file whose path was never
handled fires as ``created`` (it arrived while nobody watched), one that changed since
fires as ``modified`` when modified events are watched. Only regular files fire (not
symlinks, not folders). The run's payload (and, without an input mapping, its inputs):
``{path, name, size, modified_at, event}``."""

from __future__ import annotations

import asyncio
import contextlib
import fnmatch
import hashlib
import logging
import os
import stat
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from watchfiles import Change, DefaultFilter, awatch

from langorch.runtime.errors import InputError
from langorch.scheduling.leader import Lease
from langorch.services import trigger_fire
from langorch.services.errors import Invalid, ServiceError
from langorch.services.runtime_wiring import ServerRuntime
from langorch.settings import get_settings
from langorch.store.models import TriggerDedupe, TriggerRegistration
from langorch.worker.loops import LoopService

__all__ = ["EVENTS", "FileWatchLoop", "WatchSpec", "check_watch_config", "confine", "watch_spec"]

log = logging.getLogger(__name__)

EVENTS = ("created", "modified")
FIELD = "config.file_watch_config"
REFRESH_S = 2.0
"""How often the registrations are read again (added, changed, removed ones)."""


@dataclass(frozen=True)
class WatchSpec:
    folder: Path
    pattern: str
    events: tuple[str, ...]

    def matches(self, name: str) -> bool:
        """The glob, and none of the editor and system files watchfiles ignores (``x~``, ``.swp``…)."""
        return fnmatch.fnmatchcase(name, self.pattern) and _IGNORED(Change.added, str(self.folder / name))


_IGNORED = DefaultFilter()


def _invalid(field: str, message: str) -> Invalid:
    return Invalid(f"{field}: {message}", details=[{"field": field, "message": message}])


def confine(path: str, roots: Sequence[str]) -> Path:
    """``path`` resolved (symlinks followed; relative to the working folder), when it is one
    of ``roots`` or inside one; else Invalid (422) naming ``config.file_watch_config.path``."""
    folder = Path(os.path.realpath(path))
    resolved = [Path(os.path.realpath(root)) for root in roots if root]
    if not any(folder == root or folder.is_relative_to(root) for root in resolved):
        allowed = ", ".join(str(root) for root in resolved) or "none configured"
        raise _invalid(f"{FIELD}.path", f"{path!r} is outside the folders file-watch triggers may watch "
                                        f"(LANGORCH_TRIGGERS__WATCH_ROOTS: {allowed})")
    return folder


def watch_spec(config: Mapping[str, Any] | None, roots: Sequence[str]) -> WatchSpec:
    """The folder, glob and events of a file-watch registration's ``config``; Invalid (422)
    naming the field when one is missing or wrong, or the folder is outside ``roots``."""
    raw = (config or {}).get("file_watch_config")
    if not isinstance(raw, Mapping):
        raise _invalid(FIELD, "a file_watch trigger needs {\"path\": <folder>, \"pattern\": <glob>, "
                              "\"event_types\": [\"created\", \"modified\"]}")
    path = raw.get("path")
    if not isinstance(path, str) or not path.strip():
        raise _invalid(f"{FIELD}.path", "the folder to watch")
    pattern = raw.get("pattern") or "*"
    if not isinstance(pattern, str) or "/" in pattern or os.sep in pattern:
        raise _invalid(f"{FIELD}.pattern", "a glob over file names in the folder, e.g. \"*.csv\"")
    events = raw.get("event_types") or ["created"]
    if isinstance(events, str):
        events = [events]
    if not isinstance(events, list) or any(e not in EVENTS for e in events):
        raise _invalid(f"{FIELD}.event_types", f"a list of {', '.join(EVENTS)}")
    return WatchSpec(confine(path, roots), pattern, tuple(dict.fromkeys(events)))


def check_watch_config(config: Mapping[str, Any] | None, roots: Sequence[str] | None = None) -> WatchSpec:
    """What the API (and ``services.triggers.check``) call before registering a file watch:
    ``roots`` default to the server's ``LANGORCH_TRIGGERS__WATCH_ROOTS``."""
    return watch_spec(config, get_settings().triggers.watch_roots if roots is None else roots)


def version_key(path: Path, st: os.stat_result) -> str:
    """The idempotency key of one version of a file: path, size and modification time."""
    return f"file:{_path_digest(path)}:{st.st_size}:{st.st_mtime_ns}"


def _path_digest(path: Path) -> str:
    return hashlib.sha256(str(path).encode()).hexdigest()[:32]


def file_payload(path: Path, st: os.stat_result, event: str) -> dict[str, Any]:
    return {"path": str(path), "name": path.name, "size": st.st_size,
            "modified_at": datetime.fromtimestamp(st.st_mtime, UTC).isoformat(), "event": event}


class FileWatchLoop(LoopService):
    """Keeps one watcher per enabled file-watch registration (reconciled every ``interval_s``)."""

    name = "file_watch"

    def __init__(self, rt: ServerRuntime, lease: Lease | None, interval_s: float = REFRESH_S, *,
                 debounce_ms: int = 800, step_ms: int = 50, poll_ms: int = 1000) -> None:
        super().__init__(interval_s)
        self.rt = rt
        self.lease = lease
        self.debounce_ms, self.step_ms, self.poll_ms = debounce_ms, step_ms, poll_ms
        self.watchers: dict[str, tuple[WatchSpec, asyncio.Event, asyncio.Task[None]]] = {}
        self.scanned: set[str] = set()
        """Registrations whose folder was scanned since this loop started (and watched since)."""
        self._refused: dict[str, str] = {}

    async def run_once(self, now: datetime | None = None) -> dict[str, WatchSpec]:
        """Start watching new registrations, stop watching removed or changed ones; returns
        what is watched."""
        wanted = await self._wanted()
        for trigger_id, (spec, _stop, task) in list(self.watchers.items()):
            if wanted.get(trigger_id) != spec or task.done():
                await self._unwatch(trigger_id)
        for trigger_id, spec in wanted.items():
            if trigger_id not in self.watchers:
                stop = asyncio.Event()
                task = asyncio.create_task(self._watch(trigger_id, spec, stop), name=f"file-watch-{trigger_id}")
                self.watchers[trigger_id] = (spec, stop, task)
        return wanted

    async def _wanted(self) -> dict[str, WatchSpec]:
        async with self.rt.sessions() as session:
            rows = (await session.execute(select(TriggerRegistration.id, TriggerRegistration.config).where(
                TriggerRegistration.trigger_type == "file_watch", TriggerRegistration.enabled.is_(True)))).all()
        wanted: dict[str, WatchSpec] = {}
        for trigger_id, config in rows:
            try:
                wanted[trigger_id] = watch_spec(config, self.rt.settings.triggers.watch_roots)
            except Invalid as exc:  # registered before the roots changed, or by hand: not watched
                if self._refused.get(trigger_id) != exc.message:
                    log.warning("file watch %s is not watched: %s", trigger_id, exc.message)
                    self._refused[trigger_id] = exc.message
        return wanted

    async def _unwatch(self, trigger_id: str) -> None:
        _spec, stop, task = self.watchers.pop(trigger_id)
        self.scanned.discard(trigger_id)
        stop.set()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task

    async def stop(self) -> None:
        await super().stop()
        for trigger_id in list(self.watchers):
            await self._unwatch(trigger_id)

    async def _watch(self, trigger_id: str, spec: WatchSpec, stop: asyncio.Event) -> None:
        def wanted(change: Change, path: str) -> bool:
            return change != Change.deleted and spec.matches(os.path.basename(path))

        try:
            spec.folder.mkdir(parents=True, exist_ok=True)
            scanned = False
            async for changes in awatch(spec.folder, watch_filter=wanted, stop_event=stop, recursive=False,
                                        debounce=self.debounce_ms, step=self.step_ms, rust_timeout=self.poll_ms,
                                        yield_on_timeout=True):
                if not scanned:  # the watcher runs from here on: what arrived before, fire now
                    await self.scan(trigger_id, spec)
                    self.scanned.add(trigger_id)
                    scanned = True
                await self.handle(trigger_id, spec, changes)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("file watch %s on %s stopped; it restarts at the next refresh", trigger_id, spec.folder)

    async def scan(self, trigger_id: str, spec: WatchSpec) -> list[str]:
        """Fire for the files of the folder no run was started for yet (once each)."""
        started: list[str] = []
        for path in sorted(spec.folder.iterdir()):
            if spec.matches(path.name):
                run_id = await self._file(trigger_id, spec, path, None)
                if run_id:
                    started.append(run_id)
        return started

    async def handle(self, trigger_id: str, spec: WatchSpec, changes: set[tuple[Change, str]]) -> list[str]:
        """Fire for one batch of changes: per file, ``created`` if it was added in the batch."""
        events: dict[str, str] = {}
        for change, raw in changes:
            if change == Change.added or raw not in events:
                events[raw] = "created" if change == Change.added else "modified"
        started: list[str] = []
        for raw, event in sorted(events.items()):
            if event in spec.events:
                run_id = await self._file(trigger_id, spec, Path(raw), event)
                if run_id:
                    started.append(run_id)
        return started

    async def _file(self, trigger_id: str, spec: WatchSpec, path: Path, event: str | None) -> str | None:
        """Fire for the current version of ``path`` unless it was handled; ``event`` None: found
        by the start-up scan (created if its path is new, else modified)."""
        try:
            st = path.lstat()
        except FileNotFoundError:
            return None  # gone again
        if not stat.S_ISREG(st.st_mode) or path.parent != spec.folder:
            return None
        key = version_key(path, st)
        async with self.rt.sessions() as session:
            reg = await session.get(TriggerRegistration, trigger_id)
            if reg is None or not reg.enabled:
                return None
            if await session.get(TriggerDedupe, trigger_fire.dedupe_key(
                    reg, idempotency_key=key, digest="", scheduled_for=None)) is not None:
                return None  # this version already started its run
            if event is None:
                prefix = trigger_fire.dedupe_key(reg, idempotency_key=f"file:{_path_digest(path)}:", digest="",
                                                 scheduled_for=None)
                seen = await session.scalar(select(TriggerDedupe.key).where(
                    TriggerDedupe.key.startswith(prefix, autoescape=True)).limit(1))
                event = "modified" if seen is not None else "created"
                if event not in spec.events:
                    return None
            if self.lease is not None and not await self.lease.held(session):
                return None  # deposed: the new leader's watcher fires it
            try:
                result = await trigger_fire.fire(session, self.rt, reg, payload=file_payload(path, st, event),
                                                 triggered_by="file watch", idempotency_key=key)
            except (ServiceError, InputError) as exc:  # recorded as a failed fire in the history
                log.warning("file watch %s (%s) could not start a run for %s: %s", trigger_id, reg.procedure_id,
                            path, exc)
                return None
            return result.run_id if result.created else None
