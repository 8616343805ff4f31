"""The built-in secret store's master key: where it comes from, and AES-256-GCM with it.

The key is ``LANGORCH_SECRET_KEY`` (base64 of 32 bytes) or, when that is unset, the key
file (``LANGORCH_SECRETS__KEY_FILE``, default ``./var/secret.key``), created with 0600
permissions the first time the store is used. A :class:`KeyRing` encrypts with the current
key and decrypts with any key still accepted: ``LANGORCH_SECRET_KEY_PREVIOUS``,
``<key file>.previous`` and a ``<key file>.new`` an interrupted rotation left behind. A
value's associated data binds the row's scope, name and version, so a ciphertext copied
onto another row does not decrypt.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from langorch.services.errors import Unavailable
from langorch.settings import SecretsSettings
from langorch.store.models import StoredSecret

__all__ = [
    "MASTER_KEY_ENV",
    "NEW_KEY_ENV",
    "PREVIOUS_KEY_ENV",
    "KeyRing",
    "MasterKey",
    "MasterKeyError",
    "decrypt_value",
    "encrypt_value",
    "keyring_for",
    "write_key_file",
]

log = logging.getLogger(__name__)

MASTER_KEY_ENV = "LANGORCH_SECRET_KEY"
PREVIOUS_KEY_ENV = "LANGORCH_SECRET_KEY_PREVIOUS"
NEW_KEY_ENV = "LANGORCH_SECRET_KEY_NEW"
_AAD_LABEL = "langorch.secret.v1"


class MasterKeyError(Unavailable):
    """503: the master key is missing, malformed or not the one that encrypted a row."""

    code = "secret_key_unavailable"


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


def encrypt_value(key: MasterKey, scope: str, name: str, version: int, value: str) -> str:
    nonce = os.urandom(12)
    sealed = AESGCM(key.key).encrypt(nonce, value.encode(), _aad(scope, name, version))
    return base64.b64encode(nonce + sealed).decode()


def decrypt_value(key: MasterKey, scope: str, name: str, version: int, ciphertext: str) -> str:
    blob = base64.b64decode(ciphertext)
    return AESGCM(key.key).decrypt(blob[:12], blob[12:], _aad(scope, name, version)).decode()


def write_key_file(path: Path, key: MasterKey, *, exclusive: bool) -> None:
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

    def read_key(self, path: Path) -> MasterKey | None:
        """The key in ``path``, None when there is no such file (MasterKeyError when it is unreadable)."""
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
            loaded = self.read_key(self.key_file)
            if loaded is None:
                try:
                    write_key_file(self.key_file, MasterKey.generate(str(self.key_file)), exclusive=True)
                    log.info("created the secret store's master key file %s (0600)", self.key_file)
                except FileExistsError:
                    pass  # another process made it first
                except OSError as exc:
                    raise MasterKeyError(f"cannot create the secret key file {self.key_file}: {exc}") from None
                loaded = self.read_key(self.key_file)
                assert loaded is not None
            current = loaded
            self._stamp = self._file_stamp()
            for path in (self.previous_file, self.pending_file):
                other = self.read_key(path)
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
        return encrypt_value(key, scope, name, version, value), key.fingerprint

    def open(self, row: StoredSecret) -> str:
        """The row's value; MasterKeyError when no accepted key decrypts it."""
        key = self.reader(row.key_fingerprint)
        where = f"secret {row.name!r} ({'global' if not row.scope else 'project ' + row.scope})"
        if key is None:
            raise MasterKeyError(f"{where} was encrypted with a master key this server does not have "
                                 f"(fingerprint {row.key_fingerprint[:12]}…): set {MASTER_KEY_ENV} (or "
                                 f"{PREVIOUS_KEY_ENV}) to it, or restore the key file")
        try:
            return decrypt_value(key, row.scope, row.name, row.version, row.ciphertext)
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
