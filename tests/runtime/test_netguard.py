"""The procedure sandbox for HTTP: a procedure's own requests reach public addresses and
what the operator allowlisted, never loopback, private, link-local (cloud metadata) or other
non-public addresses — checked on the resolved address of every connection."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from typing import Any

import pytest

from langorch.runtime.netguard import NetPolicy, UrlNotAllowed, blocked_rule, guarded_client
from tests.fakes._http import JsonReply, LoopbackJsonServer
from tests.runtime.harness import Harness, TinyHttp, ckp, end, seq


def _fetch(url: str) -> dict[str, Any]:
    return ckp({
        "fetch": seq({"step_id": "get", "action": "http_request", "method": "GET", "url": url,
                      "output_variable": "got"}, next_node="done"),
        "done": end(outputs={"got": "{{got}}"}),
    })


PROBES = {
    "127.0.0.1": ("http://127.0.0.1:{port}/admin", "loopback"),
    "localhost": ("http://localhost:{port}/admin", "loopback"),
    "[::1]": ("http://[::1]:{port}/admin", "loopback"),
    "127.1": ("http://127.1:{port}/admin", "loopback"),
    "2130706433": ("http://2130706433:{port}/admin", "loopback"),
    "0.0.0.0": ("http://0.0.0.0:{port}/admin", "unspecified"),
    "metadata": ("http://169.254.169.254/latest/meta-data/", "link-local"),
    "private": ("http://10.1.2.3/", "private"),
    "ipv4-mapped": ("http://[::ffff:127.0.0.1]:{port}/admin", "loopback"),
}


@pytest.mark.parametrize("probe", list(PROBES), ids=list(PROBES))
@pytest.mark.asyncio
async def test_a_procedure_cannot_reach_a_non_public_address(probe: str, http_service: TinyHttp) -> None:
    url, rule = PROBES[probe]
    h = Harness(net_policy=NetPolicy())

    out = await h.run(_fetch(url.format(port=http_service.port)))

    assert out.status == "failed"
    assert out.error is not None and out.error["type"] == "UrlNotAllowed", out.error
    assert out.error["details"]["rule"] == rule
    assert f"{rule} addresses are not reachable from procedures" in out.error["message"]
    assert "LANGORCH_SANDBOX__ALLOWED_HOSTS" in out.error["message"]
    failed = h.events.of("step_failed")[0].payload["error"]
    assert failed["type"] == "UrlNotAllowed" and failed["details"]["rule"] == rule
    assert http_service.seen == [], "nothing reached the server"


@pytest.mark.parametrize("allowed", ["127.0.0.1", "127.0.0.0/8", "localhost"])
@pytest.mark.asyncio
async def test_an_allowlisted_host_or_network_is_reachable(allowed: str, http_service: TinyHttp) -> None:
    h = Harness(net_policy=NetPolicy((allowed,)))
    host = "localhost" if allowed == "localhost" else "127.0.0.1"

    out = await h.run(_fetch(f"http://{host}:{http_service.port}/ok"))

    assert out.status == "completed", out.error
    assert out.outputs["got"]["body"]["path"] == "/ok"


class _Redirect(LoopbackJsonServer):
    def __init__(self, target: str) -> None:
        super().__init__()
        self.target = target

    def handle(self, method: str, path: str, body: Any, headers: dict[str, str]) -> JsonReply:
        return JsonReply(302, {}, headers={"Location": self.target})


@pytest.mark.asyncio
async def test_a_redirect_to_a_refused_address_is_refused(http_service: TinyHttp) -> None:
    # The first hop is allowlisted; the redirect points at the same service through [::1].
    with _Redirect(f"http://[::1]:{http_service.port}/admin") as hop:
        async with guarded_client(NetPolicy(("127.0.0.1",))) as client:
            with pytest.raises(UrlNotAllowed) as refused:
                await client.get(f"{hop.url}/start", follow_redirects=True)
    assert refused.value.details["rule"] == "loopback" and refused.value.details["address"] == "::1"


@pytest.mark.asyncio
async def test_a_name_that_resolves_to_a_refused_address_is_refused(monkeypatch: pytest.MonkeyPatch,
                                                                    http_service: TinyHttp) -> None:
    """DNS is outside this machine, so its answer is scripted: a public name that (also)
    resolves to loopback, as a rebinding attacker's name does. Every answer is checked, and
    the socket goes to a checked address, never to a second lookup's."""
    loop = asyncio.get_running_loop()
    real = type(loop).getaddrinfo

    async def scripted(self: Any, host: str, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host == "rebind.example":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.215.14", port)),
                    (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]
        return await real(self, host, port, *args, **kwargs)

    monkeypatch.setattr(type(loop), "getaddrinfo", scripted)
    h = Harness(net_policy=NetPolicy())

    out = await h.run(_fetch(f"http://rebind.example:{http_service.port}/admin"))

    assert out.error is not None and out.error["type"] == "UrlNotAllowed", out.error
    assert out.error["details"] == {"host": "rebind.example", "address": "127.0.0.1", "rule": "loopback"}
    assert http_service.seen == []


@pytest.mark.asyncio
async def test_the_guarded_client_ignores_proxy_settings_from_the_environment(
        monkeypatch: pytest.MonkeyPatch, http_service: TinyHttp) -> None:
    monkeypatch.setenv("HTTP_PROXY", http_service.url)  # a proxy would connect for us, unchecked
    async with guarded_client(NetPolicy()) as client:
        with pytest.raises(UrlNotAllowed):
            await client.get("http://10.9.9.9/")
    assert http_service.seen == []


@pytest.mark.parametrize(("address", "rule"), [
    ("8.8.8.8", None), ("2606:4700:4700::1111", None), ("192.168.1.10", "private"), ("172.16.0.1", "private"),
    ("100.64.0.1", "carrier-grade NAT"), ("fe80::1", "link-local"), ("fd00::1", "private"),
    ("224.0.0.1", "multicast"), ("::", "unspecified"), ("::ffff:10.0.0.1", "private"), ("240.0.0.1", "reserved"),
])
def test_addresses_are_classified_by_the_rule_that_refuses_them(address: str, rule: str | None) -> None:
    assert blocked_rule(ipaddress.ip_address(address)) == rule


def test_a_policy_takes_names_addresses_and_networks() -> None:
    policy = NetPolicy(("ERP.internal.", "10.20.0.0/16", "[fd00::5]", " "))

    policy.check("erp.internal", ipaddress.ip_address("10.0.0.1"))  # by name: any address
    policy.check("db", ipaddress.ip_address("10.20.3.4"))
    policy.check("v6", ipaddress.ip_address("fd00::5"))
    with pytest.raises(UrlNotAllowed):
        policy.check("db", ipaddress.ip_address("10.21.0.1"))


def test_a_public_host_passes_without_an_allowlist() -> None:
    NetPolicy().check("example.com", ipaddress.ip_address("93.184.215.14"))
