"""Masks sensitive values in every event: variables marked sensitive, keys that look
like secrets, and the values of secrets the run has read."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

MASK = "***"
_SECRET_KEY = re.compile(r"(pass(word)?|secret|token|api[_-]?key|authorization|credential|private[_-]?key)",
                         re.IGNORECASE)


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

    def redact(self, value: Any) -> Any:
        return self._walk(value, 0)

    def _walk(self, value: Any, depth: int) -> Any:
        if depth > 32:
            return value
        if isinstance(value, Mapping):
            out = {}
            for k, v in value.items():
                key = str(k)
                if key in self.sensitive_names or _SECRET_KEY.search(key):
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
