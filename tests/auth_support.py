"""Credentials for tests: HS256 bearer tokens signed with the key every test server uses.

``tests/conftest.py`` puts ``TEST_JWT_SECRET`` in ``LANGORCH_AUTH__JWT_SECRET`` for the
whole session, so in-process apps and ``langorch serve`` subprocesses alike accept
:func:`bearer` tokens; a test that is about authentication builds its own settings."""

from __future__ import annotations

import time
from typing import Any

import jwt

TEST_JWT_SECRET = "langorch-tests-hs256-key-not-for-production-use-0123456789"
TEST_SECRET_KEY = "dGVzdHMtb25seS1tYXN0ZXIta2V5LTMyLWJ5dGVzISE="
"""The built-in secret store's master key in tests (base64 of 32 bytes), so no test writes ./var/secret.key."""


def token(role: str | None = "admin", name: str = "tester", *, secret: str = TEST_JWT_SECRET,
          ttl_s: int = 3600, **claims: Any) -> str:
    body: dict[str, Any] = {"sub": name, "preferred_username": name, "exp": int(time.time()) + ttl_s}
    if role is not None:
        body["langorch_role"] = role
    body.update(claims)
    return jwt.encode(body, secret, algorithm="HS256")


def bearer(role: str | None = "admin", name: str = "tester", **claims: Any) -> dict[str, str]:
    """``Authorization`` header for a caller with ``role``."""
    return {"Authorization": f"Bearer {token(role, name, **claims)}"}
