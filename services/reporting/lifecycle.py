"""A domain's record in the read model, from its lifecycle events in whatever order they arrive: pure rules.

Events can be requeued and competing replicas apply them concurrently, so a later event of a name may be
applied before an earlier one. Each rule takes the record as stored (None: none) and the event, and returns
the record to store:

- The state (sponsor, registrant, status, deletion date, available on) is the newest event's, by
  occurred_at (`state_at`): every event says what the state was when it happened (a delete is only done on
  a registered name, a transfer leaves quarantine …), and an older event arriving late changes none of it.
- Creation fields fill what a later event could not say ($setOnInsert-like): registered_at, and the
  registrant and sponsor of a record a later event started.
- expires_at only moves forward (creation, renewals and transfers each start a later period).
- A renewal says nothing about the state: a name with a delete date is renewed while it is still
  registered.
- domain.released leaves a tombstone (status RELEASED, no sponsor: no report or portfolio shows it) for
  TOMBSTONE_DAYS, so that an older event arriving after it does not bring the name back. domain.created
  newer than the record's state is a new registration of the name: it replaces the old record.
- Out of service (domain.service_changed, digest 4.1) is not a state of its own: the name stays REGISTERED in
  its sponsor's portfolio; `out_of_service_since` follows the newest such event (by `service_at`, apart from
  state_at: it says nothing about a scheduled deletion). Its release comes straight from REGISTERED, with no
  quarantine: that release is the name's delete (`release_is_delete`), counted once. A quarantined name's
  delete was counted at its quarantine; a release that overtook its quarantine finds a name that is not out
  of service, and counts none.

The portfolio is counted from the records (`active_sponsor`), so it follows whatever the record says.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from services.reporting.periods import month_of
from shared.clock import one_year_after
from shared.events.domains import (
    DomainCreated,
    DomainDeleted,
    DomainQuarantined,
    DomainRenewed,
    DomainServiceChanged,
    DomainTransferred,
)

Record = dict[str, Any]
REGISTERED, QUARANTINE, RELEASED = "REGISTERED", "QUARANTINE", "RELEASED"
# far longer than events of a name stay out of order (a requeue, a replica's batch); a TTL index on purge_at
TOMBSTONE_DAYS = timedelta(days=30)


def active_sponsor(record: Record | None) -> str | None:
    """The registrar whose portfolio holds the name: active registrations only (digest 6.1: not in quarantine)."""
    if record is None or record.get("status", REGISTERED) != REGISTERED:
        return None
    return record.get("registrar_id")


def registered_month(record: Record | None) -> str | None:
    """The registration's cohort (ages.py): the Brussels month of registered_at, None while it is unknown."""
    at = (record or {}).get("registered_at")
    return month_of(at) if at is not None else None


def _newer(record: Record | None, at: datetime) -> bool:
    state_at = (record or {}).get("state_at")
    return state_at is None or at >= state_at


def _with_state(record: Record | None, at: datetime, sponsor: str | None, status: str, **fields: Any) -> Record:
    """The record with the event's state over it if the event is the newest it has seen (a copy either way).
    A field given None is removed (no deletion date any more …)."""
    new = dict(record or {})
    if not _newer(record, at):
        return new
    state = {"status": status, "deletion_date": None, "available_on": None, "purge_at": None} | fields
    if sponsor:
        state["registrar_id"] = sponsor
    for name, value in state.items():
        if value is None:
            new.pop(name, None)
        else:
            new[name] = value
    new["state_at"] = at
    return new


def _later(current: datetime | None, candidate: datetime) -> datetime:
    return candidate if current is None or candidate > current else current


def _released(record: Record | None) -> bool:
    return record is not None and record.get("status") == RELEASED


def created(record: Record | None, sponsor: str | None, p: DomainCreated, at: datetime) -> Record:
    if record is not None and record.get("state_at") is not None and record["state_at"] < at:
        record = None  # an earlier registration of the name (released, or its release not arrived yet)
    new = _with_state(record, at, sponsor, REGISTERED, registrant=p.registrant)
    if _released(new):
        return new  # the creation of a registration that has ended since
    for field, value in (("registrar_id", sponsor), ("registrant", p.registrant), ("registered_at", p.registered_at)):
        if value is not None:
            new.setdefault(field, value)
    new["expires_at"] = _later(new.get("expires_at"), one_year_after(p.registered_at))
    return new


def deleted(record: Record | None, sponsor: str | None, p: DomainDeleted, at: datetime) -> Record:
    return _with_state(record, at, sponsor, REGISTERED, deletion_date=p.delete_date)


def undeleted(record: Record | None, sponsor: str | None, at: datetime) -> Record:
    return _with_state(record, at, sponsor, REGISTERED)


def quarantined(record: Record | None, sponsor: str | None, p: DomainQuarantined, at: datetime) -> Record:
    return _with_state(record, at, sponsor, QUARANTINE, deletion_date=p.quarantined_at, available_on=p.available_on)


def reactivated(record: Record | None, sponsor: str | None, at: datetime) -> Record:
    return _with_state(record, at, sponsor, REGISTERED)


def transferred(record: Record | None, p: DomainTransferred, at: datetime) -> Record:
    new = _with_state(record, at, p.gaining_registrar_id, REGISTERED, registrant=p.new_registrant)
    if not _released(new):
        new["expires_at"] = _later(new.get("expires_at"), p.expires_at)
    return new


def renewed(record: Record | None, p: DomainRenewed) -> Record:
    # no state_at: a record the renewal starts takes the state of any event that comes
    new: Record = dict(record) if record is not None else {"registrar_id": p.registrar_id, "status": REGISTERED}
    if not _released(new):
        new["expires_at"] = _later(new.get("expires_at"), p.expires_at)
    return new


def service_changed(record: Record | None, sponsor: str | None, p: DomainServiceChanged, at: datetime) -> Record:
    # no state_at, as a renewal: only a registered name goes out of service or back, whatever else it has
    new: Record = dict(record) if record is not None else {"registrar_id": sponsor, "status": REGISTERED}
    if _released(new) or (new.get("service_at") is not None and at < new["service_at"]):
        return new
    new["service_at"] = at
    if p.expires_at is not None:  # the registry's own: the anniversary an out-of-service release decides
        new["expires_at"] = _later(new.get("expires_at"), p.expires_at)
    if p.out_of_service:
        new["out_of_service_since"] = p.since or at
    else:
        new.pop("out_of_service_since", None)
    return new


def release_is_delete(record: Record | None, at: datetime) -> bool:
    """Whether a release at `at` of the name as `record` holds it is the name's delete: an out-of-service name
    released from REGISTERED (no quarantine counted it)."""
    return (record is not None and _newer(record, at) and record.get("status", REGISTERED) == REGISTERED
            and bool(record.get("out_of_service_since")))


def delete_counted_by_release(record: Record | None, at: datetime) -> bool:
    """Whether a quarantine at `at` arrives after the release of the same registration that already counted
    the delete (an out-of-service name its registrar also deleted, the release applied first)."""
    return _released(record) and bool((record or {}).get("release_deleted")) and not _newer(record, at)


def released(record: Record | None, at: datetime) -> Record:
    if not _newer(record, at):
        return dict(record or {})  # the name was registered again after this release
    tombstone: Record = {"status": RELEASED, "state_at": at, "purge_at": at + TOMBSTONE_DAYS}
    if release_is_delete(record, at):
        tombstone["release_deleted"] = True
    return tombstone


def deleted_anniversary_month(record: Record | None, released_at: datetime) -> str:
    """The month whose anniversary an out-of-service release decides: the expiry month it was not renewed in
    (released two months after that month ended), else the release's own month."""
    expires_at = (record or {}).get("expires_at")
    return month_of(expires_at) if expires_at is not None else month_of(released_at)
