"""The read models, built only from events: each handler translates one event into writes on the
reporting database, in the consumer's transaction (with the processed-event record, so a redelivery
applies once). The figures of the quarterly report are monthly counters (facts) so that a quarter is
a few hundred small documents per registrar, whatever the portfolio size."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from services.reporting.metrics import ReportingMetrics
from services.reporting.periods import day_of, month_of
from services.reporting.quarterly import Metric
from services.reporting.store import (
    BOUNCES,
    CONTACTS,
    DOMAINS,
    FACTS,
    GROUPS,
    PORTFOLIOS,
    REGISTRARS,
    fact_id,
    group_id,
)
from shared.clock import Clock, one_year_after
from shared.events import EventEnvelope, EventPayload
from shared.events.contacts import ContactCreated, ContactDeleted, ContactUpdated
from shared.events.domains import (
    DomainCreated,
    DomainDeleted,
    DomainQuarantined,
    DomainReactivated,
    DomainReleased,
    DomainRenewed,
    DomainTransferred,
    DomainUndeleted,
)
from shared.events.feeds import DomainRevoked, InfectionReported, SupportCaseOpened
from shared.events.groups import (
    KeyGroupChanged,
    KeyGroupDeleted,
    NameServerGroupChanged,
    NameServerGroupDeleted,
)
from shared.events.money import PayingTransactionRecorded
from shared.events.notifications import EmailBounced
from shared.events.registrars import RegistrarCreated, RegistrarUpdated
from shared.events.verification import (
    VerificationApproved,
    VerificationFailed,
    VerificationRequired,
    VerificationUndone,
)
from shared.mongo.client import Document

Handler = Callable[[EventEnvelope[Any], AsyncClientSession], Awaitable[None]]

# the report's contact types (the registry says TECH)
CONTACT_TYPES = {"TECH": "TECHNICAL", "TECHNICAL": "TECHNICAL", "BILLING": "BILLING", "ONSITE": "ONSITE",
                 "REGISTRANT": "REGISTRANT"}


class ReadModel:
    def __init__(self, db: Callable[[], AsyncDatabase[Document]], metrics: ReportingMetrics, clock: Clock,
                 recurring_days: tuple[int, int] = (14, 92)) -> None:
        self._db = db  # connected at start-up, after this object is made
        self.metrics = metrics
        self.clock = clock
        self.recurring_days = recurring_days

    @property
    def db(self) -> AsyncDatabase[Document]:
        return self._db()

    def handlers(self) -> dict[type[EventPayload], Handler]:
        table: dict[type[EventPayload], Callable[..., Awaitable[None]]] = {
            DomainCreated: self.domain_created, DomainDeleted: self.domain_deleted,
            DomainUndeleted: self.domain_undeleted, DomainQuarantined: self.domain_quarantined,
            DomainReactivated: self.domain_reactivated, DomainReleased: self.domain_released,
            DomainTransferred: self.domain_transferred, DomainRenewed: self.domain_renewed,
            ContactCreated: self.contact_changed, ContactUpdated: self.contact_changed,
            ContactDeleted: self.contact_deleted,
            NameServerGroupChanged: self.group_changed, KeyGroupChanged: self.group_changed,
            NameServerGroupDeleted: self.group_deleted, KeyGroupDeleted: self.group_deleted,
            VerificationRequired: self.verification, VerificationApproved: self.verification,
            VerificationFailed: self.verification, VerificationUndone: self.verification,
            PayingTransactionRecorded: self.paying_transaction,
            RegistrarCreated: self.registrar_created, RegistrarUpdated: self.registrar_updated,
            EmailBounced: self.email_bounced,
            DomainRevoked: self.domain_revoked, InfectionReported: self.infection, SupportCaseOpened: self.support_case,
        }
        return {model: self._tracked(handler) for model, handler in table.items()}

    def _tracked(self, handler: Callable[..., Awaitable[None]]) -> Handler:
        async def run(event: EventEnvelope[Any], session: AsyncClientSession) -> None:
            await handler(event, session)
            # the lag is kept in memory: a "last event" document would be written by every transaction, and
            # replicas' transactions would conflict on it. Idle (nothing to apply) means no lag.
            self.metrics.applied.labels(event.event_type).inc()
            self.metrics.lag.set(max(0.0, (self.clock.now() - event.occurred_at).total_seconds()))

        return run

    # -- helpers ----------------------------------------------------------------------------------------------

    async def _fact(self, registrar_id: str | None, at: datetime, metric: Metric, key: str,
                    session: AsyncClientSession, n: int = 1) -> None:
        if not registrar_id:
            return
        month = month_of(at)
        await self.db[FACTS].update_one(
            {"_id": fact_id(registrar_id, month, metric.value, key)},
            {"$inc": {"count": n},
             "$setOnInsert": {"registrar_id": registrar_id, "month": month, "metric": metric.value, "key": key}},
            upsert=True, session=session,
        )

    async def _portfolio(self, registrar_id: str | None, delta: int, at: datetime, session: AsyncClientSession) -> None:
        if registrar_id:
            await self.db[PORTFOLIOS].update_one(
                {"_id": registrar_id}, {"$inc": {"domains": delta}, "$max": {"last_event_at": at}},
                upsert=True, session=session)

    async def _sponsor(self, name: str, session: AsyncClientSession) -> str | None:
        doc = await self.db[DOMAINS].find_one({"_id": name}, {"registrar_id": 1}, session=session)
        return doc["registrar_id"] if doc else None

    # -- domains ----------------------------------------------------------------------------------------------

    async def domain_created(self, event: EventEnvelope[DomainCreated], session: AsyncClientSession) -> None:
        p = event.payload
        await self.db[DOMAINS].replace_one({"_id": p.name}, {
            "registrar_id": event.registrar_id, "registered_at": p.registered_at,
            "expires_at": one_year_after(p.registered_at), "registrant": p.registrant, "status": "REGISTERED",
        }, upsert=True, session=session)
        await self._portfolio(event.registrar_id, 1, event.occurred_at, session)
        await self._fact(event.registrar_id, p.registered_at, Metric.CREATE, "", session)
        self.metrics.counted.labels(p.tld).inc()

    async def domain_deleted(self, event: EventEnvelope[DomainDeleted], session: AsyncClientSession) -> None:
        await self.db[DOMAINS].update_one({"_id": event.payload.name},
                                          {"$set": {"deletion_date": event.payload.delete_date}}, session=session)

    async def domain_undeleted(self, event: EventEnvelope[DomainUndeleted], session: AsyncClientSession) -> None:
        await self.db[DOMAINS].update_one({"_id": event.payload.name}, {"$unset": {"deletion_date": ""}},
                                          session=session)

    async def domain_quarantined(self, event: EventEnvelope[DomainQuarantined], session: AsyncClientSession) -> None:
        p = event.payload
        await self.db[DOMAINS].update_one({"_id": p.name}, {"$set": {
            "status": "QUARANTINE", "available_on": p.available_on, "deletion_date": p.quarantined_at}},
            session=session)
        # the deletion took effect: a delete in the portfolio figures and the renewal rate
        sponsor = event.registrar_id or await self._sponsor(p.name, session)
        await self._fact(sponsor, p.quarantined_at, Metric.DELETE, "", session)

    async def domain_reactivated(self, event: EventEnvelope[DomainReactivated], session: AsyncClientSession) -> None:
        await self.db[DOMAINS].update_one({"_id": event.payload.name}, {
            "$set": {"status": "REGISTERED"}, "$unset": {"available_on": "", "deletion_date": ""}}, session=session)
        await self._fact(event.registrar_id or await self._sponsor(event.payload.name, session), event.occurred_at,
                         Metric.REACTIVATE, "", session)

    async def domain_released(self, event: EventEnvelope[DomainReleased], session: AsyncClientSession) -> None:
        doc = await self.db[DOMAINS].find_one({"_id": event.payload.name}, {"registrar_id": 1}, session=session)
        if doc is not None:
            await self.db[DOMAINS].delete_one({"_id": event.payload.name}, session=session)
            await self._portfolio(doc["registrar_id"], -1, event.occurred_at, session)
            await self._fact(doc["registrar_id"], event.occurred_at, Metric.RELEASE, "", session)

    async def domain_transferred(self, event: EventEnvelope[DomainTransferred], session: AsyncClientSession) -> None:
        p = event.payload
        await self.db[DOMAINS].update_one({"_id": p.name}, {
            "$set": {"registrar_id": p.gaining_registrar_id, "registrant": p.new_registrant,
                     "expires_at": p.expires_at, "status": "REGISTERED"},
            "$unset": {"available_on": "", "deletion_date": ""}}, session=session)
        if p.gaining_registrar_id != p.losing_registrar_id:
            await self._portfolio(p.gaining_registrar_id, 1, event.occurred_at, session)
            await self._portfolio(p.losing_registrar_id, -1, event.occurred_at, session)
            await self._fact(p.gaining_registrar_id, event.occurred_at, Metric.TRANSFER_IN, p.losing_registrar_id, session)
            await self._fact(p.losing_registrar_id, event.occurred_at, Metric.TRANSFER_OUT, p.gaining_registrar_id,
                             session)

    async def domain_renewed(self, event: EventEnvelope[DomainRenewed], session: AsyncClientSession) -> None:
        p = event.payload
        await self.db[DOMAINS].update_one({"_id": p.name}, {"$set": {"expires_at": p.expires_at}}, session=session)
        await self._fact(p.registrar_id, event.occurred_at, Metric.RENEWAL, "", session)

    # -- contacts and groups ----------------------------------------------------------------------------------

    async def contact_changed(self, event: EventEnvelope[ContactCreated | ContactUpdated],
                              session: AsyncClientSession) -> None:
        p = event.payload
        kind = CONTACT_TYPES.get(p.type.upper(), p.type.upper())
        fields: Document = {"registrar_id": event.registrar_id, "type": kind}
        # registrants start UNVERIFIED (verification.* moves them); other contacts are not verified
        initial = "UNVERIFIED" if kind == "REGISTRANT" else "ACTIVE"
        await self.db[CONTACTS].update_one({"_id": p.alias}, {"$set": fields, "$setOnInsert": {"status": initial}},
                                           upsert=True, session=session)

    async def contact_deleted(self, event: EventEnvelope[ContactDeleted], session: AsyncClientSession) -> None:
        await self.db[CONTACTS].delete_one({"_id": event.payload.alias}, session=session)

    async def group_changed(self, event: EventEnvelope[NameServerGroupChanged | KeyGroupChanged],
                            session: AsyncClientSession) -> None:
        kind = event.event_type.split(".")[0]
        name = event.payload.name
        await self.db[GROUPS].update_one(
            {"_id": group_id(kind, event.registrar_id or "", name)},
            {"$set": {"kind": kind, "registrar_id": event.registrar_id, "name": name}}, upsert=True, session=session)

    async def group_deleted(self, event: EventEnvelope[NameServerGroupDeleted | KeyGroupDeleted],
                            session: AsyncClientSession) -> None:
        kind = event.event_type.split(".")[0]
        await self.db[GROUPS].delete_one({"_id": group_id(kind, event.registrar_id or "", event.payload.name)},
                                         session=session)

    async def verification(self, event: EventEnvelope[Any], session: AsyncClientSession) -> None:
        p = event.payload
        status = {VerificationRequired: "PENDING", VerificationApproved: "VERIFIED", VerificationFailed: "FAILED",
                  VerificationUndone: "UNVERIFIED"}[type(p)]
        # find then update: find_one_and_update scans the whole collection on the stand-in (docs/mongodb.md)
        doc = await self.db[CONTACTS].find_one({"_id": p.contact}, {"registrar_id": 1}, session=session)
        await self.db[CONTACTS].update_one({"_id": p.contact}, {"$set": {"status": status}}, session=session)
        registrar_id = event.registrar_id or (doc or {}).get("registrar_id")
        if isinstance(p, VerificationRequired):
            await self._fact(registrar_id, event.occurred_at, Metric.VERIFICATION_DOMAINS_SELECTED, "", session)
            if p.first:
                await self._fact(registrar_id, event.occurred_at, Metric.VERIFICATION_CONTACTS_SELECTED, "", session)
        elif isinstance(p, VerificationApproved):
            await self._fact(registrar_id, event.occurred_at, Metric.VERIFICATION_CONTACTS_APPROVED, "", session)
            if p.domains:
                await self._fact(registrar_id, event.occurred_at, Metric.VERIFICATION_DOMAINS_APPROVED, "", session,
                                 n=len(p.domains))

    # -- money, registrars ------------------------------------------------------------------------------------

    async def paying_transaction(self, event: EventEnvelope[PayingTransactionRecorded],
                                 session: AsyncClientSession) -> None:
        await self._fact(event.registrar_id, event.occurred_at, Metric.PAYING, event.payload.kind.value, session)

    async def registrar_created(self, event: EventEnvelope[RegistrarCreated], session: AsyncClientSession) -> None:
        if event.registrar_id:
            await self.db[REGISTRARS].update_one({"_id": event.registrar_id}, {"$set": {"name": event.payload.name}},
                                                 upsert=True, session=session)
            await self.db[PORTFOLIOS].update_one({"_id": event.registrar_id}, {"$inc": {"domains": 0}}, upsert=True,
                                                 session=session)

    async def registrar_updated(self, event: EventEnvelope[RegistrarUpdated], session: AsyncClientSession) -> None:
        name = event.payload.changes.get("name")
        if event.registrar_id and isinstance(name, str) and name:
            await self.db[REGISTRARS].update_one({"_id": event.registrar_id}, {"$set": {"name": name}}, upsert=True,
                                                 session=session)

    # -- what the quarterly report scores ---------------------------------------------------------------------

    async def email_bounced(self, event: EventEnvelope[EmailBounced], session: AsyncClientSession) -> None:
        p = event.payload
        if not p.permanent:
            return  # hard bounces only (digest 6.1)
        code = p.detailed_code or (str(p.smtp_code) if p.smtp_code else "")
        # the error message is what the report ranks: "<code> <server text>", bounded
        await self._fact(event.registrar_id, event.occurred_at, Metric.BOUNCE, f"{code} {p.reason[:120]}".strip(),
                         session)
        address = p.recipient.strip().lower()
        previous = await self.db[BOUNCES].find_one({"_id": address}, session=session)
        await self.db[BOUNCES].update_one({"_id": address}, {"$set": {"at": event.occurred_at}}, upsert=True,
                                          session=session)
        if previous is not None and previous.get("at") is not None:
            days = (event.occurred_at - previous["at"]).total_seconds() / 86400
            low, high = self.recurring_days
            if low <= days <= high:
                await self._fact(event.registrar_id, event.occurred_at, Metric.BOUNCE_RECURRING, "", session)

    async def domain_revoked(self, event: EventEnvelope[DomainRevoked], session: AsyncClientSession) -> None:
        await self._fact(event.registrar_id, event.payload.revoked_at, Metric.REVOKE, event.payload.revoke_type, session)

    async def infection(self, event: EventEnvelope[InfectionReported], session: AsyncClientSession) -> None:
        await self._fact(event.registrar_id, event.payload.detected_at, Metric.INFECTION, event.payload.infection_type,
                         session)

    async def support_case(self, event: EventEnvelope[SupportCaseOpened], session: AsyncClientSession) -> None:
        p = event.payload
        await self._fact(event.registrar_id, p.opened_at, Metric.SUPPORT, p.topic.value, session)
        await self._fact(event.registrar_id, p.opened_at, Metric.SUPPORT_DAY, day_of(p.opened_at), session)
