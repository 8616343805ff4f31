"""Real loopback stand-ins for the outside world: an OpenAI-compatible LLM, agents, MCP.

Fixtures for them are in :mod:`tests.fakes.fixtures` (``fake_llm``, ``fake_agent``,
``fake_mcp``).
"""

from tests.fakes.agent_server import FakeAgentServer
from tests.fakes.llm_server import FakeLlmServer

__all__ = ["FakeAgentServer", "FakeLlmServer"]
