"""Notification events (published by the notifications service)."""

from __future__ import annotations

from pydantic import AwareDatetime, Field

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
    audience: str = Field(description="registrar | registrant | support (the registry's own support desk)")
    smtp_code: int | None = Field(default=None, description="the SMTP reply code, e.g. 550")
    reason: str = Field(description="the server's reply text, or the bounce's diagnostic")
    permanent: bool = True
    # optional (added later): what the mail was about, and the enhanced status code (RFC 3463) if given
    object: str | None = Field(default=None, description="the domain name or contact alias the mail concerned")
    detailed_code: str | None = Field(default=None, description="SMTP enhanced status, e.g. 5.1.1")


class PollMessageAcknowledged(EventPayload):
    """A registrar acknowledged a poll message (EPP <poll op="ack"> or the registrar web site): it left the
    queue and cannot be acknowledged again, whichever channel."""

    event_type = "notification.acknowledged"
    producer = "notifications"

    msg_id: str
    message_type: str = Field(description="the notification catalogue entry, e.g. verification.required.domain")
    channel: str = Field(description="epp | web")
    queued_at: AwareDatetime
