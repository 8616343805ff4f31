"""Fixtures shared by the runtime tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.runtime.harness import TinyHttp


@pytest.fixture
def http_service() -> Iterator[TinyHttp]:
    """A loopback HTTP service (``/status/N`` answers N, anything else echoes the request)."""
    with TinyHttp() as server:
        yield server
