"""E-mail connector: notifications and alerts sent through a configured SMTP server.

``SmtpMailer`` speaks SMTP with aiosmtplib: STARTTLS (port 587), implicit TLS (465) or a
plain relay, with an optional login. Each message gets a ``Message-ID`` made from the
delivery's key when there is one, so a retried send carries the same id (mail systems
that deduplicate by it show one message).

Errors raised:

    no answer within the timeout       → StepTimeout  retryable
    server unreachable, TLS failure    → StepError    MailUnavailable, retryable
    recipients or sender refused (5xx) → StepError    MailRejected, not retryable
    a temporary refusal (4xx)          → StepError    MailRejected, retryable
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any, Literal

import aiosmtplib

from langorch.runtime.errors import StepError, StepTimeout

__all__ = ["SmtpMailer"]


class SmtpMailer:
    """:class:`~langorch.runtime.ports.Mailer` over one SMTP server."""

    def __init__(self, host: str, *, port: int = 587, security: Literal["starttls", "tls", "none"] = "starttls",
                 username: str | None = None, password: str | None = None, sender: str = "langorch@localhost",
                 timeout_s: float = 30.0) -> None:
        self.host = host
        self.port = port
        self.security = security
        self.sender = sender
        self._username = username
        self._password = password
        self._timeout_s = timeout_s

    async def send(self, *, to: Sequence[str], subject: str, text: str, idempotency_key: str | None = None,
                   timeout_s: float | None = None) -> dict[str, Any]:
        """Send one plain-text message to ``to``; returns ``{"message_id", "recipients"}``."""
        recipients = [str(r).strip() for r in to if str(r).strip()]
        if not recipients:
            raise StepError("an e-mail needs at least one recipient", error_type="MailRejected", retryable=False)
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = ", ".join(recipients)
        message["Subject"] = " ".join(subject.split()) or "(no subject)"
        message["Date"] = formatdate(localtime=False)
        message["Message-ID"] = _message_id(idempotency_key, self.sender)
        message.set_content(text or "")
        timeout = self._timeout_s if timeout_s is None else timeout_s
        try:
            errors, _reply = await aiosmtplib.send(
                message, hostname=self.host, port=self.port, username=self._username, password=self._password,
                use_tls=self.security == "tls", start_tls=self.security == "starttls",
                timeout=timeout)
        except aiosmtplib.SMTPTimeoutError as exc:
            raise StepTimeout(f"SMTP server {self.host}:{self.port} did not answer within {timeout:g} s") from exc
        except aiosmtplib.SMTPRecipientsRefused as exc:
            refused = ", ".join(r.recipient for r in exc.recipients)
            raise StepError(f"SMTP server refused every recipient: {refused}", error_type="MailRejected",
                            retryable=any(r.code < 500 for r in exc.recipients)) from exc
        except aiosmtplib.SMTPResponseException as exc:
            raise StepError(f"SMTP server answered {exc.code}: {exc.message}", error_type="MailRejected",
                            retryable=exc.code < 500) from exc
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise StepError(f"SMTP server {self.host}:{self.port} unreachable: {exc}",
                            error_type="MailUnavailable", retryable=True) from exc
        accepted = [r for r in recipients if r not in errors]
        return {"message_id": message["Message-ID"], "recipients": accepted,
                "refused": {r: f"{code} {text_}" for r, (code, text_) in errors.items()}}


def _message_id(key: str | None, sender: str) -> str:
    domain = sender.rpartition("@")[2] or "langorch"
    if not key:
        return make_msgid(domain=domain)
    return f"<{hashlib.sha256(key.encode()).hexdigest()[:32]}@{domain}>"
