"""SMTP delivery (aiosmtplib): one mail to one address, with quick retries of transient failures (tenacity).

A reply in the 5xx range is permanent (a bounce: never retried); 4xx replies, refused or dropped
connections and time-outs are transient. The Message-ID is derived from the mail's idempotency key, so
the rare resend after a crash between the server's "250" and our record of it carries the same id and a
receiving system can discard it.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Self

import aiosmtplib
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt, wait_exponential_jitter

from services.notifications.settings import NotificationsSettings
from shared.clock import Clock

log = logging.getLogger(__name__)


class TransientFailure(Exception):
    def __init__(self, code: int | None, reason: str) -> None:
        super().__init__(f"{code or '-'} {reason}")
        self.code, self.reason = code, reason


class PermanentFailure(Exception):
    def __init__(self, code: int | None, reason: str) -> None:
        super().__init__(f"{code or '-'} {reason}")
        self.code, self.reason = code, reason

    @property
    def detailed_code(self) -> str | None:
        """The RFC 3463 enhanced status at the start of the reply text (5.1.1), if the server gave one."""
        head = self.reason.split(" ", 1)[0]
        parts = head.split(".")
        return head if len(parts) == 3 and all(p.isdigit() for p in parts) else None


@dataclass(frozen=True)
class Outgoing:
    key: str
    to: str
    subject: str
    body: str
    language: str


def classify(exc: Exception) -> TransientFailure | PermanentFailure:
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused) and exc.recipients:
        first = exc.recipients[0]
        return classify(first)
    code = getattr(exc, "code", None)
    reason = str(getattr(exc, "message", "") or exc)
    if isinstance(code, int) and 500 <= code < 600:
        return PermanentFailure(code, reason)
    return TransientFailure(code if isinstance(code, int) and code > 0 else None, reason)


def message_id(key: str, sender: str) -> str:
    domain = sender.rpartition("@")[2] or "registry.example"
    return f"<{hashlib.sha256(key.encode()).hexdigest()[:32]}@{domain}>"


class Mailer:
    def __init__(self, settings: NotificationsSettings, clock: Clock, on_retry: Callable[[], None] = lambda: None) -> None:
        self.settings = settings
        self.clock = clock
        self.on_retry = on_retry

    def build(self, mail: Outgoing) -> EmailMessage:
        msg = EmailMessage()
        msg["From"] = self.settings.mail_from
        msg["To"] = mail.to
        msg["Subject"] = mail.subject
        msg["Date"] = format_datetime(self.clock.now())
        msg["Message-ID"] = message_id(mail.key, self.settings.mail_from)
        msg.set_content(mail.body)
        msg["Content-Language"] = mail.language  # after set_content, which drops Content-* headers
        return msg

    def connection(self) -> Connection:
        return Connection(self)


class Connection:
    """One SMTP session reused for a run of mails (connect, EHLO and QUIT once, not per mail); it reconnects
    after the server drops it. Use as `async with mailer.connection() as smtp: await smtp.send(mail)`."""

    def __init__(self, mailer: Mailer) -> None:
        self.mailer = mailer
        self.client: aiosmtplib.SMTP | None = None

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._drop(quit_first=True)

    async def _drop(self, quit_first: bool = False) -> None:
        client, self.client = self.client, None
        if client is None:
            return
        try:
            if quit_first and client.is_connected:
                await client.quit()
        except (aiosmtplib.SMTPException, OSError, TimeoutError):
            pass
        finally:
            client.close()

    async def _connected(self) -> aiosmtplib.SMTP:
        if self.client is None or not self.client.is_connected:
            s = self.mailer.settings
            self.client = aiosmtplib.SMTP(hostname=s.smtp_host, port=s.smtp_port, timeout=s.smtp_timeout_seconds,
                                          start_tls=s.smtp_starttls, username=s.smtp_username or None,
                                          password=s.smtp_password.get_secret_value() or None)
            await self.client.connect()
        return self.client

    async def _send_once(self, message: EmailMessage) -> str:
        try:
            client = await self._connected()
            _, reply = await client.send_message(message)
            return reply
        except (aiosmtplib.SMTPResponseException, aiosmtplib.SMTPRecipientsRefused) as exc:
            if getattr(exc, "code", None) == 421:  # the server is closing the session
                await self._drop()
            raise classify(exc) from exc
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            await self._drop()  # the session is in an unknown state: a fresh one for the next try
            raise classify(exc) from exc

    async def send(self, mail: Outgoing) -> str:
        """Send; returns the server's reply. Raises PermanentFailure, or TransientFailure once the quick
        retries are spent (the caller schedules a later attempt)."""
        message = self.mailer.build(mail)
        settings = self.mailer.settings

        def before_sleep(_: object) -> None:
            self.mailer.on_retry()

        async for attempt in AsyncRetrying(
            retry=retry_if_exception_type(TransientFailure),
            stop=stop_after_attempt(settings.smtp_quick_retries),
            wait=wait_exponential_jitter(max=2),
            before_sleep=before_sleep,
            reraise=True,
        ):
            with attempt:
                return await self._send_once(message)
        raise AssertionError("unreachable: tenacity reraises")
