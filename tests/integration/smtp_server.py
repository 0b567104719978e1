"""A real SMTP server on loopback for the tests (aiosmtpd in this event loop): it records what it accepts,
refuses chosen recipients for good (5xx), and can answer 4xx to the next few mails (a transient fault)."""

from __future__ import annotations

import asyncio
import email
from email.message import EmailMessage
from email.policy import default
from typing import Self

from aiosmtpd.smtp import SMTP, Envelope, Session


class SmtpCatcher:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.refused: dict[str, str] = {}  # address -> 5xx reply
        self.transient_failures = 0  # the next N DATA commands answer 451
        self.port = 0
        self._server: asyncio.base_events.Server | None = None

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope, address: str,
                          rcpt_options: list[str]) -> str:
        if address in self.refused:
            return self.refused[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.transient_failures > 0:
            self.transient_failures -= 1
            return "451 4.3.0 Temporary local problem, try again"
        message = email.message_from_bytes(envelope.content, policy=default)  # type: ignore[arg-type]
        self.messages.append(message)  # type: ignore[arg-type]
        return "250 2.0.0 Message accepted for delivery"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if m["To"] == address]

    async def __aenter__(self) -> Self:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(lambda: SMTP(self, hostname="catcher.test"), "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()


def body_of(message: EmailMessage) -> str:
    """The text body as sent, with the wire's CRLF back to LF."""
    return message.get_content().replace("\r\n", "\n")  # type: ignore[no-any-return]
