"""Oversized bodies get 413 with the error envelope, with or without a Content-Length."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import AsyncIterator

import httpx
import pytest

from langorch.api.app import create_app
from langorch.settings import Settings
from tests.api.conftest import MAX_BODY, LiveServer, assert_error, ckp
from tests.auth_support import bearer


def _big_body() -> bytes:
    return json.dumps({"ckp_json": ckp(description="x" * (MAX_BODY + 10))}).encode()


async def _chunks(data: bytes, size: int = 16 * 1024) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start:start + size]


@pytest.mark.asyncio
async def test_declared_content_length_over_the_limit_is_413(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/procedures", content=_big_body(), headers={"content-type": "application/json"})

    error = assert_error(response, 413, "payload_too_large")
    assert str(MAX_BODY) in error["message"]


@pytest.mark.asyncio
async def test_a_chunked_body_over_the_limit_is_413(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/procedures", content=_chunks(_big_body()),
                                 headers={"content-type": "application/json"})

    assert "content-length" not in response.request.headers
    assert_error(response, 413, "payload_too_large")
    assert (await client.get("/api/procedures")).json() == []


@pytest.mark.asyncio
async def test_a_chunked_body_under_the_limit_is_accepted(client: httpx.AsyncClient) -> None:
    body = json.dumps({"ckp_json": ckp()}).encode()

    response = await client.post("/api/procedures", content=_chunks(body, 64),
                                 headers={"content-type": "application/json"})

    assert response.status_code == 201, response.text


@pytest.mark.asyncio
async def test_413_over_a_real_socket_for_both_kinds_of_body(live_server: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=live_server.url, headers=bearer("admin")) as http:
        declared = await http.post("/api/procedures/validate", content=_big_body(),
                                   headers={"content-type": "application/json"})
        chunked = await http.post("/api/procedures/validate", content=_chunks(_big_body()),
                                  headers={"content-type": "application/json"})
    assert_error(declared, 413, "payload_too_large")
    assert_error(chunked, 413, "payload_too_large")


def test_413_for_a_raw_chunked_upload_that_never_ends(live_server: LiveServer) -> None:
    """A client streaming past the limit is answered 413 without the server reading it all."""
    with socket.create_connection(("127.0.0.1", live_server.port), timeout=10) as sock:
        sock.sendall(b"POST /api/procedures/validate HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                     b"Transfer-Encoding: chunked\r\n\r\n")
        chunk = b"x" * 65536
        sent = 0
        try:
            while sent < MAX_BODY * 4:
                sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                sent += len(chunk)
        except OSError:
            pass  # the server may close the connection once it has answered
        reply = b""
        while b"payload_too_large" not in reply:
            data = sock.recv(65536)
            if not data:
                break
            reply += data
    assert reply.startswith(b"HTTP/1.1 413")
    assert b"payload_too_large" in reply


def test_a_body_shorter_than_its_content_length_gets_408(settings: Settings) -> None:
    """A client that declares more bytes than it sends is answered, not left hanging."""
    settings.api.body_read_timeout_s = 1.0
    with LiveServer(create_app(settings)) as server, \
            socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        started = time.monotonic()
        sock.sendall(b"POST /api/procedures/validate HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"ckp_json\"")
        reply = b""
        while b"\r\n\r\n" not in reply:
            data = sock.recv(65536)
            if not data:
                break
            reply += data
    assert reply.startswith(b"HTTP/1.1 408"), reply[:200]
    assert time.monotonic() - started < 8
