"""Which messages an event means: the pure translation from the other services' events to notices.

A notice names a catalogue entry (messages.py) and its values; service.py routes and stores it. Events of
a registrar's own doing that it already knows of (it deleted a contact) mean no message.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from services.notifications.cps import stamp
from shared.clock import brussels
from shared.events import EventEnvelope
from shared.events.contacts import ContactDeleted
from shared.events.domains import DomainTransferred, LockComplaintClosed, LockComplaintFiled, TransferCodeSent
from shared.events.feeds import (
    DomainInViolation,
    DomainShieldRemoved,
    MonitoredUpdateAuthorised,
    MonitoredUpdateClosed,
    TransferUndone,
)
from shared.events.hitpoints import HitpointsThresholdReached, RegistrarBlocked, RegistrarUnblocked
from shared.events.money import WatermarkReached
from shared.events.reports import QuarterlyReportReady
from shared.events.verification import (
    VERIFICATION_LINK_SEAL,
    VerificationApproved,
    VerificationFailed,
    VerificationLinkResent,
    VerificationRequired,
    VerificationSupportNotice,
    VerificationUndone,
)

TRANSFER_CODE_SEAL = "transfer-code"


@dataclass(frozen=True)
class ToRegistrar:
    """A structured message (poll or CPS)."""

    registrar_id: str
    message: str
    values: dict[str, str]
    variables: dict[str, str]
    object: str


@dataclass(frozen=True)
class RegistrarMail:
    """An unstructured mail to the registrar (its category's addresses)."""

    registrar_id: str
    mail: str
    variables: dict[str, str]
    object: str


@dataclass(frozen=True)
class RegistrantMail:
    email: str
    language: str | None
    mail: str
    variables: dict[str, str]
    object: str
    # placeholder -> (seal purpose, sealed value): opened by the mailer only
    sealed: dict[str, tuple[str, str]] = field(default_factory=dict)
    registrar_id: str | None = None
    contact: str | None = None
    # not sent when the registrar chose to inform its registrants itself (the verification link at selection)
    unless_registrar_informs: bool = False


@dataclass(frozen=True)
class SupportMail:
    """A mail to the registry's support desk (the address is a setting: SUPPORT_EMAIL)."""

    mail: str
    variables: dict[str, str]
    object: str


Notice = ToRegistrar | RegistrarMail | RegistrantMail | SupportMail


def domain_variables(name: str) -> dict[str, str]:
    label, _, tld = name.partition(".")
    return {"domainName": label, "domainNameASCII": label, "tld": tld or "be", "domain": name}


def _domain(registrar_id: str, message: str, name: str, element: str, date: str,
            extra: dict[str, str] | None = None) -> ToRegistrar:
    return ToRegistrar(registrar_id, message, {element: name, "date": date, **(extra or {})}, domain_variables(name), name)


def _contact(registrar_id: str, message: str, alias: str, date: str) -> ToRegistrar:
    return ToRegistrar(registrar_id, message, {"contact": alias, "date": date}, {"contactAlias": alias}, alias)


def notices(event: EventEnvelope[Any]) -> list[Notice]:
    p = event.payload
    rid = event.registrar_id or ""
    date = stamp(event.occurred_at)
    out: list[Notice] = []
    match p:
        case DomainTransferred() if p.losing_registrar_id != p.gaining_registrar_id:
            out.append(_domain(p.losing_registrar_id, "transfer.away", p.name, "domainname", date))
        case TransferCodeSent():
            out.append(RegistrantMail(
                p.email, None, "registrant.transfer_code",
                {"domain": p.name, "valid_until": brussels(p.valid_until).strftime("%Y-%m-%d %H:%M")},
                p.name, {"code": (TRANSFER_CODE_SEAL, p.sealed_code)}, rid, p.registrant))
        case HitpointsThresholdReached():
            out.append(ToRegistrar(rid, "hitpoints.threshold_reached",
                                   {"percent": str(p.percent), "hitpoints": str(p.hitpoints), "limit": str(p.limit),
                                    "date": stamp(p.reached_at)}, {"percent": str(p.percent)}, str(p.percent)))
        case RegistrarBlocked():
            until = stamp(p.blocked_until)
            out.append(ToRegistrar(rid, "hitpoints.blocked",
                                   {"hitpoints": str(p.hitpoints), "limit": str(p.limit), "date": stamp(p.exceeded_at),
                                    "blockeduntil": until},
                                   {"blockedUntil": brussels(p.blocked_until).strftime("%Y-%m-%d %H:%M")}, until))
        case RegistrarUnblocked():
            out.append(ToRegistrar(rid, "hitpoints.unblocked", {"by": p.by.value, "date": date}, {}, p.by.value))
        case WatermarkReached():
            level = f"{p.level_cents / 100:.2f}"
            out.append(ToRegistrar(rid, "watermark.reached", {"level": level}, {"level": level}, level))
        case ContactDeleted() if p.by_registry:
            out.append(_contact(rid, "contact.deleted_by_registry", p.alias, date))
        case LockComplaintFiled():
            out.append(_domain(rid, "lock.complaint_filed", p.name, "domainname", stamp(p.deadline)))
        case LockComplaintClosed():
            out.append(_domain(rid, "lock.complaint_closed", p.name, "domainname", date, {"outcome": p.outcome}))
        case VerificationRequired():
            if p.first:
                out.append(_contact(rid, "verification.required.contact", p.contact, date))
            out.append(_domain(rid, "verification.required.domain", p.domain, "domain", date))
            if p.first and p.email and p.sealed_link:
                out.append(_verification_link(rid, p.contact, p.email, p.language, p.sealed_link, p.domain,
                                              unless_registrar_informs=True))
        case VerificationLinkResent():
            # asked for explicitly (the resend button): sent even to a registrar that informs its registrants
            out.append(_verification_link(rid, p.contact, p.email, p.language, p.sealed_link, "",
                                          object_=f"{p.case_id}:resent"))
        case VerificationApproved():
            if not p.additional:  # a late domain's approval: the contact's message went out already
                out.append(_contact(rid, "verification.approved.contact", p.contact, date))
            out += [_domain(rid, "verification.approved.domain", d, "domain", date) for d in p.domains]
            # the registrant hears of its domains becoming active; a contact the registrar verified itself
            # (method registrar, no case) has none to tell of
            if p.email and p.domains:
                out.append(RegistrantMail(p.email, p.language, "registrant.verification_approved",
                                          {"domains": ", ".join(p.domains)}, p.contact, registrar_id=rid,
                                          contact=p.contact))
        case VerificationFailed():
            out.append(_contact(rid, "verification.failed.contact", p.contact, date))
            if p.email:
                out.append(RegistrantMail(p.email, p.language, "registrant.verification_failed",
                                          {"domains": ", ".join(p.domains), "reason": p.reason or "-"}, p.contact,
                                          registrar_id=rid, contact=p.contact))
        case VerificationUndone():
            out.append(_contact(rid, "verification.undone.contact", p.contact, date))
        case VerificationSupportNotice():
            out.append(SupportMail("support.verification_notice",
                                   {"reason": p.reason, "contact": p.contact, "registrar": rid or "-",
                                    "case": p.case_id or "-", "detail": p.detail or "-"},
                                   p.case_id or p.contact))
        case DomainInViolation():
            out.append(_domain(rid, "domain.in_violation", p.name, "domainname", date))
        case TransferUndone():
            # both sides: the one who gets the domain back and the one who loses it again
            out += [_domain(r, "transfer.undone", p.name, "domainname", stamp(p.undone_at))
                    for r in dict.fromkeys((p.losing_registrar_id, p.gaining_registrar_id))]
        case MonitoredUpdateAuthorised():  # the go ahead: the registrar makes the update before the deadline
            out.append(_contact(rid, "monitored_update.authorised", p.contact, stamp(p.deadline)))
        case MonitoredUpdateClosed():
            out.append(_contact(rid, f"monitored_update.{p.outcome.value}", p.contact, stamp(p.closed_at)))
        case DomainShieldRemoved():
            out.append(ToRegistrar(rid, "domain.shield_removed", {"domainname": p.name, "email": p.by_email},
                                   domain_variables(p.name), p.name))
        case QuarterlyReportReady():
            out.append(RegistrarMail(rid, "registrar.quarterly_report", {"quarter": p.quarter, "url": p.url}, p.quarter))
    return [n for n in out if not isinstance(n, ToRegistrar | RegistrarMail) or n.registrar_id]


def _verification_link(rid: str, contact: str, email: str, language: str | None, sealed_link: str, domain: str,
                       object_: str | None = None, unless_registrar_informs: bool = False) -> RegistrantMail:
    return RegistrantMail(email, language, "registrant.verification_required", {"name": contact, "domain": domain},
                          object_ or contact, {"link": (VERIFICATION_LINK_SEAL, sealed_link)}, rid, contact,
                          unless_registrar_informs)


# the events whose notices come from notices(); email.bounced and the registrar/contact read models are
# handled by the service itself
TRIGGERS = (DomainTransferred, TransferCodeSent, HitpointsThresholdReached, RegistrarBlocked, RegistrarUnblocked,
            WatermarkReached, ContactDeleted, LockComplaintFiled, LockComplaintClosed, VerificationRequired,
            VerificationLinkResent, VerificationApproved, VerificationFailed, VerificationUndone,
            VerificationSupportNotice, QuarterlyReportReady, DomainInViolation, TransferUndone,
            MonitoredUpdateAuthorised, MonitoredUpdateClosed, DomainShieldRemoved)
