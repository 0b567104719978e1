"""The read model, built only from events: each handler translates one event into writes on the publication
database, in the consumer's transaction (applied exactly once, shared/mongo/idempotency.py).

A change that alters what the zone says marks the domain dirty (dirty, dirty_since, version): the pusher
(pusher.py) sends it to Knot and clears the mark. Handlers never touch `published` (the pusher's), and write
with $set rather than replacing documents, so a push and an event on the same domain never undo each other.

Events may arrive out of order (requeues, replicas): the domain's state, its delegation and its override each
keep the occurred_at they are from, and an older event for that part changes nothing."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from services.publication.store import CONTACTS, DOMAINS, GROUPS, REGISTRARS, group_id
from shared.clock import one_year_after
from shared.events import EventEnvelope, EventPayload
from shared.events.contacts import ContactCreated, ContactDeleted
from shared.events.domains import (
    DomainCreated,
    DomainDeleted,
    DomainLocked,
    DomainOverrideChanged,
    DomainQuarantined,
    DomainReactivated,
    DomainReleased,
    DomainRenewed,
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

Handler = Callable[[EventEnvelope[Any], AsyncClientSession], Awaitable[None]]


def dirty(at: datetime) -> dict[str, Any]:
    """The update operators that mark a domain's zone records as waiting for the pusher."""
    return {"$set": {"dirty": True}, "$min": {"dirty_since": at}, "$inc": {"version": 1}}


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
    def __init__(self, db: Callable[[], AsyncDatabase[Document]], on_dirty: Callable[[], None] | None = None) -> None:
        self._db = db  # connected at start-up, after this object is made
        self.on_dirty = on_dirty

    @property
    def db(self) -> AsyncDatabase[Document]:
        return self._db()

    def handlers(self) -> dict[type[EventPayload], Handler]:
        return {
            DomainCreated: self.domain_created, DomainUpdated: self.domain_updated,
            DomainDeleted: self.domain_deleted, DomainUndeleted: self.domain_undeleted,
            DomainQuarantined: self.domain_quarantined, DomainReactivated: self.domain_reactivated,
            DomainReleased: self.domain_released, DomainTransferred: self.domain_transferred,
            DomainRenewed: self.domain_renewed, DomainLocked: self.domain_locked, DomainUnlocked: self.domain_unlocked,
            DomainOverrideChanged: self.override_changed,
            NameServerGroupChanged: self.nsgroup_changed, NameServerGroupDeleted: self.group_deleted,
            KeyGroupChanged: self.keygroup_changed, KeyGroupDeleted: self.group_deleted,
            RegistrarCreated: self.registrar_created, RegistrarUpdated: self.registrar_updated,
            ContactCreated: self.contact_created, ContactDeleted: self.contact_deleted,
        }

    async def _domain(self, name: str, update: dict[str, Any], session: AsyncClientSession,
                      guard: tuple[str, datetime] | None = None, upsert: bool = False) -> bool:
        """Apply `update` to the domain unless the guarded part is from a later event; True when applied."""
        query: dict[str, Any] = {"_id": name}
        if guard is not None:
            field, at = guard
            query["$or"] = [{field: {"$exists": False}}, {field: {"$lte": at}}]
        result = await self.db[DOMAINS].update_one(query, update, upsert=upsert, session=session)
        applied = bool(result.matched_count or result.upserted_id is not None)
        if applied and "dirty" in update.get("$set", {}) and self.on_dirty is not None:
            self.on_dirty()
        return applied

    # -- domains --------------------------------------------------------------------------------------------

    async def domain_created(self, event: EventEnvelope[DomainCreated], session: AsyncClientSession) -> None:
        p, at = event.payload, event.occurred_at
        existing = await self.db[DOMAINS].find_one({"_id": p.name}, {"state_at": 1}, session=session)
        if existing and existing.get("state_at") and existing["state_at"] > at:
            return  # a later state of this name is known
        fresh = {"tld": p.tld, "registrar_id": event.registrar_id, "registrant": p.registrant,
                 "registered_at": p.registered_at, "expires_at": one_year_after(p.registered_at),
                 "changed_at": at, "status": "REGISTERED", "hosts": hosts_of(p.hosts, p.name_servers),
                 "nsgroups": list(p.nsgroups), "keygroups": list(p.keygroups), "statuses": [],
                 "state_at": at, "delegation_at": at}
        # a new registration of a released name starts clean (an override of it arrives as its own event)
        clear = {"delete_date": "", "available_on": "", "on_hold": "", "out_of_service_since": ""}
        await self._domain(p.name, merge({"$set": fresh, "$unset": clear}, dirty(at)), session, upsert=True)

    async def domain_updated(self, event: EventEnvelope[DomainUpdated], session: AsyncClientSession) -> None:
        p, at = event.payload, event.occurred_at
        values = {"hosts": hosts_of(p.hosts, p.name_servers), "nsgroups": list(p.nsgroups),
                  "keygroups": list(p.keygroups), "delegation_at": at, "changed_at": at}
        await self._domain(p.name, merge({"$set": values}, dirty(at)), session, ("delegation_at", at))

    async def domain_deleted(self, event: EventEnvelope[DomainDeleted], session: AsyncClientSession) -> None:
        at = event.occurred_at
        await self._domain(event.payload.name, {"$set": {"delete_date": event.payload.delete_date, "changed_at": at}},
                           session)

    async def domain_undeleted(self, event: EventEnvelope[DomainUndeleted], session: AsyncClientSession) -> None:
        await self._domain(event.payload.name, {"$unset": {"delete_date": ""},
                                                "$set": {"changed_at": event.occurred_at}}, session)

    async def domain_quarantined(self, event: EventEnvelope[DomainQuarantined], session: AsyncClientSession) -> None:
        p, at = event.payload, event.occurred_at
        values = {"status": "QUARANTINE", "available_on": p.available_on, "state_at": at, "changed_at": at}
        await self._domain(p.name, merge({"$set": values}, dirty(at)), session, ("state_at", at))

    async def domain_reactivated(self, event: EventEnvelope[DomainReactivated], session: AsyncClientSession) -> None:
        at = event.occurred_at
        update = {"$set": {"status": "REGISTERED", "state_at": at, "changed_at": at},
                  "$unset": {"delete_date": "", "available_on": ""}}
        await self._domain(event.payload.name, merge(update, dirty(at)), session, ("state_at", at))

    async def domain_released(self, event: EventEnvelope[DomainReleased], session: AsyncClientSession) -> None:
        # kept until the pusher has taken it out of the zone; it then deletes the record (pusher.py)
        at = event.occurred_at
        update = {"$set": {"status": "RELEASED", "state_at": at, "changed_at": at}}
        await self._domain(event.payload.name, merge(update, dirty(at)), session, ("state_at", at))

    async def domain_transferred(self, event: EventEnvelope[DomainTransferred], session: AsyncClientSession) -> None:
        p, at = event.payload, event.occurred_at
        values: dict[str, Any] = {"registrar_id": p.gaining_registrar_id, "registrant": p.new_registrant,
                                  "expires_at": p.expires_at, "changed_at": at}
        update: dict[str, Any] = {"$set": values}
        if p.from_quarantine:
            values |= {"status": "REGISTERED", "state_at": at}
            update["$unset"] = {"delete_date": "", "available_on": ""}
        # the groups are the sponsor's: another sponsor's groups of the same name may differ
        await self._domain(p.name, merge(update, dirty(at)), session)

    async def domain_renewed(self, event: EventEnvelope[DomainRenewed], session: AsyncClientSession) -> None:
        await self._domain(event.payload.name, {"$max": {"expires_at": event.payload.expires_at},
                                                "$set": {"changed_at": event.occurred_at}}, session)

    async def domain_locked(self, event: EventEnvelope[DomainLocked], session: AsyncClientSession) -> None:
        await self._domain(event.payload.name, {"$addToSet": {"statuses": event.payload.status},
                                                "$set": {"changed_at": event.occurred_at}}, session)

    async def domain_unlocked(self, event: EventEnvelope[DomainUnlocked], session: AsyncClientSession) -> None:
        await self._domain(event.payload.name, {"$pull": {"statuses": event.payload.status},
                                                "$set": {"changed_at": event.occurred_at}}, session)

    async def override_changed(self, event: EventEnvelope[DomainOverrideChanged], session: AsyncClientSession) -> None:
        p, at = event.payload, event.occurred_at
        if p.overridden:
            update: dict[str, Any] = {"$set": {"override": {"reason": p.reason, "name_servers":
                                                            list(p.published_name_servers)}, "override_at": at}}
        else:
            update = {"$unset": {"override": ""}, "$set": {"override_at": at}}
        await self._domain(p.name, merge(update, dirty(at)), session, ("override_at", at))

    # -- groups: a change re-publishes every domain of the registrar that uses the group --------------------

    async def _group_changed(self, event: EventEnvelope[Any], kind: str, values: dict[str, Any],
                             session: AsyncClientSession) -> None:
        registrar, name = event.registrar_id or "", event.payload.name
        await self.db[GROUPS].update_one(
            {"_id": group_id(kind, registrar, name)},
            {"$set": {"kind": kind, "registrar_id": registrar, "name": name, **values}}, upsert=True, session=session)
        result = await self.db[DOMAINS].update_many({"registrar_id": registrar, f"{kind}s": name},
                                                    dirty(event.occurred_at), session=session)
        if result.modified_count and self.on_dirty is not None:
            self.on_dirty()

    async def nsgroup_changed(self, event: EventEnvelope[NameServerGroupChanged], session: AsyncClientSession) -> None:
        await self._group_changed(event, "nsgroup", {"name_servers": list(event.payload.name_servers)}, session)

    async def keygroup_changed(self, event: EventEnvelope[KeyGroupChanged], session: AsyncClientSession) -> None:
        keys = [k.model_dump() for k in event.payload.keys]
        await self._group_changed(event, "keygroup", {"keys": keys}, session)

    async def group_deleted(self, event: EventEnvelope[Any], session: AsyncClientSession) -> None:
        kind = "nsgroup" if isinstance(event.payload, NameServerGroupDeleted) else "keygroup"
        assert isinstance(event.payload, NameServerGroupDeleted | KeyGroupDeleted)
        await self.db[GROUPS].delete_one({"_id": group_id(kind, event.registrar_id or "", event.payload.name)},
                                         session=session)

    # -- registrars and contacts ----------------------------------------------------------------------------

    async def registrar_created(self, event: EventEnvelope[RegistrarCreated], session: AsyncClientSession) -> None:
        p = event.payload
        await self.db[REGISTRARS].update_one(
            {"_id": event.registrar_id},
            {"$set": {"name": p.name, "website": p.website, "organisation": list(p.organisation)}},
            upsert=True, session=session)

    async def registrar_updated(self, event: EventEnvelope[RegistrarUpdated], session: AsyncClientSession) -> None:
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
            await self.db[REGISTRARS].update_one({"_id": event.registrar_id}, {"$set": values}, upsert=True,
                                                 session=session)

    async def contact_created(self, event: EventEnvelope[ContactCreated], session: AsyncClientSession) -> None:
        # the alias and its role only: no personal data is kept here
        await self.db[CONTACTS].update_one(
            {"_id": event.payload.alias},
            {"$set": {"registrar_id": event.registrar_id, "type": event.payload.type}}, upsert=True, session=session)

    async def contact_deleted(self, event: EventEnvelope[ContactDeleted], session: AsyncClientSession) -> None:
        await self.db[CONTACTS].delete_one({"_id": event.payload.alias}, session=session)
