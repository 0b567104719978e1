"""The read models, built only from events: each handler translates one event into writes on the
reporting database, in the consumer's transaction, where the event is also journaled (journal.py: what a
rebuild replays; an event is journaled and applied once). The figures of the quarterly report are monthly
counters (facts) so that a quarter is a few hundred small documents per registrar, whatever the portfolio size.

Events may arrive out of order (requeues, competing replicas): the domain record keeps the newest state
(lifecycle.py) and the portfolio counter follows the record; a verification status is kept by occurred_at
whether or not contact.created came first; the last bounce time only moves forward. Facts are counters
dated by the event, so their order does not matter."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any

from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from services.reporting import ages, bounces, journal, lifecycle
from services.reporting.metrics import ReportingMetrics
from services.reporting.periods import day_of, month_of, renewal_month
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
from services.reporting.writes import ABSENT, CURRENT, BatchWrites
from shared.clock import Clock
from shared.events import EventEnvelope, EventPayload
from shared.events.contacts import ContactCreated, ContactDeleted, ContactUpdated
from shared.events.domains import (
    DomainCreated,
    DomainDeleted,
    DomainQuarantined,
    DomainReactivated,
    DomainReleased,
    DomainRenewed,
    DomainServiceChanged,
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
from shared.events.registrars import RegistrarCategory, RegistrarCreated, RegistrarUpdated
from shared.events.verification import (
    VerificationApproved,
    VerificationFailed,
    VerificationRequired,
    VerificationUndone,
)
from shared.mongo.client import Document
from shared.mongo.idempotency import BatchHandler

Handler = Callable[[EventEnvelope[Any], AsyncClientSession], Awaitable[None]]
DomainRule = Callable[[lifecycle.Record | None], lifecycle.Record]

# the events whose handlers go through _domain(payload.name): their records are read for a batch at once
_NAMED_DOMAIN_EVENTS = (DomainCreated, DomainDeleted, DomainUndeleted, DomainQuarantined, DomainReactivated,
                        DomainReleased, DomainTransferred, DomainRenewed, DomainServiceChanged)

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
        self._effects = self._table()

    @property
    def db(self) -> AsyncDatabase[Document]:
        return self._db()

    def handlers(self) -> dict[type[EventPayload], Handler]:
        """What the consumer calls: one batch handler for every type, so a run of events is applied in order in
        one transaction; the journal is its ledger (the consumer journals each event there as it records it)."""
        handler = BatchHandler(self._apply_batch, ledger=journal.Journal(lambda: self.db))
        return {model: handler for model in self._effects}

    def _table(self) -> dict[type[EventPayload], Callable[..., Awaitable[None]]]:
        return {
            DomainCreated: self.domain_created, DomainDeleted: self.domain_deleted,
            DomainUndeleted: self.domain_undeleted, DomainQuarantined: self.domain_quarantined,
            DomainReactivated: self.domain_reactivated, DomainReleased: self.domain_released,
            DomainTransferred: self.domain_transferred, DomainRenewed: self.domain_renewed,
            DomainServiceChanged: self.domain_service_changed,
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

    async def _apply_batch(self, events: Sequence[EventEnvelope[Any]], session: AsyncClientSession) -> None:
        """A run of events new to the journal (the consumer journals them in this transaction), in order."""
        # the domain records read in one query and the read models written in one bulk write per collection at
        # the end (writes.py), not a few round trips per event
        batch = BatchWrites()
        await batch.prefetch(self.db, [e.payload.name for e in events if isinstance(e.payload, _NAMED_DOMAIN_EVENTS)],
                             session)
        token = CURRENT.set(batch)
        try:
            for event in events:
                await self.apply(event, session)
                # the lag is kept in memory: a "last event" document would be written by every transaction, and
                # replicas' transactions would conflict on it. Idle (nothing to apply) means no lag.
                self.metrics.applied.labels(event.event_type).inc()
                self.metrics.lag.set(max(0.0, (self.clock.now() - event.occurred_at).total_seconds()))
        finally:
            CURRENT.reset(token)
        await batch.flush(self.db, session)

    async def apply(self, event: EventEnvelope[Any], session: AsyncClientSession) -> None:
        """The event's effect on the read models (live, or replayed from the journal)."""
        await self._effects[type(event.payload)](event, session)

    # -- helpers ----------------------------------------------------------------------------------------------

    async def _fact(self, registrar_id: str | None, month: str, metric: Metric, key: str,
                    session: AsyncClientSession, n: int = 1) -> None:
        if not registrar_id:
            return
        on_insert = {"registrar_id": registrar_id, "month": month, "metric": metric.value, "key": key}
        batch = CURRENT.get()
        if batch is not None:
            batch.fact(fact_id(registrar_id, month, metric.value, key), n, on_insert)
            return
        await self.db[FACTS].update_one(
            {"_id": fact_id(registrar_id, month, metric.value, key)},
            {"$inc": {"count": n}, "$setOnInsert": on_insert}, upsert=True, session=session,
        )

    async def _portfolio(self, registrar_id: str | None, delta: int, at: datetime, cohort: str | None,
                         session: AsyncClientSession) -> None:
        if registrar_id:
            # net.<month>: the quarterly report walks back from today's count to each month's end; cohorts and
            # the ACTIVE facts likewise for the registrations' ages (ages.py)
            cohort = cohort or ages.UNKNOWN
            inc = {"domains": delta, f"net.{month_of(at)}": delta, f"cohorts.{cohort}": delta}
            batch = CURRENT.get()
            if batch is not None:
                batch.portfolio(registrar_id, inc, at)
            else:
                await self.db[PORTFOLIOS].update_one({"_id": registrar_id}, {"$inc": inc, "$max": {"last_event_at": at}},
                                                     upsert=True, session=session)
            await self._fact(registrar_id, month_of(at), Metric.ACTIVE, cohort, session, n=delta)

    async def _domain(self, name: str, event: EventEnvelope[Any], rule: DomainRule,
                      session: AsyncClientSession) -> lifecycle.Record | None:
        """Apply a lifecycle rule to the name's record and move the portfolios as its active sponsor changed;
        returns the record as it was."""
        # find then write: find_one_and_update scans the whole collection on the stand-in
        batch = CURRENT.get()
        known = batch.record(name) if batch is not None else None
        if batch is not None and known is not ABSENT:
            before = known
        else:
            before = await self.db[DOMAINS].find_one({"_id": name}, session=session)
            if batch is not None:
                batch.stored[name] = before  # what a write at the batch's end replaces
        after = rule(before)
        if batch is not None:
            if after != before:
                batch.put(name, after)
            else:
                batch.domains[name] = before
        elif after != before:
            await self.db[DOMAINS].replace_one({"_id": name}, after, upsert=True, session=session)
        losing, gaining = lifecycle.active_sponsor(before), lifecycle.active_sponsor(after)
        was, now = lifecycle.registered_month(before), lifecycle.registered_month(after)
        # also when only the cohort became known (a domain.created after a later event of the name)
        if losing != gaining or (losing and was != now):
            await self._portfolio(losing, -1, event.occurred_at, was, session)
            await self._portfolio(gaining, 1, event.occurred_at, now, session)
        return before

    # -- domains ----------------------------------------------------------------------------------------------

    async def domain_created(self, event: EventEnvelope[DomainCreated], session: AsyncClientSession) -> None:
        p = event.payload
        await self._domain(p.name, event, lambda r: lifecycle.created(r, event.registrar_id, p, event.occurred_at),
                           session)
        await self._fact(event.registrar_id, month_of(p.registered_at), Metric.CREATE, "", session)
        self.metrics.counted.labels(p.tld).inc()

    async def domain_deleted(self, event: EventEnvelope[DomainDeleted], session: AsyncClientSession) -> None:
        p = event.payload
        await self._domain(p.name, event, lambda r: lifecycle.deleted(r, event.registrar_id, p, event.occurred_at),
                           session)

    async def domain_undeleted(self, event: EventEnvelope[DomainUndeleted], session: AsyncClientSession) -> None:
        await self._domain(event.payload.name, event,
                           lambda r: lifecycle.undeleted(r, event.registrar_id, event.occurred_at), session)

    async def domain_quarantined(self, event: EventEnvelope[DomainQuarantined], session: AsyncClientSession) -> None:
        p = event.payload
        before = await self._domain(
            p.name, event, lambda r: lifecycle.quarantined(r, event.registrar_id, p, event.occurred_at), session)
        if lifecycle.delete_counted_by_release(before, event.occurred_at):
            return
        # the deletion took effect: a delete in the renewal rate, keyed by the anniversary it decides
        sponsor = event.registrar_id or (before or {}).get("registrar_id")
        month = month_of(p.quarantined_at)
        await self._fact(sponsor, month, Metric.DELETE, ages.anniversary(lifecycle.registered_month(before), month),
                         session)

    async def domain_reactivated(self, event: EventEnvelope[DomainReactivated], session: AsyncClientSession) -> None:
        before = await self._domain(event.payload.name, event,
                                    lambda r: lifecycle.reactivated(r, event.registrar_id, event.occurred_at), session)
        await self._fact(event.registrar_id or (before or {}).get("registrar_id"), month_of(event.occurred_at),
                         Metric.REACTIVATE, "", session)

    async def domain_released(self, event: EventEnvelope[DomainReleased], session: AsyncClientSession) -> None:
        before = await self._domain(event.payload.name, event, lambda r: lifecycle.released(r, event.occurred_at),
                                    session)
        sponsor = event.registrar_id or (before or {}).get("registrar_id")
        month = month_of(event.occurred_at)
        await self._fact(sponsor, month, Metric.RELEASE, "", session)
        if lifecycle.release_is_delete(before, event.occurred_at):
            # an out-of-service name, released with no quarantine (digest 4.1): its delete takes effect now, as
            # a quarantine's does, and decides the anniversary it was not renewed at
            anniversary = lifecycle.deleted_anniversary_month(before, event.occurred_at)
            await self._fact(sponsor, month, Metric.DELETE,
                             ages.anniversary(lifecycle.registered_month(before), anniversary), session)

    async def domain_service_changed(self, event: EventEnvelope[DomainServiceChanged],
                                     session: AsyncClientSession) -> None:
        p = event.payload
        await self._domain(p.name, event,
                           lambda r: lifecycle.service_changed(r, event.registrar_id, p, event.occurred_at), session)

    async def domain_transferred(self, event: EventEnvelope[DomainTransferred], session: AsyncClientSession) -> None:
        p = event.payload
        await self._domain(p.name, event, lambda r: lifecycle.transferred(r, p, event.occurred_at), session)
        if p.gaining_registrar_id != p.losing_registrar_id:
            month = month_of(event.occurred_at)
            await self._fact(p.gaining_registrar_id, month, Metric.TRANSFER_IN, p.losing_registrar_id, session)
            await self._fact(p.losing_registrar_id, month, Metric.TRANSFER_OUT, p.gaining_registrar_id, session)

    async def domain_renewed(self, event: EventEnvelope[DomainRenewed], session: AsyncClientSession) -> None:
        p = event.payload
        before = await self._domain(p.name, event, lambda r: lifecycle.renewed(r, p), session)
        # the renewal of the anniversary month, which the registry runs on the 1st of the next one
        month = renewal_month(p.expires_at)
        await self._fact(p.registrar_id, month, Metric.RENEWAL,
                         ages.anniversary(lifecycle.registered_month(before), month), session)

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
        statuses: dict[type[Any], str] = {VerificationRequired: "PENDING", VerificationApproved: "VERIFIED",
                                          VerificationFailed: "FAILED", VerificationUndone: "UNVERIFIED"}
        status = statuses[type(p)]
        # find then update: find_one_and_update scans the whole collection on the stand-in
        doc = await self.db[CONTACTS].find_one({"_id": p.contact}, {"registrar_id": 1, "status_at": 1},
                                               session=session)
        if doc is None or doc.get("status_at") is None or event.occurred_at >= doc["status_at"]:
            # the newest verification event's status, also when it comes before contact.created (which then
            # leaves it: it sets the initial status only on insert)
            await self.db[CONTACTS].update_one(
                {"_id": p.contact},
                {"$set": {"status": status, "status_at": event.occurred_at},
                 "$setOnInsert": {"registrar_id": event.registrar_id, "type": "REGISTRANT"}},
                upsert=True, session=session)
        registrar_id = event.registrar_id or (doc or {}).get("registrar_id")
        month = month_of(event.occurred_at)
        if isinstance(p, VerificationRequired):
            await self._fact(registrar_id, month, Metric.VERIFICATION_DOMAINS_SELECTED, "", session)
            if p.first:
                await self._fact(registrar_id, month, Metric.VERIFICATION_CONTACTS_SELECTED, "", session)
        elif isinstance(p, VerificationApproved):
            await self._fact(registrar_id, month, Metric.VERIFICATION_CONTACTS_APPROVED, "", session)
            if p.domains:
                await self._fact(registrar_id, month, Metric.VERIFICATION_DOMAINS_APPROVED, "", session,
                                 n=len(p.domains))

    # -- money, registrars ------------------------------------------------------------------------------------

    async def paying_transaction(self, event: EventEnvelope[PayingTransactionRecorded],
                                 session: AsyncClientSession) -> None:
        await self._fact(event.registrar_id, month_of(event.occurred_at), Metric.PAYING, event.payload.kind.value,
                         session)

    async def registrar_created(self, event: EventEnvelope[RegistrarCreated], session: AsyncClientSession) -> None:
        if event.registrar_id:
            await self.db[REGISTRARS].update_one({"_id": event.registrar_id}, {"$set": {"name": event.payload.name}},
                                                 upsert=True, session=session)
            await self._category(event.registrar_id, event.payload.category, event.occurred_at, session)
            await self.db[PORTFOLIOS].update_one({"_id": event.registrar_id}, {"$inc": {"domains": 0}}, upsert=True,
                                                 session=session)

    async def registrar_updated(self, event: EventEnvelope[RegistrarUpdated], session: AsyncClientSession) -> None:
        name = event.payload.changes.get("name")
        if event.registrar_id and isinstance(name, str) and name:
            await self.db[REGISTRARS].update_one({"_id": event.registrar_id}, {"$set": {"name": name}}, upsert=True,
                                                 session=session)
        # a profile update carries the whole profile: no category there means none
        if event.registrar_id and event.payload.section == "profile":
            category = event.payload.changes.get("category")
            await self._category(event.registrar_id, category if isinstance(category, str) else None,
                                 event.occurred_at, session)

    async def _category(self, registrar_id: str, category: str | None, at: datetime,
                        session: AsyncClientSession) -> None:
        """The category of the newest profile (registrar.created or a profile update, in whatever order they
        are applied); a value this version does not know is no category (no group of unknown meaning)."""
        doc = await self.db[REGISTRARS].find_one({"_id": registrar_id}, {"category_at": 1}, session=session)
        if doc is not None and doc.get("category_at") is not None and at < doc["category_at"]:
            return
        known = category if category in RegistrarCategory._value2member_map_ else None
        await self.db[REGISTRARS].update_one(
            {"_id": registrar_id},
            {"$set": {"category": known, "category_at": at}} if known else
            {"$set": {"category_at": at}, "$unset": {"category": ""}}, upsert=True, session=session)

    # -- what the quarterly report scores ---------------------------------------------------------------------

    async def email_bounced(self, event: EventEnvelope[EmailBounced], session: AsyncClientSession) -> None:
        p = event.payload
        if not bounces.counts(p):
            return  # hard bounces of registrant mails only (bounces.py)
        month = month_of(event.occurred_at)
        await self._fact(event.registrar_id, month, Metric.BOUNCE, bounces.error_key(p), session)
        address = bounces.address(p)
        previous = await self.db[BOUNCES].find_one({"_id": address}, session=session)
        # $max: a bounce applied late must not set the address's last bounce back
        await self.db[BOUNCES].update_one({"_id": address}, {"$max": {"at": event.occurred_at}}, upsert=True,
                                          session=session)
        if bounces.recurring((previous or {}).get("at"), event.occurred_at, self.recurring_days):
            await self._fact(event.registrar_id, month, Metric.BOUNCE_RECURRING, "", session)

    async def domain_revoked(self, event: EventEnvelope[DomainRevoked], session: AsyncClientSession) -> None:
        await self._fact(event.registrar_id, month_of(event.payload.revoked_at), Metric.REVOKE,
                         event.payload.revoke_type, session)

    async def infection(self, event: EventEnvelope[InfectionReported], session: AsyncClientSession) -> None:
        await self._fact(event.registrar_id, month_of(event.payload.detected_at), Metric.INFECTION,
                         event.payload.infection_type, session)

    async def support_case(self, event: EventEnvelope[SupportCaseOpened], session: AsyncClientSession) -> None:
        p = event.payload
        await self._fact(event.registrar_id, month_of(p.opened_at), Metric.SUPPORT, p.topic.value, session)
        await self._fact(event.registrar_id, month_of(p.opened_at), Metric.SUPPORT_DAY, day_of(p.opened_at), session)
