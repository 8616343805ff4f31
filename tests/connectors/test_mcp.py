"""McpToolClient against a real MCP server: streamable HTTP on loopback, and stdio."""

from __future__ import annotations

import socket
import sys
from pathlib import Path

import pytest

from langorch.connectors.mcp import McpToolClient
from langorch.runtime.errors import McpError, StepTimeout
from tests.fakes.mcp_server import FakeMcpHttpServer

REPO_ROOT = Path(__file__).resolve().parents[2]
STDIO_COMMAND = [sys.executable, "-m", "tests.fakes.mcp_server"]


@pytest.fixture
def http_tools(fake_mcp: FakeMcpHttpServer) -> McpToolClient:
    return McpToolClient({"tools": fake_mcp.url}, timeout_s=10)


@pytest.mark.asyncio
async def test_structured_content_is_returned_when_the_tool_has_it(http_tools: McpToolClient) -> None:
    assert await http_tools.call_tool("tools", "add", {"a": 2, "b": 40}) == {"result": 42}


@pytest.mark.asyncio
async def test_plain_text_content_is_returned_as_text(http_tools: McpToolClient) -> None:
    assert await http_tools.call_tool("tools", "echo", {"text": "hi"}) == "echo: hi"


@pytest.mark.asyncio
async def test_text_content_that_is_json_is_parsed(http_tools: McpToolClient) -> None:
    result = await http_tools.call_tool("tools", "lookup", {"key": "inv-7"})
    assert result == {"key": "inv-7", "found": True, "value": "INV-7"}


@pytest.mark.asyncio
async def test_tool_reporting_is_error_raises_mcp_error(http_tools: McpToolClient) -> None:
    with pytest.raises(McpError) as caught:
        await http_tools.call_tool("tools", "fail", {"message": "ledger locked"})

    assert caught.value.error_type == "McpToolError"
    assert "fail" in caught.value.message
    assert caught.value.details == {"server": "tools", "tool": "fail"}


@pytest.mark.asyncio
async def test_unknown_tool_raises_mcp_error_naming_it(http_tools: McpToolClient) -> None:
    with pytest.raises(McpError, match="Unknown tool: nope"):
        await http_tools.call_tool("tools", "nope", {})


@pytest.mark.asyncio
async def test_slow_tool_raises_step_timeout(http_tools: McpToolClient) -> None:
    with pytest.raises(StepTimeout) as caught:
        await http_tools.call_tool("tools", "slow", {"seconds": 5}, timeout_s=0.5)

    assert caught.value.retryable is True


@pytest.mark.asyncio
async def test_list_tools_describes_each_tool(http_tools: McpToolClient) -> None:
    tools = {tool["name"]: tool for tool in await http_tools.list_tools("tools")}

    assert set(tools) == {"add", "echo", "lookup", "fail", "slow"}
    assert tools["add"]["description"] == "Add two integers."
    assert set(tools["add"]["input_schema"]["properties"]) == {"a", "b"}


@pytest.mark.asyncio
async def test_wrong_endpoint_path_raises_mcp_error(fake_mcp: FakeMcpHttpServer) -> None:
    client = McpToolClient({"tools": fake_mcp.url.replace("/mcp", "/elsewhere")}, timeout_s=10)
    with pytest.raises(McpError) as caught:
        await client.call_tool("tools", "add", {"a": 1, "b": 2})

    assert caught.value.error_type == "McpProtocolError"
    assert caught.value.error_code is not None


@pytest.mark.asyncio
async def test_unreachable_server_is_a_retryable_error() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = McpToolClient({"tools": f"http://127.0.0.1:{port}/mcp"}, timeout_s=10)
    with pytest.raises(McpError) as caught:
        await client.call_tool("tools", "add", {"a": 1, "b": 2})

    assert (caught.value.error_type, caught.value.retryable) == ("McpServerUnavailable", True)
    assert caught.value.__cause__ is not None


@pytest.mark.asyncio
async def test_unknown_server_name_is_not_retryable() -> None:
    client = McpToolClient({"tools": "http://127.0.0.1:1/mcp"})
    with pytest.raises(McpError) as caught:
        await client.call_tool("crm", "add", {})

    assert (caught.value.error_type, caught.value.retryable) == ("NoMcpServer", False)
    assert "'crm'" in caught.value.message and "tools" in caught.value.message


@pytest.mark.asyncio
async def test_stdio_server_given_as_a_command_list() -> None:
    client = McpToolClient({"local": STDIO_COMMAND}, cwd=REPO_ROOT, timeout_s=30)

    assert await client.call_tool("local", "add", {"a": 1, "b": 1}) == {"result": 2}
    assert await client.call_tool("local", "echo", {"text": "over stdio"}) == "echo: over stdio"


@pytest.mark.asyncio
async def test_missing_stdio_command_is_not_retryable() -> None:
    client = McpToolClient({"local": "/nonexistent/mcp-server --flag"}, timeout_s=10)
    with pytest.raises(McpError) as caught:
        await client.call_tool("local", "add", {"a": 1, "b": 1})

    assert (caught.value.error_type, caught.value.retryable) == ("McpServerUnavailable", False)


def test_register_rejects_empty_specs() -> None:
    with pytest.raises(ValueError):
        McpToolClient({"x": ""})
    with pytest.raises(ValueError):
        McpToolClient({"x": []})
