"""Password hashing (argon2id through pwdlib) and the policy a new password must meet."""

from __future__ import annotations

import secrets
from functools import lru_cache

from pwdlib import PasswordHash

MIN_LENGTH = 12
MAX_LENGTH = 1024


@lru_cache(maxsize=1)
def _hasher() -> PasswordHash:
    return PasswordHash.recommended()


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password: str, hashed: str | None) -> bool:
    """Constant work whether or not the user exists (``hashed`` None still hashes once)."""
    if hashed is None:
        _hasher().hash(password)
        return False
    try:
        return bool(_hasher().verify(password, hashed))
    except Exception:
        return False


def password_problem(password: str) -> str | None:
    """Why ``password`` is not acceptable, or None."""
    if len(password) < MIN_LENGTH:
        return f"must be at least {MIN_LENGTH} characters"
    if len(password) > MAX_LENGTH:
        return f"must be at most {MAX_LENGTH} characters"
    if "\x00" in password:
        return "must not contain NUL"
    return None


def generate_password() -> str:
    return secrets.token_urlsafe(15)
