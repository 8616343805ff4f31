"""A real MCP server (the ``mcp`` SDK's ``MCPServer``) with a few deterministic tools.

Over streamable HTTP, in a background thread, in a test::

    with FakeMcpHttpServer() as server:
        client = McpToolClient({"tools": server.url})

Over stdio, as a subprocess the client launches::

    McpToolClient({"tools": [sys.executable, "-m", "tests.fakes.mcp_server"]}, cwd=REPO_ROOT)

Tools: ``add(a, b) -> int`` (structured), ``echo(text) -> str`` (text only),
``lookup(key) -> JSON text``, ``fail(message)`` (the tool reports an error),
``slow(seconds)`` (sleeps, then returns ``"done"``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import threading
import time
from types import TracebackType
from typing import Self

import uvicorn
from mcp.server.mcpserver import MCPServer


def build_server(name: str = "fake-mcp") -> MCPServer:
    """The fake server and its tools."""
    server = MCPServer(name, log_level="WARNING")

    @server.tool(description="Add two integers.")
    def add(a: int, b: int) -> int:
        return a + b

    @server.tool(description="Echo the text back (unstructured).", structured_output=False)
    def echo(text: str) -> str:
        return f"echo: {text}"

    @server.tool(description="Look up a record; answers JSON as text.", structured_output=False)
    def lookup(key: str) -> str:
        return json.dumps({"key": key, "found": True, "value": key.upper()})

    @server.tool(description="Always fails with the given message.")
    def fail(message: str) -> str:
        raise ValueError(message)

    @server.tool(description="Sleep, then answer.", structured_output=False)
    async def slow(seconds: float) -> str:
        await asyncio.sleep(seconds)
        return "done"

    return server


class FakeMcpHttpServer:
    """:func:`build_server` over streamable HTTP on 127.0.0.1 (a free port), in a thread."""

    def __init__(self) -> None:
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._port = 0

    def start(self) -> Self:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        self._port = int(sock.getsockname()[1])
        app = build_server().streamable_http_app(host="127.0.0.1")
        config = uvicorn.Config(app, log_level="warning", lifespan="on")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, name="FakeMcpHttpServer", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("fake MCP server did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._server = None
        self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """The MCP endpoint, ``http://127.0.0.1:PORT/mcp``."""
        return f"http://127.0.0.1:{self._port}/mcp"


def main(argv: list[str] | None = None) -> int:
    """Serve the fake tools over stdio (default) or streamable HTTP."""
    parser = argparse.ArgumentParser(prog="python -m tests.fakes.mcp_server", description=__doc__)
    parser.add_argument("--http", action="store_true", help="serve streamable HTTP instead of stdio")
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args(argv)
    server = build_server()
    if args.http:
        server.run("streamable-http", host="127.0.0.1", port=args.port)
    else:
        server.run("stdio")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
