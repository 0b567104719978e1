"""Notification events (published by the notifications service)."""

from __future__ import annotations

from pydantic import Field

from shared.events.envelope import EventPayload


class EmailBounced(EventPayload):
    """A mail could not be delivered: a permanent SMTP refusal at sending, or a bounce reported afterwards.
    The envelope's registrar_id is the registrar the mail was for, or on whose registrant's behalf it went.
    Feeds the quarterly registrar report (bounces) and the "e-mail bounced" message to every registrar that
    has a contact with that address."""

    event_type = "email.bounced"
    producer = "notifications"

    recipient: str = Field(description="the address that bounced")
    message_type: str = Field(description="the catalogue entry of the mail, e.g. verification.required")
    audience: str = Field(description="registrar | registrant")
    smtp_code: int | None = Field(default=None, description="the SMTP reply code, e.g. 550")
    reason: str = Field(description="the server's reply text, or the bounce's diagnostic")
    permanent: bool = True
