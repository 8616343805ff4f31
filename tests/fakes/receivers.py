"""Loopback receivers of what LangOrch sends out: a webhook endpoint that keeps the raw
bytes (to check signatures) and an SMTP server (aiosmtpd) that keeps the messages."""

from __future__ import annotations

import email
import email.policy
import json
import socket
import threading
from collections.abc import Callable
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class WebhookReceiver:
    """Records every POST (path, headers, raw body); answers ``statuses`` in turn, then 200."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.statuses: list[int] = []
        self.changed = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver.changed:
                    status = receiver.statuses.pop(0) if receiver.statuses else 200
                    receiver.received.append({"path": self.path, "raw": raw, "status": status,
                                              "headers": {k.lower(): v for k, v in self.headers.items()}})
                    receiver.changed.notify_all()
                data = json.dumps({"ok": status < 400}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/hooks/langorch"

    def bodies(self, status: int | None = 200) -> list[dict[str, Any]]:
        """The JSON bodies received (those answered ``status``, or all with None)."""
        return [json.loads(r["raw"]) for r in list(self.received) if status is None or r["status"] == status]

    def wait_for(self, predicate: Callable[[list[dict[str, Any]]], bool], timeout: float = 20) -> None:
        with self.changed:
            if not self.changed.wait_for(lambda: predicate(list(self.received)), timeout):
                raise AssertionError(f"the webhook did not receive what was expected; got {self.received!r}")

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


class SmtpSink:
    """An SMTP server on loopback (no TLS, no login) that keeps what it is sent."""

    def __init__(self) -> None:
        self.messages: list[tuple[Envelope, EmailMessage]] = []
        self.changed = threading.Condition()
        self.refuse: set[str] = set()
        sink = self

        class Handler:
            async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope, address: str,
                                  rcpt_options: list[str]) -> str:
                if address in sink.refuse:
                    return "550 no such mailbox"
                envelope.rcpt_tos.append(address)
                return "250 OK"

            async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
                content = envelope.content if isinstance(envelope.content, bytes) else str(envelope.content).encode()
                message = email.message_from_bytes(content, policy=email.policy.default)
                with sink.changed:
                    sink.messages.append((envelope, message))  # type: ignore[arg-type]
                    sink.changed.notify_all()
                return "250 Message accepted"

        self.port = free_port()
        self._controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)

    def wait_for(self, count: int, timeout: float = 20) -> list[tuple[Envelope, EmailMessage]]:
        with self.changed:
            if not self.changed.wait_for(lambda: len(self.messages) >= count, timeout):
                raise AssertionError(f"expected {count} e-mail(s), got {len(self.messages)}")
            return list(self.messages)

    def __enter__(self) -> Self:
        self._controller.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._controller.stop()
