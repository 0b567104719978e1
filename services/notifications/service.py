"""The notifications application: turns events into poll messages and mails, serves the poll queues,
keeps the registrar and registrant read models, records bounces.

The rules live in triggers.py (which message an event means), routing.py (channel, addresses,
languages) and cps.py (the payload); this module reads and writes MongoDB around them. Everything an
event causes is written in the consumer's transaction together with its processed-event record, so a
redelivered event queues nothing twice; mails are sent afterwards by delivery.py.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from string import Template
from typing import Any, cast

from pymongo import ASCENDING, UpdateOne
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from services.notifications import cps
from services.notifications.messages import MAILS, STRUCTURED, Audience, Category, Mail
from services.notifications.metrics import DEPTH_BUCKETS, NotificationsMetrics, depth_bucket
from services.notifications.routing import (
    Channel,
    RegistrarSettings,
    category_addresses,
    languages_for,
    structured_route,
)
from services.notifications.settings import NotificationsSettings
from services.notifications.poll_heads import Head, PollHeads, open_messages
from services.notifications.poll_settlement import (
    SETTLE_MARGIN,
    AckSettlement,
    ack_entry,
    acknowledged_event,
    acknowledging,
)
from services.notifications.store import CONTACTS, POLL, POLL_HEADS, REGISTRARS, next_poll_ids
from services.notifications.store import MAILS as MAIL_COLLECTION
from services.notifications.triggers import (
    Notice,
    RegistrantMail,
    RegistrarMail,
    SupportMail,
    ToRegistrar,
    domain_variables,
    notices,
)
from shared.events import EventEnvelope, new_event
from shared.events.contacts import ContactDeleted
from shared.events.notifications import EmailBounced
from shared.events.registrars import RegistrarCreated, RegistrarUpdated
from shared.mongo.client import Document
from shared.mongo.transactions import in_transaction
from shared.retry import TRANSIENT_DATABASE_ERRORS
from shared.poll_rpc import PollMessage, PollReply, PollRequest
from shared.runtime import ServiceContext

log = logging.getLogger(__name__)

# registrar.updated sections and the profile fields notifications keeps
PROFILE_FIELDS = ("email", "automated_email", "languages", "inform_registrant_myself")
CATEGORY_NAMES = tuple(c.value for c in Category if c is not Category.GENERAL)
# registrars whose poll head a process remembers (up to READ_AHEAD whole messages each, some 50 KB for messages of
# 600 bytes; the least recently polled are forgotten, and their next ack reads the head)
REMEMBERED_HEADS = 256


def utcnow() -> datetime:
    """Wall time, for delivery scheduling and latency (operations, not registry rules)."""
    return datetime.now(UTC)


@dataclass
class Writes:
    """What a run of events (or one staff mail) writes, in a few bulk writes at the end of its transaction."""

    poll: list[Document] = field(default_factory=list)
    mails: list[UpdateOne] = field(default_factory=list)

    async def flush(self, db: AsyncDatabase[Document], session: AsyncClientSession, now: datetime) -> None:
        if self.poll:
            for doc, msg_id in zip(self.poll, await next_poll_ids(db, len(self.poll), session), strict=True):
                doc["_id"] = msg_id
            await db[POLL].insert_many(self.poll, ordered=True, session=session)
            await PollHeads(db).queued(self.poll, now, session)
        if self.mails:
            await db[MAIL_COLLECTION].bulk_write(self.mails, ordered=True, session=session)
        self.poll, self.mails = [], []


@dataclass(frozen=True)
class QueuedMessage:
    msg_id: str
    message: str
    queued_at: datetime
    text: str
    fields: dict[str, str]
    language: str = "en"


class _Moved(Exception):
    """The stored poll head is not the remembered one (or holds ACKED_MAX unsettled acks): the ack reads it."""


def _not_in_queue(msg_id: str) -> PollReply:
    return PollReply(code=2303, message=f"Object does not exist: message [{msg_id}] is not in your queue "
                                        "(unknown, or acknowledged already)")


def _stored_id(msg_id: str) -> int | str:
    """A poll message id as stored: numbers are integers (older messages keep their ObjectId strings)."""
    return int(msg_id) if msg_id.isdigit() and len(msg_id) <= 18 else msg_id


class Notifications:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx
        self.settings: NotificationsSettings = ctx.settings  # type: ignore[assignment]
        self.metrics = NotificationsMetrics(ctx.metrics.registry)
        self.poll_retention = timedelta(days=self.settings.poll_retention_days)
        self.acked_retention = timedelta(days=self.settings.acked_retention_days)
        self.mail_retention = timedelta(days=self.settings.sent_mail_retention_days)
        # the poll head this process last read or wrote per registrar: an ack writes the next one on condition it
        # is unchanged instead of reading it first (poll_heads.py); never trusted for what a req answers
        self._heads: OrderedDict[str, Head] = OrderedDict()
        # writes what the acks recorded in heads stand for, shortly after (poll_settlement.py)
        self.settlement = AckSettlement(ctx, self.metrics, self.settings.poll_settle_seconds)

    def _remember(self, head: Head) -> None:
        known = self._heads.get(head.registrar_id)
        if known is not None and known.ahead and not head.ahead and head.rev is not None and head.rev == known.rev:
            # the stored head read back is the one this process wrote: what it kept past the window still holds
            head.ahead = known.ahead
        self._heads[head.registrar_id] = head
        self._heads.move_to_end(head.registrar_id)
        while len(self._heads) > REMEMBERED_HEADS:
            self._heads.popitem(last=False)

    @property
    def heads(self) -> PollHeads:
        return PollHeads(self.db)  # the database is connected at start-up, after this object is made

    @property
    def db(self) -> AsyncDatabase[Document]:
        return self.ctx.db

    # -- read models -------------------------------------------------------------------------------------------

    async def on_registrar_created(self, event: EventEnvelope[RegistrarCreated], session: AsyncClientSession) -> None:
        p = event.payload
        known = await self.db[REGISTRARS].find_one({"_id": event.registrar_id}, session=session) or {}
        values: dict[str, Any] = {"name": p.name, "email": p.email, "languages": p.languages,
                                  "automated_email": p.automated_email, "poll": p.poll,
                                  "inform_registrant_myself": p.inform_registrant_myself}
        # an update may have arrived first: it is newer than what the creation says
        fresh = {k: v for k, v in values.items() if v is not None and k not in known}
        if fresh:
            await self.db[REGISTRARS].update_one({"_id": event.registrar_id}, {"$set": fresh}, upsert=True,
                                                 session=session)

    async def on_registrar_updated(self, event: EventEnvelope[RegistrarUpdated], session: AsyncClientSession) -> None:
        p = event.payload
        changes: dict[str, Any] = {}
        if p.section == "profile":
            changes = {k: p.changes[k] for k in PROFILE_FIELDS if k in p.changes}
        elif p.section == "epp_settings" and "poll" in p.changes:
            changes = {"poll": bool(p.changes["poll"])}
        elif p.section == "email_categories":
            changes = {f"categories.{k}": list(cast(Iterable[str], p.changes.get(k) or [])) for k in CATEGORY_NAMES}
        if changes:
            await self.db[REGISTRARS].update_one({"_id": event.registrar_id}, {"$set": changes}, upsert=True,
                                                 session=session)

    async def on_contact_changed(self, event: EventEnvelope[Any], session: AsyncClientSession) -> None:
        p = event.payload
        await self.db[CONTACTS].update_one(
            {"_id": p.alias},
            {"$set": {"registrar_id": event.registrar_id, "email": p.email.strip().lower(), "language": p.language,
                      "type": p.type}},
            upsert=True, session=session,
        )

    async def on_contact_deleted(self, event: EventEnvelope[ContactDeleted], session: AsyncClientSession) -> None:
        await self.db[CONTACTS].delete_one({"_id": event.payload.alias}, session=session)
        await self.on_event(event, session)

    async def registrar(self, registrar_id: str, session: AsyncClientSession | None = None) -> RegistrarSettings:
        return RegistrarSettings.of(registrar_id, await self.db[REGISTRARS].find_one({"_id": registrar_id},
                                                                                     session=session))

    # -- events that mean messages -------------------------------------------------------------------------------

    async def on_event(self, event: EventEnvelope[Any], session: AsyncClientSession) -> None:
        await self.apply_events([event], session)

    async def apply_events(self, events: Sequence[EventEnvelope[Any]], session: AsyncClientSession) -> None:
        """A run of events in the consumer's transaction: one read of the registrars' settings, one write of
        the poll messages and one of the mails for the whole run."""
        planned = [(event, notices(event)) for event in events]
        wanted = {n.registrar_id for _, items in planned for n in items if isinstance(n, ToRegistrar | RegistrarMail)}
        docs = await self.db[REGISTRARS].find({"_id": {"$in": sorted(wanted)}}, session=session).to_list() if wanted else []
        registrars = {d["_id"]: RegistrarSettings.of(d["_id"], d) for d in docs}
        writes = Writes()
        for event, items in planned:
            await self.deliver(items, event, session, writes, registrars)
        await writes.flush(self.db, session, self.ctx.clock.now())

    async def on_email_bounced(self, event: EventEnvelope[EmailBounced], session: AsyncClientSession) -> None:
        """E-MAIL BOUNCED to every registrar with a contact at the address (a registrant's mail bounced); TRANSFER
        BOUNCED to the registrar whose transfer code mail it was."""
        p = event.payload
        out: list[Notice] = []
        if p.audience == Audience.REGISTRANT.value:
            registrars = await self.db[CONTACTS].distinct("registrar_id", {"email": p.recipient.strip().lower()},
                                                          session=session)
            date = cps.stamp(event.occurred_at)
            for rid in sorted(r for r in registrars if r):
                out.append(ToRegistrar(rid, "email.bounced",
                                       {"email": p.recipient, "detailedcode": p.detailed_code or "", "date": date},
                                       {"email": p.recipient}, p.recipient))
            if p.message_type == "registrant.transfer_code" and event.registrar_id and p.object:
                out.append(ToRegistrar(event.registrar_id, "transfer.code_bounced",
                                       {"domainname": p.object, "email": p.recipient}, domain_variables(p.object),
                                       p.object))
        writes = Writes()
        await self.deliver(out, event, session, writes, {})
        await writes.flush(self.db, session, self.ctx.clock.now())

    async def deliver(self, items: list[Notice], event: EventEnvelope[Any], session: AsyncClientSession,
                      writes: Writes, registrars: dict[str, RegistrarSettings]) -> None:
        async def settings_of(rid: str) -> RegistrarSettings:
            if rid not in registrars:
                registrars[rid] = await self.registrar(rid, session)
            return registrars[rid]

        for notice in items:
            if isinstance(notice, ToRegistrar):
                self._structured(notice, await settings_of(notice.registrar_id), event, writes)
            elif isinstance(notice, RegistrarMail):
                self._registrar_mail(notice, await settings_of(notice.registrar_id), event, writes)
            elif isinstance(notice, SupportMail):
                self._support_mail(notice, event, writes)
            elif notice.unless_registrar_informs and notice.registrar_id \
                    and (await settings_of(notice.registrar_id)).inform_registrant_myself:
                continue  # the registrar informs its registrant itself, with the URL it fetches (seed)
            else:
                await self._registrant_mail(notice, event, session, writes)

    def _structured(self, n: ToRegistrar, registrar: RegistrarSettings, event: EventEnvelope[Any],
                    writes: Writes) -> None:
        message = STRUCTURED[n.message]
        language = languages_for(registrar.languages, message.msg, multilingual=False)[0]
        route = structured_route(registrar)
        now = self.ctx.clock.now()
        if route.channel is Channel.POLL:
            writes.poll.append({
                "registrar_id": n.registrar_id, "message": n.message, "queued_at": now,
                "text": message.msg[language], "fields": cps.poll_fields(message, n.values), "language": language,
                "event_id": str(event.event_id), "acked_at": None, "expires_at": now + self.poll_retention,
            })
        else:
            rendered = cps.cps(message, n.values, n.variables, language)
            self.queue_mail(
                key=f"{event.event_id}:{n.message}:{n.object}:{route.address}:{language}", to=str(route.address),
                subject=rendered.subject, body=rendered.body, kind="cps", message=n.message, language=language,
                registrar_id=n.registrar_id, audience=Audience.REGISTRAR, about=n.object, writes=writes,
            )
        self.metrics.messages.labels(n.message, route.channel.value).inc()

    def _registrar_mail(self, n: RegistrarMail, registrar: RegistrarSettings, event: EventEnvelope[Any],
                        writes: Writes) -> None:
        mail = MAILS[n.mail]
        self.queue_category_mail(mail, registrar, mail.category or Category.GENERAL, mail.subject, mail.body,
                                 n.variables, f"{event.event_id}:{n.mail}:{n.object}", writes)

    def queue_category_mail(self, mail: Mail, registrar: RegistrarSettings, category: Category,
                            subjects: dict[str, str], bodies: dict[str, str], variables: dict[str, str],
                            key_prefix: str, writes: Writes, multilingual: bool | None = None) -> int:
        """The mail to each of the category's addresses, in the registrar's languages (routing.py)."""
        languages = languages_for(registrar.languages, bodies, mail.multilingual if multilingual is None else multilingual)
        queued = 0
        for address in category_addresses(registrar, category):
            for order, language in enumerate(languages):
                self.queue_mail(
                    key=f"{key_prefix}:{address}:{language}", to=address,
                    subject=Template(subjects[language]).safe_substitute(variables),
                    body=Template(bodies[language]).safe_substitute(variables), kind=category.value,
                    message=mail.key, language=language, registrar_id=registrar.registrar_id,
                    audience=Audience.REGISTRAR, about=None, writes=writes, order=order,
                )
                queued += 1
        self.metrics.messages.labels(mail.key, Channel.MAIL.value).inc(queued)
        return queued

    def _support_mail(self, n: SupportMail, event: EventEnvelope[Any], writes: Writes) -> None:
        mail = MAILS[n.mail]
        language = languages_for([self.settings.support_language], mail.body, multilingual=False)[0]
        self.queue_mail(
            key=f"{event.event_id}:{n.mail}:{n.object}", to=self.settings.support_email,
            subject=Template(mail.subject[language]).safe_substitute(n.variables),
            body=Template(mail.body[language]).safe_substitute(n.variables), kind=Audience.SUPPORT.value,
            message=n.mail, language=language,
            # no registrar: a bounce of the support mailbox is nobody's registrar report
            registrar_id=None, audience=Audience.SUPPORT, about=n.object, writes=writes,
        )
        self.metrics.messages.labels(n.mail, Channel.MAIL.value).inc()

    async def _registrant_mail(self, n: RegistrantMail, event: EventEnvelope[Any], session: AsyncClientSession,
                               writes: Writes) -> None:
        mail = MAILS[n.mail]
        language = n.language
        if not language and n.contact:
            contact = await self.db[CONTACTS].find_one({"_id": n.contact}, {"language": 1}, session=session)
            language = (contact or {}).get("language")
        chosen = languages_for([language or "en"], mail.body, multilingual=False)[0]
        self.queue_mail(
            key=f"{event.event_id}:{n.mail}:{n.object}:{n.email}:{chosen}", to=n.email,
            subject=Template(mail.subject[chosen]).safe_substitute(n.variables),
            body=Template(mail.body[chosen]).safe_substitute(n.variables), kind="registrant", message=n.mail,
            language=chosen, registrar_id=n.registrar_id, audience=Audience.REGISTRANT, about=n.object,
            sealed={name: {"purpose": purpose, "value": value} for name, (purpose, value) in n.sealed.items()},
            writes=writes,
        )
        self.metrics.messages.labels(n.mail, Channel.MAIL.value).inc()

    def queue_mail(self, *, key: str, to: str, subject: str, body: str, kind: str, message: str, language: str,
                   registrar_id: str | None, audience: Audience, about: str | None, writes: Writes,
                   sealed: dict[str, dict[str, str]] | None = None, order: int = 0) -> None:
        """Record the mail to send; the key makes a second queueing of the same mail a no-op. `order` keeps the
        language versions of one message in the recipient's order (the dispatcher sends them one after another)."""
        now, wall = self.ctx.clock.now(), utcnow()
        writes.mails.append(UpdateOne({"_id": key}, {"$setOnInsert": {
            "to": to, "subject": subject, "body": body, "sealed": sealed or {}, "kind": kind, "message": message,
            "language": language, "registrar_id": registrar_id, "audience": audience.value, "about": about,
            "status": "pending", "attempts": 0, "queued_at": now, "queued_wall": wall, "order": order,
            "next_attempt_at": wall,
            "expires_at": now + self.mail_retention,
        }}, upsert=True))

    # -- the poll queue -------------------------------------------------------------------------------------------

    async def queue(self, registrar_id: str, limit: int = 1) -> tuple[int, list[QueuedMessage]]:
        """The open messages' count and the first `limit` of them, from poll_messages (the web page), without the
        acks the registrar's head holds unsettled: those ids are read first, so that an ack settled in between
        is acknowledged in poll_messages by the time they are read."""
        head = await self.db[POLL_HEADS].find_one({"_id": registrar_id}, {"acked._id": 1})
        query = open_messages(registrar_id, self.ctx.clock.now(), [e["_id"] for e in (head or {}).get("acked") or []])
        docs = await self.db[POLL].find(query).sort([("queued_at", ASCENDING), ("_id", ASCENDING)]).limit(
            limit).to_list()
        return await self.db[POLL].count_documents(query), [
            QueuedMessage(str(d["_id"]), d["message"], d["queued_at"], d["text"], d["fields"], d.get("language", "en"))
            for d in docs]

    async def poll(self, request: PollRequest, channel: str = "epp") -> PollReply:
        if request.op == "req":
            reply = await self._req(request.registrar_id)
        elif not request.msg_id:
            reply = PollReply(code=2003, message="poll ack needs msgID")
        else:
            reply = await self.ack(request.registrar_id, request.msg_id, channel)
        self.metrics.poll_requests.labels(request.op, str(reply.code)).inc()
        return reply

    async def _req(self, registrar_id: str) -> PollReply:
        """The queue's head and count from the registrar's head document: one find by _id (poll_heads.py)."""
        now = self.ctx.clock.now()
        head = await self.heads.find(registrar_id, now)
        if head is None:
            head = await in_transaction(self.ctx.client, lambda session: self.heads.rebuild(registrar_id, now, session))
        self._remember(head)
        if not head.next:
            return PollReply(code=1300, count=0)
        m = head.next[0]
        return PollReply(code=1301, count=head.count,
                         head=PollMessage(msg_id=str(m["_id"]), queued_at=m["queued_at"], text=m["text"],
                                          fields=m["fields"], language=m.get("language", "en")))

    async def ack(self, registrar_id: str, msg_id: str, channel: str) -> PollReply:
        """Acknowledge once, whichever channel: the first ack wins; any later one finds no message."""
        now = self.ctx.clock.now()
        key = _stored_id(msg_id)
        head: Head | None = None
        remembered = self._heads.get(registrar_id)
        doc = remembered.message(key) if remembered is not None and not remembered.stale(now) else None
        # through the head unless the message expires before its ack is surely settled (poll_settlement.py)
        if remembered is not None and doc is not None and doc["expires_at"] > now + SETTLE_MARGIN:
            try:
                head = await self._ack_remembered(remembered, doc, channel, now)
            except _Moved:
                head = None  # the stored head changed since: read it
        if head is None:
            head = await self._ack_reading(registrar_id, key, channel, now)
        if head is None:
            return _not_in_queue(msg_id)
        self._remember(head)
        return PollReply(code=1000, message="Command completed successfully", count=head.count, acked_id=msg_id)

    async def _ack_remembered(self, head: Head, doc: Document, channel: str, now: datetime) -> Head:
        """The usual ack (the message is in the head this process remembers): one update of the head document, on
        condition that the stored one is still `head` (its rev), that takes the message out of the window and
        records the ack in the head, no transaction, no read (poll_settlement.py). Settlement marks the message
        acknowledged and puts notification.acknowledged in the outbox shortly after, with the registrar's other
        acks of that moment in one transaction; the relay is not woken: the events go out with its next round
        (OUTBOX_POLL_SECONDS) instead of costing a relay round per ack while a registrar drains its queue. Raises
        _Moved when the stored head changed (or cannot take another unsettled ack); then nothing is written."""
        entry = ack_entry(doc["_id"], channel, now, self.acked_retention)
        try:
            after = await self.heads.after_ack(head, doc["_id"], now)
            if after is None or not await self.heads.acknowledge(head, after, entry):
                raise _Moved
        except TRANSIENT_DATABASE_ERRORS as exc:
            # the update may have been applied: the ack that reads finds it so (2303), or writes it
            raise _Moved from exc
        self.settlement.soon(head.registrar_id)
        return after

    async def _ack_reading(self, registrar_id: str, key: int | str, channel: str, now: datetime) -> Head | None:
        """The ack that reads what it needs, in a transaction settled at once: the stored head (or rebuilds it),
        the message by _id; None when the message is not open in the registrar's queue (acknowledged already,
        recorded in the head but not settled included)."""

        async def work(session: AsyncClientSession) -> Head | None:
            head = await self.heads.read(registrar_id, now, session)
            if key in (head.unsettled or ()):
                return None
            # by _id (and acked_at) only, its registrar and expiry checked on the document: the local stand-in walks
            # the registrar's whole queue on the compound index for a filter that names registrar_id too
            doc = await self.db[POLL].find_one({"_id": key}, session=session)
            if doc is None or doc.get("registrar_id") != registrar_id or doc.get("acked_at") is not None \
                    or doc["expires_at"] <= now:
                return None
            entry = ack_entry(key, channel, now, self.acked_retention)
            # a conditional update_one, not find_one_and_update (the local stand-in scans the whole collection for
            # the latter); a concurrent ack of the same message conflicts (here or on the head) and is retried
            done = await self.db[POLL].update_one({"_id": key, "acked_at": None}, acknowledging(entry),
                                                  session=session)
            if done.modified_count != 1:
                return None
            after = await self.heads.acked(head, key, now, session)
            await self.ctx.outbox.add([acknowledged_event(entry, doc)], session)
            return after

        return await in_transaction(self.ctx.client, work)

    # -- bounces reported after delivery, and staff mail ---------------------------------------------------------

    async def record_bounce(self, recipient: str, smtp_code: int | None, reason: str, detailed_code: str | None,
                            mail_key: str | None, correlation_id: str) -> bool:
        """A bounce that came back after the server accepted the mail (a DSN): the mail's record says bounced and
        email.bounced is published. False when mail_key names no mail to that recipient."""

        async def work(session: AsyncClientSession) -> bool:
            mail = None
            if mail_key:
                mail = await self.db[MAIL_COLLECTION].find_one({"_id": mail_key, "to": recipient}, session=session)
                if mail is None:
                    return False
                await self.db[MAIL_COLLECTION].update_one(
                    {"_id": mail_key}, {"$set": {"status": "bounced", "smtp_reply": f"{smtp_code or ''} {reason}".strip()}},
                    session=session)
            await self.ctx.outbox.add([self.bounce_event(mail or {"to": recipient, "audience": "registrant"},
                                                         smtp_code, reason, detailed_code, True, correlation_id)], session)
            return True

        done = await in_transaction(self.ctx.client, work)
        if done:
            self.metrics.mails_bounced.labels("reported").inc()
            self.ctx.committed()
        return done

    def bounce_event(self, mail: Document, smtp_code: int | None, reason: str, detailed_code: str | None,
                     permanent: bool, correlation_id: str | None) -> EventEnvelope[EmailBounced]:
        return new_event(
            EmailBounced(recipient=mail["to"], message_type=mail.get("message", "unknown"),
                         audience=mail.get("audience", "registrant"), smtp_code=smtp_code, reason=reason[:500],
                         permanent=permanent, object=mail.get("about"), detailed_code=detailed_code),
            registrar_id=mail.get("registrar_id"), correlation_id=correlation_id, clock=self.ctx.clock,
        )

    async def announce(self, category: Category, subjects: dict[str, str], bodies: dict[str, str],
                       registrar_ids: list[str] | None, multilingual: bool, broadcast_id: str) -> int:
        """Staff mail of a category to the given registrars (all known ones when None); returns mails queued."""
        mail = MAILS["registrar.announcement"]

        async def work(session: AsyncClientSession) -> int:
            query: dict[str, Any] = {"_id": {"$in": registrar_ids}} if registrar_ids is not None else {}
            docs = await self.db[REGISTRARS].find(query, session=session).to_list()
            queued, writes = 0, Writes()
            for doc in docs:
                queued += self.queue_category_mail(mail, RegistrarSettings.of(doc["_id"], doc), category, subjects,
                                                   bodies, {}, f"{broadcast_id}:{category.value}", writes,
                                                   multilingual=multilingual)
            await writes.flush(self.db, session, self.ctx.clock.now())
            return queued

        return await in_transaction(self.ctx.client, work)

    async def mails_to(self, address: str, limit: int = 100) -> list[Document]:
        """The send record of the mails to an address (bodies left out: they may hold personal data)."""
        return await self.db[MAIL_COLLECTION].find(
            {"to": address}, {"body": 0, "sealed": 0}).sort("queued_wall", ASCENDING).limit(limit).to_list()

    # -- gauges ------------------------------------------------------------------------------------------------------

    async def refresh_gauges(self) -> None:
        # from poll_messages alone: an EPP ack counts here once settled (within POLL_SETTLE_SECONDS)
        now = self.ctx.clock.now()
        depths = await (await self.db[POLL].aggregate([
            {"$match": {"acked_at": None, "expires_at": {"$gt": now}}},
            {"$group": {"_id": "$registrar_id", "n": {"$sum": 1}, "oldest": {"$min": "$queued_at"}}},
        ])).to_list()
        buckets = {name: 0 for _, _, name in DEPTH_BUCKETS}
        for d in depths:
            buckets[depth_bucket(int(d["n"]))] += 1
        for name, n in buckets.items():
            self.metrics.queue_registrars.labels(name).set(n)
        self.metrics.queue_messages.set(sum(int(d["n"]) for d in depths))
        oldest = min((d["oldest"] for d in depths), default=None)
        self.metrics.oldest_poll_seconds.set((now - oldest).total_seconds() if oldest else 0)
        pending = self.db[MAIL_COLLECTION]
        self.metrics.mails_pending.set(await pending.count_documents({"status": "pending"}))
        first = await pending.find_one({"status": "pending"}, {"queued_wall": 1}, sort=[("queued_wall", ASCENDING)])
        self.metrics.oldest_pending_seconds.set((utcnow() - first["queued_wall"]).total_seconds() if first else 0)
        self.metrics.gauges_refreshed.set(utcnow().timestamp())


def notifications_of(ctx: ServiceContext) -> Notifications:
    """One application object per service context."""
    app = ctx.extras.get("notifications")
    if app is None:
        app = ctx.extras["notifications"] = Notifications(ctx)
    return app
