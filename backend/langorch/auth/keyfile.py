"""The HS256 key: LANGORCH_AUTH__JWT_SECRET, else a random key kept in a 0600 file."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from langorch.settings import AuthSettings


def signing_key(settings: AuthSettings) -> bytes:
    if settings.jwt_secret is not None:
        value = settings.jwt_secret.get_secret_value()
        if len(value) < 32:
            raise ValueError("LANGORCH_AUTH__JWT_SECRET must be at least 32 characters")
        return value.encode()
    path = Path(settings.secret_file)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process created it first: read theirs
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_urlsafe(48))
    key = path.read_text().strip()
    if len(key) < 32:
        raise ValueError(f"{path} holds no usable key (at least 32 characters); delete it to make a new one")
    return key.encode()
