"""Pytest fixtures for the loopback fakes; ``tests/conftest.py`` star-imports this module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes.agent_server import FakeAgentServer
from tests.fakes.llm_server import FakeLlmServer
from tests.fakes.mcp_server import FakeMcpHttpServer

__all__ = ["fake_agent", "fake_llm", "fake_mcp"]


@pytest.fixture
def fake_llm() -> Iterator[FakeLlmServer]:
    """A started :class:`FakeLlmServer`; pass ``fake_llm.base_url`` as the OpenAI base URL."""
    with FakeLlmServer() as server:
        yield server


@pytest.fixture
def fake_agent() -> Iterator[FakeAgentServer]:
    """A started :class:`FakeAgentServer`; register ``fake_agent.url`` for a channel."""
    with FakeAgentServer() as server:
        yield server


@pytest.fixture
def fake_mcp() -> Iterator[FakeMcpHttpServer]:
    """A started MCP server over streamable HTTP; ``fake_mcp.url`` is its endpoint."""
    with FakeMcpHttpServer() as server:
        yield server
