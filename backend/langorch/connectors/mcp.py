"""MCP connector: call tools on Model Context Protocol servers with the official ``mcp`` SDK.

A server is named in the procedure and mapped here to either a URL (streamable HTTP,
``http://host:port/mcp``) or a command (stdio: a list such as
``["python", "-m", "my_server"]``, or one shell-quoted string).

Errors raised:

    unknown server name             → McpError   NoMcpServer, not retryable
    the tool answered ``isError``   → McpError   McpToolError, retryable
    protocol error from the server  → McpError   McpProtocolError, ``error_code`` = JSON-RPC
                                                 code; not retryable for invalid
                                                 request/params and unknown method
    server unreachable / crashed    → McpError   McpServerUnavailable, retryable (not when
                                                 the command does not exist)
    no answer within the timeout    → StepTimeout TimeoutException, retryable

Each call opens its own connection: the SDK binds a session to the task that opened it
(anyio task groups), and a run's steps execute in different tasks, possibly different
workers; a tool call is rare enough that the connection cost does not matter.
"""

from __future__ import annotations

import asyncio
import json
import shlex
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import httpx2
from mcp import Client, MCPError, StdioServerParameters
from mcp_types import (
    INVALID_PARAMS,
    INVALID_REQUEST,
    METHOD_NOT_FOUND,
    REQUEST_TIMEOUT,
    CallToolResult,
    TextContent,
)

from langorch.runtime.errors import McpError, StepError, StepTimeout

__all__ = ["McpServerSpec", "McpToolClient"]

McpServerSpec = str | Sequence[str]
"""A URL (``http://``/``https://``), or a command: an argv list or a shell-quoted string."""

_NOT_RETRYABLE_CODES = frozenset({INVALID_PARAMS, INVALID_REQUEST, METHOD_NOT_FOUND})


class McpToolClient:
    """:class:`~langorch.runtime.ports.McpClient` over streamable HTTP or stdio.

    ``servers`` maps a server name to its URL or command. ``env`` and ``cwd`` apply to
    stdio servers; ``timeout_s`` is the default per call.
    """

    def __init__(
        self,
        servers: Mapping[str, McpServerSpec] | None = None,
        *,
        env: Mapping[str, str] | None = None,
        cwd: str | Path | None = None,
        timeout_s: float = 60.0,
    ) -> None:
        self._servers: dict[str, McpServerSpec] = {}
        for name, spec in (servers or {}).items():
            self.register(name, spec)
        self._env = dict(env) if env is not None else None
        self._cwd = cwd
        self._timeout_s = timeout_s

    def register(self, name: str, spec: McpServerSpec) -> None:
        """Map server ``name`` to a URL or command (replacing any previous one)."""
        if isinstance(spec, str):
            if not spec.strip():
                raise ValueError(f"MCP server {name!r} needs a URL or a command")
        elif not spec or not all(isinstance(part, str) for part in spec):
            raise ValueError(f"MCP server {name!r} command must be a non-empty list of strings")
        self._servers[name] = spec if isinstance(spec, str) else tuple(spec)

    @property
    def servers(self) -> dict[str, McpServerSpec]:
        """Registered server name → URL or command."""
        return dict(self._servers)

    async def call_tool(
        self, server: str, tool: str, arguments: Mapping[str, Any], *, timeout_s: float | None = None
    ) -> Any:
        """Call ``tool`` on ``server``; returns its structured content, else its text
        (parsed as JSON when it is JSON), else its content blocks as dicts."""
        target = self._target(server)
        timeout = self._timeout_s if timeout_s is None else timeout_s
        where = f"tool {tool!r} on MCP server {server!r}"
        details = {"server": server, "tool": tool}
        try:
            async with asyncio.timeout(timeout):
                async with Client(target, read_timeout_seconds=timeout, cache=None) as client:
                    result = await client.call_tool(tool, dict(arguments))
        except Exception as exc:
            raise _convert(exc, where, timeout, details) from exc
        if result.is_error:
            raise McpError(
                f"{where} reported an error: {_joined_text(result) or 'no message'}",
                error_type="McpToolError",
                retryable=True,
                details=details,
            )
        return _value(result)

    async def list_tools(self, server: str, *, timeout_s: float | None = None) -> list[dict[str, Any]]:
        """The tools ``server`` offers: ``[{name, description, input_schema}]``."""
        target = self._target(server)
        timeout = self._timeout_s if timeout_s is None else timeout_s
        try:
            async with asyncio.timeout(timeout):
                async with Client(target, read_timeout_seconds=timeout, cache=None) as client:
                    listing = await client.list_tools()
        except Exception as exc:
            raise _convert(
                exc, f"listing tools of MCP server {server!r}", timeout, {"server": server}
            ) from exc
        return [
            {"name": tool.name, "description": tool.description or "", "input_schema": tool.input_schema}
            for tool in listing.tools
        ]

    def _target(self, server: str) -> str | StdioServerParameters:
        spec = self._servers.get(server)
        if spec is None:
            known = ", ".join(sorted(self._servers)) or "none"
            raise McpError(
                f"no MCP server named {server!r} is configured (configured: {known}); "
                "map it to a URL (http://host:port/mcp) or a command",
                error_type="NoMcpServer",
                retryable=False,
                details={"server": server},
            )
        if isinstance(spec, str) and spec.startswith(("http://", "https://")):
            return spec
        argv = shlex.split(spec) if isinstance(spec, str) else list(spec)
        return StdioServerParameters(command=argv[0], args=argv[1:], env=self._env, cwd=self._cwd)


def _leaf(exc: BaseException) -> BaseException:
    """The first real error inside (nested) exception groups from the SDK's task groups."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return exc


def _convert(exc: Exception, where: str, timeout: float, details: dict[str, Any]) -> StepError:
    leaf = _leaf(exc)
    if isinstance(leaf, MCPError):
        if leaf.code == REQUEST_TIMEOUT:
            return StepTimeout(f"{where} did not answer within {timeout:g}s", details=details)
        return McpError(
            f"{where} failed: {leaf.message}",
            error_type="McpProtocolError",
            retryable=leaf.code not in _NOT_RETRYABLE_CODES,
            error_code=str(leaf.code),
            details=details,
        )
    if isinstance(leaf, TimeoutError | httpx2.TimeoutException):
        return StepTimeout(f"{where} did not answer within {timeout:g}s", details=details)
    if isinstance(leaf, FileNotFoundError | PermissionError):
        return McpError(
            f"cannot start the MCP server for {where}: {leaf}",
            error_type="McpServerUnavailable",
            retryable=False,
            details=details,
        )
    if isinstance(leaf, OSError | httpx2.TransportError):
        return McpError(
            f"cannot reach the MCP server for {where}: {type(leaf).__name__}: {leaf}",
            error_type="McpServerUnavailable",
            retryable=True,
            details=details,
        )
    if isinstance(leaf, httpx2.HTTPStatusError):
        status = leaf.response.status_code
        return McpError(
            f"MCP server for {where} answered HTTP {status}",
            error_type="McpServerUnavailable",
            retryable=status in (408, 429) or status >= 500,
            status_code=status,
            details=details,
        )
    return McpError(f"{where} failed: {type(leaf).__name__}: {leaf}", error_type="McpError", details=details)


def _joined_text(result: CallToolResult) -> str:
    return "\n".join(block.text for block in result.content if isinstance(block, TextContent))


def _value(result: CallToolResult) -> Any:
    if result.structured_content is not None:
        return result.structured_content
    if not result.content:
        return None
    if all(isinstance(block, TextContent) for block in result.content):
        text = _joined_text(result)
        try:
            return json.loads(text)
        except ValueError:
            return text
    return [block.model_dump(mode="json", by_alias=True, exclude_none=True) for block in result.content]
