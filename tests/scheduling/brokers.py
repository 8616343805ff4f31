"""The real brokers of the event-bus tests: Redis (LANGORCH_TEST_REDIS_URL, default
redis://127.0.0.1:6379/0) and RabbitMQ (LANGORCH_TEST_AMQP_URL, default
amqp://guest:guest@127.0.0.1:5672/). A test that needs one skips when it does not answer,
unless LANGORCH_REQUIRE_BROKERS=1 (CI), which makes it fail instead."""

from __future__ import annotations

import os
import socket
from urllib.parse import urlsplit

import pytest

REDIS_URL = os.environ.get("LANGORCH_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
AMQP_URL = os.environ.get("LANGORCH_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")
REQUIRE_BROKERS = os.environ.get("LANGORCH_REQUIRE_BROKERS") == "1"


def require(url: str, what: str, default_port: int) -> None:
    """Skip (or fail, with LANGORCH_REQUIRE_BROKERS=1) unless ``url``'s port answers."""
    parts = urlsplit(url)
    address = (parts.hostname or "127.0.0.1", parts.port or default_port)
    try:
        socket.create_connection(address, timeout=2).close()
    except OSError as exc:
        message = f"{what} at {address[0]}:{address[1]} does not answer: {exc}"
        if REQUIRE_BROKERS:
            pytest.fail(f"{message} (LANGORCH_REQUIRE_BROKERS=1)")
        pytest.skip(message)
