"""The built-in secret store: secrets encrypted at rest, write-only, per project.

For users without a vault (as n8n credentials and Windmill secrets work). A value is
encrypted with AES-256-GCM under the **master key**; the associated data binds the row's
scope, name and version, so a ciphertext copied onto another row does not decrypt.
Nothing here ever returns a value to a caller other than the runtime's
:class:`StoreSecrets` provider (``secrets_config.provider: "langorch"``).

The master key is ``LANGORCH_SECRET_KEY`` (base64 of 32 bytes) or, when that is unset, the
key file (``LANGORCH_SECRETS__KEY_FILE``, default ``./var/secret.key``), created with
0600 permissions the first time the store is used. Each row records the fingerprint of
the key that encrypted it; :func:`rotate_master_key` (``langorch secrets rotate-key``)
re-encrypts every row under a new key. Keys still accepted for reading:
``LANGORCH_SECRET_KEY_PREVIOUS``, ``<key file>.previous`` and a ``<key file>.new`` left
by an interrupted rotation.

Scopes: ``''`` is global; a project id scopes a secret to that project's runs, and a
project's secret shadows a global one of the same name.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import json
import logging
import os
import re
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import func, select
from sqlalchemy import update as sql_update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from langorch.ckp.ir import SecretRef
from langorch.connectors.secret_cache import DEFAULT_CACHE_TTL_S, TtlCache, invalidate_everywhere
from langorch.connectors.secrets import secret_error, select_field, split_key
from langorch.services.errors import Conflict, Invalid, NotFound, Unavailable
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

log = logging.getLogger(__name__)

MASTER_KEY_ENV = "LANGORCH_SECRET_KEY"
PREVIOUS_KEY_ENV = "LANGORCH_SECRET_KEY_PREVIOUS"
NEW_KEY_ENV = "LANGORCH_SECRET_KEY_NEW"
NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_.-]{0,127}$"
MAX_VALUE_BYTES = 64 * 1024
CACHE_NAMESPACE = "langorch"
_NAME = re.compile(NAME_PATTERN)
_AAD_LABEL = "langorch.secret.v1"


class MasterKeyError(Unavailable):
    """503: the master key is missing, malformed or not the one that encrypted a row."""

    code = "secret_key_unavailable"


class StoreNotReady(Unavailable):
    """503: the database has no secrets table (not migrated) or cannot be reached."""

    code = "secret_store_unavailable"


class DuplicateSecret(Conflict):
    code = "duplicate_secret"


class InvalidSecret(Invalid):
    code = "invalid_secret"


# -- keys ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class MasterKey:
    """32 bytes of key and the fingerprint rows record (SHA-256 of a label and the key)."""

    key: bytes
    source: str
    """Where it came from (an environment variable's name or a file path), for messages."""

    @property
    def fingerprint(self) -> str:
        return hashlib.sha256(b"langorch-secret-key:" + self.key).hexdigest()

    @classmethod
    def parse(cls, text: str, source: str) -> MasterKey:
        """A key from its base64 text; MasterKeyError (naming ``source``, never the text) otherwise."""
        raw = text.strip().replace("-", "+").replace("_", "/")  # the URL-safe alphabet too
        try:
            key = base64.b64decode(raw + "=" * (-len(raw) % 4), validate=True)
        except (binascii.Error, ValueError):
            key = b""
        if len(key) != 32:
            raise MasterKeyError(f"{source} is not a base64-encoded 32-byte key; make one with: python -c "
                                 "\"import base64, os; print(base64.b64encode(os.urandom(32)).decode())\"")
        return cls(key, source)

    @classmethod
    def generate(cls, source: str) -> MasterKey:
        return cls(os.urandom(32), source)

    def text(self) -> str:
        return base64.b64encode(self.key).decode()


def _aad(scope: str, name: str, version: int) -> bytes:
    return json.dumps([_AAD_LABEL, scope, name, version]).encode()


def _encrypt(key: MasterKey, scope: str, name: str, version: int, value: str) -> str:
    nonce = os.urandom(12)
    sealed = AESGCM(key.key).encrypt(nonce, value.encode(), _aad(scope, name, version))
    return base64.b64encode(nonce + sealed).decode()


def _decrypt(key: MasterKey, scope: str, name: str, version: int, ciphertext: str) -> str:
    blob = base64.b64decode(ciphertext)
    return AESGCM(key.key).decrypt(blob[:12], blob[12:], _aad(scope, name, version)).decode()


def _write_key_file(path: Path, key: MasterKey, *, exclusive: bool) -> None:
    """Write ``key`` to ``path`` readable by its owner only (0600), flushed to disk."""
    path.parent.mkdir(parents=True, exist_ok=True)
    flags = os.O_WRONLY | os.O_CREAT | (os.O_EXCL if exclusive else os.O_TRUNC)
    fd = os.open(path, flags, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, (key.text() + "\n").encode())
        os.fsync(fd)
    finally:
        os.close(fd)


class KeyRing:
    """The current master key (for writing) and every key still accepted for reading.

    With the key file, a change of the file (``langorch secrets rotate-key`` run while the
    server is up) is noticed at the next use: new rows are written under the new key.
    """

    def __init__(self, settings: SecretsSettings, environ: Mapping[str, str] | None = None) -> None:
        self._environ = os.environ if environ is None else environ
        self.key_file = Path(settings.key_file)
        self._current: MasterKey | None = None
        self._readers: dict[str, MasterKey] = {}
        self._stamp: tuple[float, int] | None = None

    @property
    def from_environment(self) -> bool:
        return bool(self._environ.get(MASTER_KEY_ENV))

    @property
    def previous_file(self) -> Path:
        return self.key_file.with_name(self.key_file.name + ".previous")

    @property
    def pending_file(self) -> Path:
        return self.key_file.with_name(self.key_file.name + ".new")

    def _file_stamp(self) -> tuple[float, int] | None:
        try:
            stat = self.key_file.stat()
        except FileNotFoundError:
            return None
        return stat.st_mtime, stat.st_size

    def _read_file(self, path: Path) -> MasterKey | None:
        try:
            text = path.read_text(encoding="ascii")
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError) as exc:
            raise MasterKeyError(f"cannot read the secret key file {path}: {exc}") from None
        if path.stat().st_mode & 0o077:
            log.warning("the secret key file %s is readable by others than its owner: chmod 600 it", path)
        return MasterKey.parse(text, str(path))

    def _load(self) -> None:
        readers: list[MasterKey] = []
        if self.from_environment:
            current = MasterKey.parse(self._environ[MASTER_KEY_ENV], MASTER_KEY_ENV)
            if self._environ.get(PREVIOUS_KEY_ENV):
                readers.append(MasterKey.parse(self._environ[PREVIOUS_KEY_ENV], PREVIOUS_KEY_ENV))
        else:
            loaded = self._read_file(self.key_file)
            if loaded is None:
                try:
                    _write_key_file(self.key_file, MasterKey.generate(str(self.key_file)), exclusive=True)
                    log.info("created the secret store's master key file %s (0600)", self.key_file)
                except FileExistsError:
                    pass  # another process made it first
                except OSError as exc:
                    raise MasterKeyError(f"cannot create the secret key file {self.key_file}: {exc}") from None
                loaded = self._read_file(self.key_file)
                assert loaded is not None
            current = loaded
            self._stamp = self._file_stamp()
            for path in (self.previous_file, self.pending_file):
                other = self._read_file(path)
                if other is not None:
                    readers.append(other)
        self._current = current
        self._readers = {key.fingerprint: key for key in (*readers, current)}

    def current(self) -> MasterKey:
        """The key new values are encrypted with (created on first use with the key file)."""
        if self._current is None or (not self.from_environment and self._file_stamp() != self._stamp):
            self._load()
        assert self._current is not None
        return self._current

    def reader(self, fingerprint: str) -> MasterKey | None:
        """The key with this fingerprint, if it is still accepted."""
        self.current()
        key = self._readers.get(fingerprint)
        if key is None and not self.from_environment:
            self._load()  # maybe rotated by another process just now
            key = self._readers.get(fingerprint)
        return key

    def seal(self, scope: str, name: str, version: int, value: str) -> tuple[str, str]:
        """``(ciphertext, key fingerprint)`` of ``value`` for that row."""
        key = self.current()
        return _encrypt(key, scope, name, version, value), key.fingerprint

    def open(self, row: StoredSecret) -> str:
        """The row's value; MasterKeyError when no accepted key decrypts it."""
        key = self.reader(row.key_fingerprint)
        where = f"secret {row.name!r} ({'global' if not row.scope else 'project ' + row.scope})"
        if key is None:
            raise MasterKeyError(f"{where} was encrypted with a master key this server does not have "
                                 f"(fingerprint {row.key_fingerprint[:12]}…): set {MASTER_KEY_ENV} (or "
                                 f"{PREVIOUS_KEY_ENV}) to it, or restore the key file")
        try:
            return _decrypt(key, row.scope, row.name, row.version, row.ciphertext)
        except (InvalidTag, ValueError, binascii.Error):
            raise MasterKeyError(f"{where} does not decrypt: its ciphertext was altered or moved") from None


_RINGS: dict[tuple[str, str], KeyRing] = {}


def keyring_for(settings: SecretsSettings) -> KeyRing:
    """The process-wide key ring for these settings (one per key source)."""
    source = os.environ.get(MASTER_KEY_ENV) or ""
    ident = (hashlib.sha256(source.encode()).hexdigest(), str(Path(settings.key_file).resolve()))
    ring = _RINGS.get(ident)
    if ring is None:
        ring = _RINGS[ident] = KeyRing(settings)
    return ring


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
                ciphertext=_encrypt(new, row.scope, row.name, row.version, value),
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
        pending = ring._read_file(ring.pending_file)
        if pending is not None and await _uses_key(sessions, pending.fingerprint):
            os.replace(ring.key_file, ring.previous_file)  # an interrupted rotation committed: finish it
            os.replace(ring.pending_file, ring.key_file)
            ring = KeyRing(settings, env)
        new = MasterKey.generate(str(ring.key_file))
        _write_key_file(ring.pending_file, new, exclusive=False)
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


