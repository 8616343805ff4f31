"""Masks sensitive values in every event: variables marked sensitive, keys that look
like secrets, and the values of secrets the run has read."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

MASK = "***"
_SECRET_WORD = re.compile(
    r"(?<![a-z])(password|passwd|passphrase|pwd|secrets?|token|api_?key|authorization|credentials?"
    r"|private_?key|cookie)(?![a-z])")
"""A secret word as a whole segment of a key (``access_token``, ``apiKey``, ``db-password``),
so counters such as ``prompt_tokens`` or ``max_tokens`` stay visible."""
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def looks_secret(key: str) -> bool:
    """Whether a mapping key names a secret (its value is then masked)."""
    return _SECRET_WORD.search(_CAMEL.sub("_", key).lower().replace("-", "_")) is not None


class Redactor:
    def __init__(self, sensitive_names: Iterable[str] = ()) -> None:
        self.sensitive_names = set(sensitive_names)
        self.secret_values: set[str] = set()

    def add_secret(self, value: Any) -> None:
        if isinstance(value, str) and len(value) >= 4:
            self.secret_values.add(value)
        elif isinstance(value, Mapping):
            for v in value.values():
                self.add_secret(v)

    def is_sensitive(self, name: str) -> bool:
        """A variable marked sensitive, or one whose name says it holds a secret."""
        return name in self.sensitive_names or looks_secret(name)

    def add_sensitive_values(self, variables: Mapping[str, Any] | None) -> None:
        """Mask the values of sensitive variables wherever they appear (a log line, a prompt)."""
        for name, value in (variables or {}).items():
            if self.is_sensitive(str(name)):
                self.add_secret(value)

    def redact(self, value: Any) -> Any:
        return self._walk(value, 0)

    def _walk(self, value: Any, depth: int) -> Any:
        if depth > 32:
            return value
        if isinstance(value, Mapping):
            out = {}
            for k, v in value.items():
                key = str(k)
                if key in self.sensitive_names or looks_secret(key):
                    out[k] = MASK if v is not None else None
                else:
                    out[k] = self._walk(v, depth + 1)
            return out
        if isinstance(value, list | tuple):
            return [self._walk(v, depth + 1) for v in value]
        if isinstance(value, str) and self.secret_values:
            for secret in self.secret_values:
                if secret in value:
                    value = value.replace(secret, MASK)
            return value
        return value
