"""The poll request/reply between the EPP server (registry) and the poll queues (notifications), over
RabbitMQ with direct reply-to: the notifications service owns each registrar's queue, EPP only asks."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

POLL_QUEUE = "notifications.poll"


class PollRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    registrar_id: str
    op: Literal["req", "ack"]
    msg_id: str | None = None


class PollMessage(BaseModel):
    """The oldest message: what <msgQ> and <resData> carry."""

    msg_id: str
    queued_at: datetime
    text: str = Field(description="the short <msg> text in the registrar's language")
    fields: dict[str, Any] = Field(default_factory=dict, description="the dnsbe:pollRes fields, in order")
    # optional (added later): the language of `text`, the <msgQ><msg lang> attribute
    language: str = Field(default="en", pattern=r"^[a-z]{2}$")


class PollReply(BaseModel):
    code: int = Field(description="1300 empty, 1301 a message, 1000 ack done, 2303 unknown id")
    message: str | None = None
    count: int = 0
    head: PollMessage | None = None
    acked_id: str | None = None
