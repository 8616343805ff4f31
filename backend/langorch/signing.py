"""HMAC-SHA256 signatures of webhook bodies: one scheme for what LangOrch receives and sends.

``X-LangOrch-Signature: sha256=<hex>`` over the raw body, or — when ``X-LangOrch-Timestamp``
(unix seconds) is sent too — over ``"{timestamp}.{body}"``. Inbound trigger deliveries are
checked with it (services/webhooks.py); outbound notifications and alerts are signed with it
(connectors/notify.py), so a receiver verifies both the same way.
"""

from __future__ import annotations

import hashlib
import hmac

__all__ = ["SIGNATURE_HEADER", "TIMESTAMP_HEADER", "sign"]

SIGNATURE_HEADER = "X-LangOrch-Signature"
TIMESTAMP_HEADER = "X-LangOrch-Timestamp"


def sign(secret: str, body: bytes, timestamp: str | int | None = None) -> str:
    """The ``X-LangOrch-Signature`` value for ``body`` (and ``timestamp``, when sent)."""
    message = f"{timestamp}.".encode() + body if timestamp is not None else body
    return "sha256=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()
