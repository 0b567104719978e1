"""Name-server override while the registrant is pending verification (seed on registrant verification).

The domain keeps its registered name servers, but what it publishes, and what info shows, is the
override (the registry's landing name servers) with its reason. The verification service decides
(shared/events/verification.py); the registry applies the decision here, and applies the standing rules
itself so that no window opens between a registration and the verification service's reaction:

- a domain registered with a contact that is PENDING is overridden at creation;
- a transfer takes the new contact's status, except that an old PENDING contact with a new UNVERIFIED
  one makes the new one PENDING; the override follows the resulting status: a PENDING or FAILED
  registrant's domains stay registered but unusable.
"""

from __future__ import annotations

from typing import Any

from services.registry.contacts.model import VerificationStatus
from services.registry.store import CONTACTS, DOMAINS
from services.registry.uow import Reader, Tx
from shared.events import EventEnvelope, new_event
from shared.events.domains import DomainOverrideChanged
from shared.events.verification import (
    VERIFICATION_LINK_SEAL,
    VerificationApproved,
    VerificationFailed,
    VerificationRequired,
    VerificationUndone,
)
from shared.runtime import ServiceContext
from shared.sealing import Sealer, Unsealable

VERIFICATION = "verification"  # the kind of override the verification lifts; the registry may have others
PENDING_REASON = "Registrant verification pending"
FAILED_REASON = "Registrant verification failed"
# info-contact v2.0 dnsbe:verificationtype: AUTO when the registry's scoring selected the contact (the one
# value the seed shows), REGISTRAR when the registrar verifies its contacts itself
SELECTED_TYPE = "AUTO"
REGISTRAR_TYPE = "REGISTRAR"
# what the registry keeps on the contact while a verification is open (shown by info-contact, HTTP info)
CASE_FIELDS = {"verification_url": "", "verification_case": ""}


def published_name_servers(ctx: ServiceContext) -> list[str]:
    return list(ctx.settings.override_name_servers)  # type: ignore[attr-defined]


def override_document(ctx: ServiceContext, reason: str, kind: str = VERIFICATION) -> dict[str, Any]:
    return {"reason": reason, "kind": kind, "since": ctx.clock.now()}


def _changed(ctx: ServiceContext, domain: dict[str, Any], overridden: bool, reason: str | None,
             correlation_id: str | None) -> EventEnvelope[Any]:
    return new_event(
        DomainOverrideChanged(name=domain["_id"], overridden=overridden, reason=reason,
                              published_name_servers=published_name_servers(ctx) if overridden else []),
        registrar_id=domain["registrar_id"], correlation_id=correlation_id, clock=ctx.clock,
    )


async def contact_status(tx: Reader, alias: str) -> VerificationStatus:
    doc = await tx[CONTACTS].find_one({"_id": alias}, {"verification": 1})
    return VerificationStatus((doc or {}).get("verification", VerificationStatus.UNVERIFIED.value))


def override_at_creation(ctx: ServiceContext, registrant: dict[str, Any]) -> dict[str, Any] | None:
    """The override a new domain starts with: one while its registrant (the contact document, with its
    verification, as the create read it) is pending verification."""
    status = registrant.get("verification", VerificationStatus.UNVERIFIED.value)
    if VerificationStatus(status) is VerificationStatus.PENDING:
        return override_document(ctx, PENDING_REASON)
    return None


async def status_after_transfer(tx: Tx, old: str | None, new: str) -> VerificationStatus:
    """The new registrant's status, moving it to PENDING where the old one was pending."""
    new_status = await contact_status(tx, new)
    if old and new_status is VerificationStatus.UNVERIFIED \
            and await contact_status(tx, old) is VerificationStatus.PENDING:
        await tx[CONTACTS].update_one({"_id": new}, {"$set": {"verification": VerificationStatus.PENDING.value}})
        return VerificationStatus.PENDING
    return new_status


def override_after_transfer(ctx: ServiceContext, domain: dict[str, Any],
                            status: VerificationStatus) -> dict[str, Any] | None:
    """A pending or failed new registrant keeps (or gets) the verification override; another status lifts
    it. An override of another kind (set by the registry for other reasons) is not the registrant's to
    lift."""
    current = domain.get("override")
    if current and current.get("kind") != VERIFICATION:
        return current
    if status is VerificationStatus.PENDING:
        return current or override_document(ctx, PENDING_REASON)
    if status is VerificationStatus.FAILED:  # seed: "the domain name remains registered but it can't be used"
        return current or override_document(ctx, FAILED_REASON)
    return None


def override_events(ctx: ServiceContext, domain: dict[str, Any], before: dict[str, Any] | None,
                    after: dict[str, Any] | None, correlation_id: str | None) -> list[EventEnvelope[Any]]:
    if bool(before) == bool(after):
        return []
    return [_changed(ctx, domain, bool(after), (after or {}).get("reason"), correlation_id)]


# -- the verification service's decisions -------------------------------------------------------------------------

async def on_verification_required(ctx: ServiceContext, event: EventEnvelope[VerificationRequired],
                                   tx: Tx) -> None:
    p = event.payload
    case: dict[str, Any] = {"verification": VerificationStatus.PENDING.value, "verification_type": SELECTED_TYPE}
    if p.first and p.case_id:
        case["verification_case"] = p.case_id  # the decisions that count are this case's (_of_current_case)
    if p.first and p.case_id and p.sealed_link:
        # the registrar may fetch the URL (info-contact v2.0) to inform the registrant itself
        try:
            link = Sealer(ctx.settings.sealing_secrets, VERIFICATION_LINK_SEAL).open(p.sealed_link)
            case["verification_url"] = link
        except Unsealable:
            pass  # sealed under another secret: the status still applies, the URL is not shown
    await tx[CONTACTS].update_one(
        {"_id": p.contact, "verification": {"$ne": VerificationStatus.VERIFIED.value}},
        {"$set": case})
    if await contact_status(tx, p.contact) is VerificationStatus.VERIFIED:
        # a late message about a domain registered while the contact was pending, after its approval was
        # applied here (the approval won the race to the verification service): nothing to hold any more
        return
    domain = await tx[DOMAINS].find_one({"_id": p.domain, "registrant": p.contact})
    if domain is None or domain.get("override"):
        return  # transferred to another registrant meanwhile, or already overridden
    await tx[DOMAINS].update_one({"_id": p.domain}, {"$set": {"override": override_document(ctx, p.reason)}})
    tx.publish([_changed(ctx, domain, True, p.reason, event.correlation_id)])


async def _of_current_case(tx: Reader, contact: str, case_id: str | None) -> bool:
    """Whether a decision is about the contact's current case. A late (redelivered) decision on an old case
    must not move a contact that was selected again into a new case; a decision without a case (the
    registrar verifies its contacts itself) or a contact with no case kept applies as it comes."""
    if not case_id:
        return True
    doc = await tx[CONTACTS].find_one({"_id": contact}, {"verification_case": 1})
    current = (doc or {}).get("verification_case")
    return not current or current == case_id


async def on_verification_approved(ctx: ServiceContext, event: EventEnvelope[VerificationApproved],
                                   tx: Tx) -> None:
    contact = event.payload.contact
    if not await _of_current_case(tx, contact, event.payload.case_id):
        return
    kind = REGISTRAR_TYPE if event.payload.method == "registrar" else SELECTED_TYPE
    await tx[CONTACTS].update_one({"_id": contact}, {"$set": {"verification": VerificationStatus.VERIFIED.value,
                                                              "verification_type": kind},
                                                     "$unset": CASE_FIELDS})
    held = await tx[DOMAINS].find({"registrant": contact, "override.kind": VERIFICATION}).to_list()
    if held:
        await tx[DOMAINS].update_many({"_id": {"$in": [d["_id"] for d in held]}}, {"$unset": {"override": ""}})
        tx.publish([_changed(ctx, d, False, None, event.correlation_id) for d in held])


async def on_verification_failed(ctx: ServiceContext, event: EventEnvelope[VerificationFailed],
                                 tx: Tx) -> None:
    if not await _of_current_case(tx, event.payload.contact, event.payload.case_id):
        return
    await tx[CONTACTS].update_one({"_id": event.payload.contact},
                                  {"$set": {"verification": VerificationStatus.FAILED.value}, "$unset": CASE_FIELDS})


async def on_verification_undone(ctx: ServiceContext, event: EventEnvelope[VerificationUndone],
                                 tx: Tx) -> None:
    """A verified registrant was updated: it is UNVERIFIED again (only from VERIFIED: a late event does not
    move a contact that was selected again meanwhile). Its active domains stay active."""
    await tx[CONTACTS].update_one(
        {"_id": event.payload.contact, "verification": VerificationStatus.VERIFIED.value},
        {"$set": {"verification": VerificationStatus.UNVERIFIED.value}, "$unset": {"verification_type": ""}})
