"""The read model, built only from events: each handler translates one event into writes on the publication
database (pure: it only says what to write); a run of events is written in one bulk write per collection, in
the consumer's transaction (applied exactly once, shared/mongo/idempotency.py). Under 100 changes a second this
is a handful of round trips per batch instead of one per event.

A change that alters what the zone says inserts a change record (the name and the event's occurred_at) into
`changes`, in the same transaction: the pusher (pusher.py), woken when the transaction has committed, sends the
domain's current records to Knot and deletes the change records it took. The pusher never writes the documents
the consumer writes (it keeps what it put in Knot in `published`), so the consumer's transactions never conflict
with a push (a conflict aborts the whole batch, which is retried bigger, and the lag grows).

Events may arrive out of order (requeues, replicas): the domain's state, its delegation and its override each
keep the occurred_at they are from, and an older event for that part changes nothing."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pymongo import DeleteOne, InsertOne, UpdateOne
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from services.publication.store import CHANGES, CONTACTS, DOMAINS, GROUPS, REGISTRARS, group_id
from shared.clock import one_year_after
from shared.events import EventEnvelope, EventPayload
from shared.events.contacts import ContactCreated, ContactDeleted
from shared.events.domains import (
    DomainCreated,
    DomainDeleted,
    DomainHoldChanged,
    DomainLocked,
    DomainOverrideChanged,
    DomainQuarantined,
    DomainReactivated,
    DomainReleased,
    DomainRenewed,
    DomainServiceChanged,
    DomainTransferred,
    DomainUndeleted,
    DomainUnlocked,
    DomainUpdated,
    NameServerHost,
)
from shared.events.groups import (
    KeyGroupChanged,
    KeyGroupDeleted,
    NameServerGroupChanged,
    NameServerGroupDeleted,
)
from shared.events.registrars import RegistrarCreated, RegistrarUpdated
from shared.mongo.client import Document
from shared.mongo.idempotency import BatchHandler

Handler = Callable[[EventEnvelope[Any], AsyncClientSession], Awaitable[None]]
Write = InsertOne[Document] | UpdateOne | DeleteOne
DOMAIN_EVENTS = (DomainCreated, DomainUpdated, DomainDeleted, DomainUndeleted, DomainQuarantined, DomainReactivated,
                 DomainReleased, DomainTransferred, DomainRenewed, DomainLocked, DomainUnlocked, DomainOverrideChanged,
                 DomainHoldChanged, DomainServiceChanged)
GUARDED = {"status": 1, "state_at": 1, "delegation_at": 1, "override_at": 1, "hold_at": 1, "service_at": 1}


@dataclass
class Writes:
    """What a run of events writes, per collection, in order; and what the run knows of its domains (their
    status and the occurred_at of each part, read once before the run and kept up to date as it goes), so
    that every guard is decided here and every write is a plain upsert by name."""

    known: dict[str, dict[str, Any]]
    ops: dict[str, list[Write]] = field(default_factory=dict)

    def add(self, collection: str, op: Write) -> None:
        self.ops.setdefault(collection, []).append(op)

    def domain(self, name: str, update: dict[str, Any], guard: tuple[str, datetime] | None = None,
               zone_at: datetime | None = None) -> bool:
        """Apply `update` to the domain unless the guarded part is from a later event; True when it applies.
        A domain not known yet gets a record (an event may overtake its domain.created: its effect waits there,
        invisible, as the record has no status until the registration arrives). `zone_at`: the update may change
        what the zone says, recorded as a change for the pusher (its occurred_at)."""
        state = self.known.setdefault(name, {})
        if guard is not None:
            part, at = guard
            if state.get(part) is not None and state[part] > at:
                return False
            state[part] = at
        state.update({k: v for k, v in update.get("$set", {}).items() if k == "status"})
        self.add(DOMAINS, UpdateOne({"_id": name}, update, upsert=True))
        if zone_at is not None:
            self.add(CHANGES, InsertOne(change(name, zone_at)))
        return True


def change(name: str, at: datetime) -> Document:
    """A change record: the domain's zone records await the pusher since `at` (the publication lag)."""
    return {"name": name, "at": at}


def group_change(kind: str, registrar_id: str, name: str, at: datetime) -> Document:
    """A change record for every domain of the registrar using the group: the pusher expands it into one per
    domain once committed (so domains this same batch adds to the group are among them)."""
    return {"group": {"kind": kind, "registrar_id": registrar_id, "name": name}, "at": at}


def merge(*updates: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for update in updates:
        for op, fields in update.items():
            out.setdefault(op, {}).update(fields)
    return out


def hosts_of(hosts: list[NameServerHost], names: list[str]) -> list[dict[str, Any]]:
    """The hosts with their glue; an event from before glue travelled gives the names alone."""
    if hosts:
        return [{"name": h.name, "addresses": list(h.addresses)} for h in hosts]
    return [{"name": n, "addresses": []} for n in names]


class ReadModel:
    def __init__(self, db: Callable[[], AsyncDatabase[Document]]) -> None:
        self._db = db  # connected at start-up, after this object is made

    @property
    def db(self) -> AsyncDatabase[Document]:
        return self._db()

    def handlers(self) -> dict[type[EventPayload], Handler]:
        handler = BatchHandler(self.apply_many)
        return {model: handler for model in self._table()}

    def _table(self) -> dict[type[EventPayload], Callable[[Any, Writes], None]]:
        return {
            DomainCreated: self.domain_created, DomainUpdated: self.domain_updated,
            DomainDeleted: self.domain_deleted, DomainUndeleted: self.domain_undeleted,
            DomainQuarantined: self.domain_quarantined, DomainReactivated: self.domain_reactivated,
            DomainReleased: self.domain_released, DomainTransferred: self.domain_transferred,
            DomainRenewed: self.domain_renewed, DomainLocked: self.domain_locked, DomainUnlocked: self.domain_unlocked,
            DomainOverrideChanged: self.override_changed,
            DomainHoldChanged: self.hold_changed, DomainServiceChanged: self.service_changed,
            NameServerGroupChanged: self.nsgroup_changed, NameServerGroupDeleted: self.group_deleted,
            KeyGroupChanged: self.keygroup_changed, KeyGroupDeleted: self.group_deleted,
            RegistrarCreated: self.registrar_created, RegistrarUpdated: self.registrar_updated,
            ContactCreated: self.contact_created, ContactDeleted: self.contact_deleted,
        }

    async def apply_many(self, events: Sequence[EventEnvelope[Any]], session: AsyncClientSession) -> None:
        names = sorted({e.payload.name for e in events if isinstance(e.payload, DOMAIN_EVENTS)})
        found = await self.db[DOMAINS].find({"_id": {"$in": names}}, GUARDED, session=session).to_list() if names else []
        writes = Writes({d.pop("_id"): d for d in found})
        table = self._table()
        for event in events:
            table[type(event.payload)](event, writes)
        for collection, ops in writes.ops.items():
            await self.db[collection].bulk_write(ops, ordered=True, session=session)

    # -- domains --------------------------------------------------------------------------------------------

    def domain_created(self, event: EventEnvelope[DomainCreated], w: Writes) -> None:
        p, at = event.payload, event.occurred_at
        previous = w.known.get(p.name, {}).get("status")
        fresh = {"tld": p.tld, "registrar_id": event.registrar_id, "registrant": p.registrant,
                 "registered_at": p.registered_at, "expires_at": one_year_after(p.registered_at),
                 "changed_at": at, "status": "REGISTERED", "hosts": hosts_of(p.hosts, p.name_servers),
                 "nsgroups": list(p.nsgroups), "keygroups": list(p.keygroups), "state_at": at, "delegation_at": at}
        update: dict[str, Any] = {"$set": fresh}
        if previous == "RELEASED":  # a new registration of a released name starts clean
            update = merge(update, {"$set": {"statuses": []}, "$unset": {
                "delete_date": "", "available_on": "", "on_hold": "", "hold_reason": "", "out_of_service_since": "",
                "override": ""}})
        # otherwise what overtook this event (a lock, an override) stays
        w.domain(p.name, update, ("state_at", at), zone_at=at)

    def domain_updated(self, event: EventEnvelope[DomainUpdated], w: Writes) -> None:
        p, at = event.payload, event.occurred_at
        values = {"hosts": hosts_of(p.hosts, p.name_servers), "nsgroups": list(p.nsgroups),
                  "keygroups": list(p.keygroups), "delegation_at": at, "changed_at": at}
        w.domain(p.name, {"$set": values}, ("delegation_at", at), zone_at=at)

    def domain_deleted(self, event: EventEnvelope[DomainDeleted], w: Writes) -> None:
        at = event.occurred_at
        w.domain(event.payload.name, {"$set": {"delete_date": event.payload.delete_date, "changed_at": at}})

    def domain_undeleted(self, event: EventEnvelope[DomainUndeleted], w: Writes) -> None:
        w.domain(event.payload.name, {"$unset": {"delete_date": ""}, "$set": {"changed_at": event.occurred_at}})

    def domain_quarantined(self, event: EventEnvelope[DomainQuarantined], w: Writes) -> None:
        p, at = event.payload, event.occurred_at
        values = {"status": "QUARANTINE", "available_on": p.available_on, "state_at": at, "changed_at": at}
        w.domain(p.name, {"$set": values}, ("state_at", at), zone_at=at)

    def domain_reactivated(self, event: EventEnvelope[DomainReactivated], w: Writes) -> None:
        at = event.occurred_at
        update = {"$set": {"status": "REGISTERED", "state_at": at, "changed_at": at},
                  "$unset": {"delete_date": "", "available_on": ""}}
        w.domain(event.payload.name, update, ("state_at", at), zone_at=at)

    def domain_released(self, event: EventEnvelope[DomainReleased], w: Writes) -> None:
        # kept until the pusher has taken it out of the zone; it then deletes the record (pusher.py)
        at = event.occurred_at
        update = {"$set": {"status": "RELEASED", "state_at": at, "changed_at": at, "statuses": []},
                  "$unset": {"override": "", "delete_date": ""}}
        w.domain(event.payload.name, update, ("state_at", at), zone_at=at)

    def domain_transferred(self, event: EventEnvelope[DomainTransferred], w: Writes) -> None:
        p, at = event.payload, event.occurred_at
        values: dict[str, Any] = {"registrar_id": p.gaining_registrar_id, "registrant": p.new_registrant,
                                  "expires_at": p.expires_at, "changed_at": at}
        update: dict[str, Any] = {"$set": values}
        if p.from_quarantine:
            values |= {"status": "REGISTERED", "state_at": at}
            update["$unset"] = {"delete_date": "", "available_on": ""}
        # the groups are the sponsor's: another sponsor's groups of the same name may differ
        w.domain(p.name, update, zone_at=at)

    def domain_renewed(self, event: EventEnvelope[DomainRenewed], w: Writes) -> None:
        # recorded as a change: an out-of-service domain leaves the zone at the end of its expiry month, which a
        # renewal moves (the pusher rewrites its zone entry; its records stay as they are)
        w.domain(event.payload.name, {"$max": {"expires_at": event.payload.expires_at},
                                      "$set": {"changed_at": event.occurred_at}}, zone_at=event.occurred_at)

    def domain_locked(self, event: EventEnvelope[DomainLocked], w: Writes) -> None:
        w.domain(event.payload.name, {"$addToSet": {"statuses": event.payload.status},
                                      "$set": {"changed_at": event.occurred_at}})

    def domain_unlocked(self, event: EventEnvelope[DomainUnlocked], w: Writes) -> None:
        w.domain(event.payload.name, {"$pull": {"statuses": event.payload.status},
                                      "$set": {"changed_at": event.occurred_at}})

    def override_changed(self, event: EventEnvelope[DomainOverrideChanged], w: Writes) -> None:
        p, at = event.payload, event.occurred_at
        if p.overridden:
            update: dict[str, Any] = {"$set": {"override": {"reason": p.reason, "name_servers":
                                                            list(p.published_name_servers)}, "override_at": at}}
        else:
            update = {"$unset": {"override": ""}, "$set": {"override_at": at}}
        w.domain(p.name, update, ("override_at", at), zone_at=at)

    def hold_changed(self, event: EventEnvelope[DomainHoldChanged], w: Writes) -> None:
        # on hold stays delegated (digest 4.1): WHOIS and RDAP say so, the zone does not change
        p, at = event.payload, event.occurred_at
        if p.on_hold:
            update: dict[str, Any] = {"$set": {"on_hold": True, "hold_reason": p.reason, "hold_at": at,
                                               "changed_at": at}}
        else:
            update = {"$unset": {"on_hold": "", "hold_reason": ""}, "$set": {"hold_at": at, "changed_at": at}}
        w.domain(p.name, update, ("hold_at", at))

    def service_changed(self, event: EventEnvelope[DomainServiceChanged], w: Writes) -> None:
        # out of service stays in the zone until the end of its expiry month (delegation.in_zone); the pusher's
        # sweep (Pusher.leave_due) takes it out then, as no event marks that moment
        p, at = event.payload, event.occurred_at
        update: dict[str, Any]
        if p.out_of_service:
            update = {"$set": {"out_of_service_since": p.since or at, "service_at": at, "changed_at": at}}
        else:
            update = {"$unset": {"out_of_service_since": ""}, "$set": {"service_at": at, "changed_at": at}}
        if p.expires_at is not None:
            update["$max"] = {"expires_at": p.expires_at}
        w.domain(p.name, update, ("service_at", at), zone_at=at)

    # -- groups: a change re-publishes every domain of the registrar that uses the group --------------------

    @staticmethod
    def _group_changed(event: EventEnvelope[Any], kind: str, values: dict[str, Any], w: Writes) -> None:
        registrar, name = event.registrar_id or "", event.payload.name
        w.add(GROUPS, UpdateOne({"_id": group_id(kind, registrar, name)},
                                {"$set": {"kind": kind, "registrar_id": registrar, "name": name, **values}}, upsert=True))
        w.add(CHANGES, InsertOne(group_change(kind, registrar, name, event.occurred_at)))

    def nsgroup_changed(self, event: EventEnvelope[NameServerGroupChanged], w: Writes) -> None:
        self._group_changed(event, "nsgroup", {"name_servers": list(event.payload.name_servers)}, w)

    def keygroup_changed(self, event: EventEnvelope[KeyGroupChanged], w: Writes) -> None:
        keys = [k.model_dump() for k in event.payload.keys]
        self._group_changed(event, "keygroup", {"keys": keys}, w)

    def group_deleted(self, event: EventEnvelope[Any], w: Writes) -> None:
        kind = "nsgroup" if isinstance(event.payload, NameServerGroupDeleted) else "keygroup"
        assert isinstance(event.payload, NameServerGroupDeleted | KeyGroupDeleted)
        w.add(GROUPS, DeleteOne({"_id": group_id(kind, event.registrar_id or "", event.payload.name)}))

    # -- registrars and contacts ----------------------------------------------------------------------------

    def registrar_created(self, event: EventEnvelope[RegistrarCreated], w: Writes) -> None:
        p = event.payload
        w.add(REGISTRARS, UpdateOne(
            {"_id": event.registrar_id},
            {"$set": {"name": p.name, "website": p.website, "organisation": list(p.organisation)}}, upsert=True))

    def registrar_updated(self, event: EventEnvelope[RegistrarUpdated], w: Writes) -> None:
        p = event.payload
        if p.section != "profile":
            return
        values: dict[str, Any] = {}
        if "website" in p.changes:
            values["website"] = p.changes["website"]
        organisation = p.changes.get("organisation")
        if isinstance(organisation, list):
            values["organisation"] = [str(line) for line in organisation]
        if values:
            w.add(REGISTRARS, UpdateOne({"_id": event.registrar_id}, {"$set": values}, upsert=True))

    def contact_created(self, event: EventEnvelope[ContactCreated], w: Writes) -> None:
        # the alias and its role only: no personal data is kept here
        w.add(CONTACTS, UpdateOne({"_id": event.payload.alias},
                                  {"$set": {"registrar_id": event.registrar_id, "type": event.payload.type}},
                                  upsert=True))

    def contact_deleted(self, event: EventEnvelope[ContactDeleted], w: Writes) -> None:
        w.add(CONTACTS, DeleteOne({"_id": event.payload.alias}))
