"""Which network addresses the procedure sandbox refuses, and why (stdlib only).

Shared by the compiler (a literal ``http_request`` URL the sandbox will refuse is a CKP504
warning at import) and the runtime's guard (``langorch.runtime.netguard``), which checks
the resolved address of every connection.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_CGNAT = ipaddress.ip_network("100.64.0.0/10")


def blocked_rule(address: IpAddress) -> str | None:
    """Why ``address`` is refused (``"loopback"``, ``"private"``, …), or None when it is public."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return blocked_rule(address.ipv4_mapped)
    if address.is_unspecified:
        return "unspecified"
    if address.is_loopback:
        return "loopback"
    if address.is_link_local:
        return "link-local"  # 169.254.169.254 and fe80::/10: cloud metadata lives here
    if address.is_multicast:
        return "multicast"
    if isinstance(address, ipaddress.IPv4Address) and address in _CGNAT:
        return "carrier-grade NAT"
    if address.is_reserved:
        return "reserved"
    if address.is_private:
        return "private"
    if not address.is_global:
        return "reserved"
    return None


def literal_url_rule(url: str) -> tuple[str, str] | None:
    """``(host, rule)`` when a literal URL names a host the sandbox refuses without a lookup
    (an address, ``localhost``); None for public or templated URLs and for names that need
    DNS (the run-time guard checks those)."""
    if "{{" in url or "{%" in url:
        return None
    try:
        host = urlsplit(url.strip()).hostname
    except ValueError:
        return None
    if not host:
        return None
    if host == "localhost" or host.endswith(".localhost"):
        return host, "loopback"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return None
    rule = blocked_rule(address)
    return (host, rule) if rule else None
