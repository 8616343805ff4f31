"""Where a procedure's own HTTP requests may go.

A URL in a CKP (``http_request``) is untrusted content: it may have been written by an
LLM or by someone who wants the server to fetch its own admin port or a cloud metadata
endpoint. :class:`NetPolicy` refuses loopback, private, link-local (metadata services
included), carrier-grade NAT, multicast, reserved and unspecified addresses unless the
operator allowlisted the host or its network.

The check is made on the **resolved** address of every connection the client opens —
redirects and keep-alive reconnects included — and the socket connects to the address that
was checked, so a name that resolves to a public address once and to 127.0.0.1 the next
time (DNS rebinding) cannot slip through. Agent and MCP server URLs are operator
configuration and do not go through this client.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import httpcore
import httpx

from langorch.ckp.addresses import IpAddress, blocked_rule
from langorch.runtime.errors import StepError

__all__ = ["ALLOW_HINT", "GuardedTransport", "NetPolicy", "UrlNotAllowed", "blocked_rule", "guarded_client"]

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

ALLOW_HINT = "allowlist it with LANGORCH_SANDBOX__ALLOWED_HOSTS (server) or --allow-host (langorch run)"


class UrlNotAllowed(StepError):
    """A procedure's request would reach an address the sandbox refuses."""

    def __init__(self, host: str, address: str, rule: str) -> None:
        shown = host if host == address else f"{host} ({address})"
        super().__init__(f"request to {shown} refused: {rule} addresses are not reachable from procedures; "
                         f"{ALLOW_HINT}", error_type="UrlNotAllowed", retryable=False,
                         details={"host": host, "address": address, "rule": rule})


@dataclass(frozen=True)
class NetPolicy:
    """The hosts and networks procedures may reach besides public addresses.

    ``allowed`` holds host names (``erp.internal``, matched case-insensitively, exactly),
    addresses (``10.0.0.5``) and networks (``10.20.0.0/16``).
    """

    allowed: tuple[str, ...] = ()
    _names: frozenset[str] = field(init=False, repr=False, compare=False)
    _networks: tuple[IpNetwork, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        names: set[str] = set()
        networks: list[IpNetwork] = []
        for entry in self.allowed:
            text = entry.strip().strip("[]").lower()
            if not text:
                continue
            try:
                networks.append(ipaddress.ip_network(text, strict=False))
            except ValueError:
                names.add(text.rstrip("."))
        object.__setattr__(self, "_names", frozenset(names))
        object.__setattr__(self, "_networks", tuple(networks))

    @classmethod
    def of(cls, entries: Iterable[str]) -> NetPolicy:
        return cls(tuple(entries))

    def host_allowed(self, host: str) -> bool:
        """True when ``host`` is allowlisted by name (any address it resolves to is then allowed)."""
        return host.strip("[]").lower().rstrip(".") in self._names

    def check(self, host: str, address: IpAddress) -> None:
        """Raise :class:`UrlNotAllowed` unless ``address`` (which ``host`` resolved to) may be reached."""
        if self.host_allowed(host) or any(address in net for net in self._networks
                                          if net.version == address.version):
            return
        mapped = address.ipv4_mapped if isinstance(address, ipaddress.IPv6Address) else None
        if mapped is not None and any(mapped in net for net in self._networks if net.version == 4):
            return
        rule = blocked_rule(address)
        if rule is not None:
            raise UrlNotAllowed(host, str(address), rule)


class _GuardedBackend(httpcore.AsyncNetworkBackend):
    """Resolves each host itself, checks every address, and connects to the checked one."""

    def __init__(self, policy: NetPolicy) -> None:
        self.policy = policy
        self.inner = httpcore.AnyIOBackend()

    async def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                          local_address: str | None = None,
                          socket_options: Iterable[Any] | None = None) -> httpcore.AsyncNetworkStream:
        try:
            literal: IpAddress | None = ipaddress.ip_address(host.strip("[]"))
        except ValueError:
            literal = None
        if literal is not None:
            addresses = [literal]
        else:
            try:
                infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
            except OSError as exc:
                raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from exc
            addresses = list(dict.fromkeys(ipaddress.ip_address(info[4][0]) for info in infos))
            if not addresses:
                raise httpcore.ConnectError(f"{host} resolves to no address")
        for address in addresses:  # every answer must pass: the resolver's order is not ours
            self.policy.check(host, address)
        return await self.inner.connect_tcp(str(addresses[0]), port, timeout=timeout, local_address=local_address,
                                            socket_options=socket_options)

    async def connect_unix_socket(self, path: str, timeout: float | None = None,
                                  socket_options: Iterable[Any] | None = None) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("procedures may not use unix sockets")

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


class GuardedTransport(httpx.AsyncHTTPTransport):
    """An httpx transport whose every connection is checked by a :class:`NetPolicy`."""

    def __init__(self, policy: NetPolicy) -> None:
        super().__init__(trust_env=False)  # no proxy from the environment: it would connect for us, unchecked
        self._pool = httpcore.AsyncConnectionPool(ssl_context=httpx.create_ssl_context(),
                                                  network_backend=_GuardedBackend(policy))


def guarded_client(policy: NetPolicy) -> httpx.AsyncClient:
    """The client for requests a procedure makes (``http_request``)."""
    return httpx.AsyncClient(transport=GuardedTransport(policy), trust_env=False)
