"""The built-in secret store: secrets encrypted at rest, write-only, per project.

For users without a vault (as n8n credentials and Windmill secrets work). A value is
encrypted with AES-256-GCM under the **master key**; the associated data binds the row's
scope, name and version, so a ciphertext copied onto another row does not decrypt.
Nothing here ever returns a value to a caller other than the runtime's
:class:`StoreSecrets` provider (``secrets_config.provider: "langorch"``).

The master key (:mod:`langorch.services.secret_keys`) is ``LANGORCH_SECRET_KEY`` or a key
file created with 0600 permissions on first use. Each row records the fingerprint of the
key that encrypted it; :func:`rotate_master_key` (``langorch secrets rotate-key``)
re-encrypts every row under a new key.

Scopes: ``''`` is global; a project id scopes a secret to that project's runs, and a
project's secret shadows a global one of the same name.
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import Callable, Hashable, Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy import update as sql_update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from langorch.ckp.ir import SecretRef
from langorch.connectors.secret_cache import DEFAULT_CACHE_TTL_S, TtlCache, invalidate_everywhere
from langorch.connectors.secrets import secret_error, select_field, split_key
from langorch.services.errors import Conflict, Invalid, NotFound, Unavailable
from langorch.services.secret_keys import (
    MASTER_KEY_ENV,
    NEW_KEY_ENV,
    PREVIOUS_KEY_ENV,
    KeyRing,
    MasterKey,
    MasterKeyError,
    encrypt_value,
    keyring_for,
    write_key_file,
)
from langorch.settings import SecretsSettings
from langorch.store.models import Run, StoredSecret

__all__ = [
    "CACHE_NAMESPACE",
    "MASTER_KEY_ENV",
    "MAX_VALUE_BYTES",
    "NAME_PATTERN",
    "KeyRing",
    "MasterKey",
    "MasterKeyError",
    "StoreNotReady",
    "StoreSecrets",
    "create",
    "delete",
    "get",
    "keyring_for",
    "list_secrets",
    "rotate_master_key",
    "update",
]

NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_.-]{0,127}$"
MAX_VALUE_BYTES = 64 * 1024
CACHE_NAMESPACE = "langorch"
_NAME = re.compile(NAME_PATTERN)


class StoreNotReady(Unavailable):
    """503: the database has no secrets table (not migrated) or cannot be reached."""

    code = "secret_store_unavailable"


class DuplicateSecret(Conflict):
    code = "duplicate_secret"


class InvalidSecret(Invalid):
    code = "invalid_secret"


# -- rows ---------------------------------------------------------------------------------


def _check_name(name: str) -> None:
    if not _NAME.match(name):
        raise InvalidSecret(f"secret name {name!r} must match {NAME_PATTERN}", details=[{"field": "name"}])


def _check_text(value: str | None, field: str) -> None:
    """NUL is no character PostgreSQL can store: refused in every field (422)."""
    if value is not None and "\x00" in value:
        raise InvalidSecret(f"{field} may not contain NUL characters", details=[{"field": field}])


def _check_value(value: str) -> None:
    if "\x00" in value:
        raise InvalidSecret("a secret value may not contain NUL characters", details=[{"field": "value"}])
    if len(value.encode()) > MAX_VALUE_BYTES:
        raise InvalidSecret(f"a secret value may hold at most {MAX_VALUE_BYTES} bytes",
                            details=[{"field": "value"}])
    if not value:
        raise InvalidSecret("a secret value may not be empty", details=[{"field": "value"}])


def _forget(name: str) -> None:
    """Drop every cached value of ``name`` (any project) in this process."""

    def match(key: Hashable) -> bool:
        return isinstance(key, tuple) and len(key) == 2 and key[1] == name

    invalidate_everywhere(CACHE_NAMESPACE, match)


async def get(session: AsyncSession, secret_id: str) -> StoredSecret:
    row = None if "\x00" in secret_id else await session.get(StoredSecret, secret_id)
    if row is None:
        raise NotFound(f"secret {secret_id!r} not found", details={"secret_id": secret_id})
    return row


async def list_secrets(session: AsyncSession, *, project_id: str | None = None, limit: int = 100,
                       offset: int = 0) -> tuple[list[StoredSecret], int]:
    """Secrets by scope and name; ``project_id`` ('' = global) keeps one scope."""
    _check_text(project_id, "project_id")
    stmt = select(StoredSecret)
    if project_id is not None:
        stmt = stmt.where(StoredSecret.scope == project_id)
    total = int((await session.execute(select(func.count()).select_from(stmt.subquery()))).scalar_one())
    rows = (await session.execute(stmt.order_by(StoredSecret.scope, StoredSecret.name)
                                  .limit(limit).offset(offset))).scalars()
    return list(rows), total


async def create(session: AsyncSession, ring: KeyRing, *, name: str, value: str, project_id: str | None = None,
                 description: str | None = None, created_by: str | None = None) -> StoredSecret:
    """Store a new secret; 409 when the name exists in that scope."""
    _check_name(name)
    _check_value(value)
    _check_text(project_id, "project_id")
    _check_text(description, "description")
    scope = project_id or ""
    if scope:
        from langorch.services import projects

        await projects.get(session, scope, field="project_id")
    existing = (await session.execute(select(StoredSecret.secret_id).where(
        StoredSecret.scope == scope, StoredSecret.name == name))).scalar_one_or_none()
    if existing is not None:
        where = f"project {scope!r}" if scope else "the global scope"
        raise DuplicateSecret(f"a secret named {name!r} already exists in {where}",
                              details={"secret_id": existing, "name": name, "project_id": scope or None})
    ciphertext, fingerprint = ring.seal(scope, name, 1, value)
    row = StoredSecret(scope=scope, name=name, description=description, version=1, ciphertext=ciphertext,
                       key_fingerprint=fingerprint, created_by=created_by)
    session.add(row)
    await session.commit()
    _forget(name)  # a project secret now shadows a cached global one
    return row


async def update(session: AsyncSession, ring: KeyRing, secret_id: str, changes: Mapping[str, Any]) -> StoredSecret:
    """Apply ``value`` (a rotation: version + 1) and/or ``description``."""
    row = await get(session, secret_id)
    _check_text(changes.get("description"), "description")
    if changes.get("value") is not None:
        value = str(changes["value"])
        _check_value(value)
        row.version += 1
        row.ciphertext, row.key_fingerprint = ring.seal(row.scope, row.name, row.version, value)
    if "description" in changes:
        row.description = changes["description"]
    row.updated_at = datetime.now(UTC)
    await session.commit()
    _forget(row.name)
    return row


async def delete(session: AsyncSession, secret_id: str) -> None:
    row = await get(session, secret_id)
    name = row.name
    await session.delete(row)
    await session.commit()
    _forget(name)


# -- the provider ----------------------------------------------------------------------------


class StoreSecrets:
    """``secrets_config.provider: "langorch"`` (alias ``builtin``): a ref's key is a secret
    name (``name`` or ``name#field`` of a JSON value), looked up in the run's project, then
    globally. Values are cached ``cache_ttl_s`` seconds; a change through this process's
    store drops them at once. ``last_used_at`` is set whenever a value is read from the
    database.
    """

    def __init__(self, sessions: async_sessionmaker[AsyncSession], ring: KeyRing | Callable[[], KeyRing], *,
                 cache_ttl_s: float = DEFAULT_CACHE_TTL_S, clock: Callable[[], float] | None = None) -> None:
        self._sessions = sessions
        self._ring = ring
        kw: dict[str, Any] = {"clock": clock} if clock is not None else {}
        self._cache = TtlCache(cache_ttl_s, namespace=CACHE_NAMESPACE, **kw)
        self._projects: dict[str, str] = {}

    def ring(self) -> KeyRing:
        return self._ring if isinstance(self._ring, KeyRing) else self._ring()

    async def _project_of(self, run_id: str | None) -> str:
        if not run_id:
            return ""
        if run_id not in self._projects:
            async with self._sessions() as session:
                project = (await session.execute(select(Run.project_id).where(Run.run_id == run_id))).scalar()
            if len(self._projects) > 10_000:
                self._projects.clear()
            self._projects[run_id] = project or ""
        return self._projects[run_id]

    async def get(self, ref: SecretRef, *, run_id: str | None = None) -> Any:
        name, field = split_key(ref.key)
        try:
            project = await self._project_of(run_id)
            value = await self._cache.get_or_load((project, name), lambda: self._read(ref, project, name))
        except SQLAlchemyError as exc:
            raise secret_error(ref, "SecretsUnavailable", f"the secret store's database failed: "
                                                          f"{type(exc).__name__}", retryable=True) from exc
        return select_field(ref, value, field)

    async def _read(self, ref: SecretRef, project: str, name: str) -> str:
        scopes = [project, ""] if project else [""]
        async with self._sessions() as session:
            rows = (await session.execute(select(StoredSecret).where(
                StoredSecret.name == name, StoredSecret.scope.in_(scopes)))).scalars().all()
            row = next((r for scope in scopes for r in rows if r.scope == scope), None)
            if row is None:
                where = f"project {project!r} or the global scope" if project else "the global scope"
                raise secret_error(ref, "SecretNotFound", f"no secret named {name!r} in {where} of the built-in "
                                                          "store (create it in the UI, or POST /api/secrets)")
            try:
                value = await asyncio.to_thread(self.ring().open, row)
            except MasterKeyError as exc:
                raise secret_error(ref, "SecretsConfigError", exc.message) from None
            await session.execute(sql_update(StoredSecret).where(StoredSecret.secret_id == row.secret_id)
                                  .values(last_used_at=datetime.now(UTC), updated_at=StoredSecret.updated_at))
            await session.commit()
        return value


# -- rotation ------------------------------------------------------------------------------


async def _reencrypt(sessions: async_sessionmaker[AsyncSession], ring: KeyRing, new: MasterKey) -> int:
    """Decrypt every row with the ring and encrypt it under ``new``, in one transaction."""
    async with sessions() as session, session.begin():
        rows = (await session.execute(select(StoredSecret).with_for_update())).scalars().all()
        plain = [(row, ring.open(row)) for row in rows]  # every row first: a failure changes nothing
        for row, value in plain:
            await session.execute(sql_update(StoredSecret).where(StoredSecret.secret_id == row.secret_id).values(
                ciphertext=encrypt_value(new, row.scope, row.name, row.version, value),
                key_fingerprint=new.fingerprint, updated_at=StoredSecret.updated_at))
    return len(plain)


async def _uses_key(sessions: async_sessionmaker[AsyncSession], fingerprint: str) -> bool:
    async with sessions() as session:
        found = await session.execute(select(StoredSecret.secret_id)
                                      .where(StoredSecret.key_fingerprint == fingerprint).limit(1))
        return found.first() is not None


async def rotate_master_key(url: str, settings: SecretsSettings, environ: Mapping[str, str] | None = None) -> str:
    """Re-encrypt every secret of the database at ``url`` under a new master key; returns a
    report for the operator. MasterKeyError when a key is missing or a row cannot be read."""
    from langorch.store.db import make_engine, make_sessionmaker

    env = os.environ if environ is None else environ
    ring = KeyRing(settings, env)
    engine = make_engine(url)
    try:
        sessions = make_sessionmaker(engine)
        try:  # the table first: nothing is written beside a database without it
            async with sessions() as session:
                await session.execute(select(func.count()).select_from(StoredSecret))
        except SQLAlchemyError as exc:
            raise StoreNotReady(f"cannot read the secrets of {url.rsplit('@', 1)[-1]} ({type(exc).__name__}); "
                                "is it migrated (langorch migrate)?") from exc
        if ring.from_environment:
            if not env.get(NEW_KEY_ENV):
                raise MasterKeyError(f"the master key comes from {MASTER_KEY_ENV}: put the new key in "
                                     f"{NEW_KEY_ENV} and run this again (make one with: python -c \"import "
                                     "base64, os; print(base64.b64encode(os.urandom(32)).decode())\")")
            new = MasterKey.parse(env[NEW_KEY_ENV], NEW_KEY_ENV)
            count = await _reencrypt(sessions, ring, new)
            return (f"re-encrypted {count} secret(s) under the key in {NEW_KEY_ENV} (fingerprint "
                    f"{new.fingerprint[:12]}); now set {MASTER_KEY_ENV} to that key on every server and worker "
                    f"and restart them (until then, give them the old key as {PREVIOUS_KEY_ENV})")
        ring.current()  # creates the key file on a first use
        pending = ring.read_key(ring.pending_file)
        if pending is not None and await _uses_key(sessions, pending.fingerprint):
            os.replace(ring.key_file, ring.previous_file)  # an interrupted rotation committed: finish it
            os.replace(ring.pending_file, ring.key_file)
            ring = KeyRing(settings, env)
        new = MasterKey.generate(str(ring.key_file))
        write_key_file(ring.pending_file, new, exclusive=False)
        try:
            count = await _reencrypt(sessions, ring, new)
        except BaseException:
            ring.pending_file.unlink(missing_ok=True)
            raise
        os.replace(ring.key_file, ring.previous_file)
        os.replace(ring.pending_file, ring.key_file)
        return (f"re-encrypted {count} secret(s) under a new master key (fingerprint {new.fingerprint[:12]}) in "
                f"{ring.key_file}; the old key is kept in {ring.previous_file} for servers that have not "
                "reloaded yet — delete it once none is running with the old key")
    finally:
        await engine.dispose()


