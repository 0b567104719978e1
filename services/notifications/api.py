"""The notifications HTTP API: the registrar web site's view of its poll queue (list, acknowledge: the
second channel besides EPP poll), the message catalogue, and the operators' endpoints (staff mail of a
category, bounces reported after delivery, the send record of an address).

Registrar users authenticate with the registry's session token (shared/auth.py) and see only their own
queue.
"""

# no `from __future__ import annotations`: FastAPI must resolve the dependencies in the signatures

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, status
from pydantic import BaseModel, ConfigDict, EmailStr, Field, model_validator

from services.notifications.messages import LANGUAGES, Category, as_documentation
from services.notifications.service import notifications_of
from shared.auth import SessionClaims
from shared.staff import Staff, StaffActor, audit_router, staff_guard
from shared.clock import brussels
from shared.runtime import ServiceContext

VIEW_PERMISSION = "MY_REGISTRATIONS"
_MSG_ID = r"^([0-9]{1,18}|[0-9a-f]{24})$"  # a number; older messages an ObjectId


class CatalogueField(BaseModel):
    cps: str = Field(examples=["DOMAINNAME"])
    xml: str = Field(examples=["dnsbe:domain"])


class CatalogueEntry(BaseModel):
    """A structured message (poll and CPS; digest 1.4) or a mail; a mail has no TYPE, ACTION or RETURNCODE."""

    model_config = ConfigDict(extra="allow")

    key: str
    kind: str = Field(description="`structured` or `mail`")
    type: str | None = Field(default=None, description="TYPE (structured)")
    action: str | None = Field(default=None, description="ACTION (structured)")
    returncode: int | None = Field(default=None, description="RETURNCODE (structured)")
    fields: list[CatalogueField] | None = Field(default=None, description="CPS key and XML element, in order")
    subject: dict[str, str] = Field(description="per language (nl, fr, en)")
    msg: dict[str, str] | None = Field(default=None, description="the msgQ <msg> per language (structured)")
    audience: str | None = Field(default=None, description="who a mail goes to")
    category: str | None = None
    multilingual: bool | None = None
    trigger: str
    source: str | None = Field(default=None, description="where .be documents it, or why it is inferred")


class MailsQueued(BaseModel):
    broadcast_id: str
    mails_queued: int


class BounceRecorded(BaseModel):
    status: str = Field(examples=["recorded"])


class MailRecord(BaseModel):
    """A mail's send record; never its body."""

    model_config = ConfigDict(extra="allow")

    key: str
    to: str | None = None
    subject: str | None = None
    kind: str | None = None
    message: str | None = None
    language: str | None = None
    registrar_id: str | None = None
    audience: str | None = None
    about: str | None = None
    status: str | None = Field(default=None, description="pending, sent, failed or bounced")
    attempts: int | None = None
    queued_at: datetime | None = None
    sent_at: datetime | None = None
    smtp_reply: str | None = None


class QueuedMessageView(BaseModel):
    msg_id: str
    message: str = Field(description="the catalogue entry")
    queued_at: datetime = Field(description="Brussels time")
    text: str
    fields: dict[str, str] = Field(description="the dnsbe:pollRes fields, in order")


class PollQueueView(BaseModel):
    count: int
    messages: list[QueuedMessageView] = Field(description="oldest first")


class AckResult(BaseModel):
    msg_id: str
    count: int = Field(description="messages left in the queue")


class Text(BaseModel):
    subject: str = Field(min_length=1, max_length=200)
    body: str = Field(min_length=1, max_length=50_000)


class Announcement(BaseModel):
    category: Category = Field(description="legal | technical | abuse | newsletter (general: the profile address)")
    texts: dict[str, Text] = Field(description="per language (nl, fr, en)")
    multilingual: bool = Field(default=True, description="send in each of the registrar's languages (in its order); "
                                                         "false: only in its first")
    registrar_ids: list[str] | None = Field(default=None, max_length=10_000, description="default: every registrar")

    @model_validator(mode="after")
    def _languages(self) -> "Announcement":
        unknown = set(self.texts) - set(LANGUAGES)
        if not self.texts or unknown:
            raise ValueError(f"texts needs at least one of {', '.join(LANGUAGES)}; unknown: {sorted(unknown)}")
        return self


class Bounce(BaseModel):
    recipient: EmailStr
    smtp_code: int | None = Field(default=None, ge=500, le=599, description="a bounce is a permanent failure")
    reason: str = Field(min_length=1, max_length=500)
    detailed_code: str | None = Field(default=None, pattern=r"^5\.\d{1,3}\.\d{1,3}$")
    mail_key: str | None = Field(default=None, description="the mail's id in the send record, if known")


def router(ctx: ServiceContext) -> APIRouter:
    api = APIRouter(tags=["notifications"])
    auth = ctx.session_auth
    Viewer = Annotated[SessionClaims, Depends(auth.requires(VIEW_PERMISSION))]
    operator_guard = staff_guard(ctx)
    Op = Annotated[StaffActor, Staff(operator_guard)]

    @api.get("/api/notifications/catalogue", response_model=list[CatalogueEntry], response_model_exclude_unset=True)
    async def catalogue() -> list[dict[str, Any]]:
        """Every message the platform sends: TYPE, ACTION, RETURNCODE, fields, subjects and texts (nl, fr, en)."""
        return as_documentation()

    @api.get("/api/poll/messages", response_model=PollQueueView)
    async def my_queue(user: Viewer, limit: Annotated[int, Query(ge=1, le=500)] = 50) -> PollQueueView:
        """The registrar's poll queue, oldest first (what EPP poll would return one by one)."""
        count, queued = await notifications_of(ctx).queue(user.registrar_id, limit)
        return PollQueueView(count=count, messages=[
            QueuedMessageView(msg_id=m.msg_id, message=m.message, queued_at=brussels(m.queued_at), text=m.text,
                              fields=m.fields) for m in queued])

    @api.post("/api/poll/messages/{msg_id}/ack", response_model=AckResult)
    async def ack(msg_id: Annotated[str, Path(pattern=_MSG_ID)], user: Viewer) -> AckResult:
        """Acknowledge a message: it leaves the queue, for EPP too (a message is acknowledged once)."""
        reply = await notifications_of(ctx).ack(user.registrar_id, msg_id, "web")
        if reply.code != 1000:
            raise HTTPException(status.HTTP_404_NOT_FOUND, reply.message)
        return AckResult(msg_id=msg_id, count=reply.count)

    @api.post("/api/operator/notifications/mail", status_code=202, tags=["operator"], response_model=MailsQueued)
    async def announce(body: Announcement, _: Op) -> dict[str, Any]:
        """Staff mail of a category: to its addresses (up to 5), else the general address (never for the newsletter)."""
        broadcast = str(uuid.uuid4())
        queued = await notifications_of(ctx).announce(
            body.category, {k: v.subject for k, v in body.texts.items()}, {k: v.body for k, v in body.texts.items()},
            body.registrar_ids, body.multilingual, broadcast)
        return {"broadcast_id": broadcast, "mails_queued": queued}

    @api.post("/api/operator/notifications/bounces", status_code=202, tags=["operator"], response_model=BounceRecorded)
    async def bounce(body: Bounce, _: Op, request: Request) -> dict[str, str]:
        """A bounce that came back after delivery (a DSN): recorded, and published as email.bounced."""
        done = await notifications_of(ctx).record_bounce(str(body.recipient), body.smtp_code, body.reason,
                                                         body.detailed_code, body.mail_key,
                                                         request.state.correlation_id)
        if not done:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"no mail [{body.mail_key}] to {body.recipient}")
        return {"status": "recorded"}

    @api.get("/api/operator/notifications/mails", tags=["operator"], response_model=list[MailRecord],
             response_model_exclude_unset=True)
    async def mails(to: Annotated[EmailStr, Query()], _: Op) -> list[dict[str, Any]]:
        """The send record of the mails to an address (status, attempts, SMTP reply; no bodies)."""
        return [{k: v for k, v in d.items() if k != "queued_wall"} | {"key": d["_id"]}
                for d in await notifications_of(ctx).mails_to(str(to))]

    api.include_router(audit_router(ctx, operator_guard))
    return api
