"""Events fed in by systems outside the platform (abuse desk, infection scanner, support tool).

Nothing on the platform produces them yet. The reporting service reads the first three for the quarterly
.be registrar report (digest 6.1: revokes, infections, support cases); the notifications service tells the
registrar of the rest (a domain in violation, an undone transfer, a closed monitored update, Domain Shield
switched off). Another system publishes one by
sending the JSON envelope of shared/events/envelope.py (event_id a fresh UUID, event_type and
event_version as below, occurred_at in UTC with its offset, producer "external", registrar_id the
registrar concerned, correlation_id anything that ties it to its cause, payload as documented) to the
platform's topic exchange (`<namespace>.registry.events`, durable) with the event type as routing key,
persistent delivery mode. A redelivered event (same event_id) is applied once; a malformed one is
dead-lettered. `python -m shared.events` prints the JSON schema of each.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import AwareDatetime, Field

from shared.events.envelope import EventPayload


class SupportTopic(StrEnum):
    """The support case categories of the .be registrar report (digest 6.1)."""

    ABUSE = "Abuse"
    BAD_COMMUNICATION_CHANNEL = "Bad communication channel"
    BAD_FOLLOW_UP = "Bad follow-up"
    BOUNCED_EMAILS = "Bounced emails"
    DOCUMENTATION_KNOWLEDGE = "Documentation knowledge"
    INCORRECT_CONTACT_DATA = "Incorrect contact data"
    OVERDUE_PAYMENTS = "Overdue Payments"
    PRIVACY = "Privacy"
    RULE_VIOLATION = "Rule violation"
    TRANSFER = "Transfer"


class DomainRevoked(EventPayload):
    """The registry revoked a domain of the registrar (abuse, or incorrect registrant data left unfixed):
    digest 4.3. The envelope's registrar_id is the registrar that sponsored it."""

    event_type = "feed.domain_revoked"
    producer = "external"

    name: str = Field(min_length=1, max_length=255, description="the domain name, A-label")
    revoke_type: str = Field(min_length=1, max_length=80,
                             description="e.g. Fake web shop, Phishing, Malware, Incorrect registrant data, Other")
    revoked_at: AwareDatetime


class InfectionReported(EventPayload):
    """An infected URL was found on a domain of the registrar (envelope registrar_id: its sponsor)."""

    event_type = "feed.infection_reported"
    producer = "external"

    url: str = Field(min_length=1, max_length=2000)
    domain: str = Field(min_length=1, max_length=255)
    infection_type: str = Field(min_length=1, max_length=80, description="e.g. phishing, malware, compromised")
    detected_at: AwareDatetime


class SupportCaseOpened(EventPayload):
    """The registry's support desk opened a case attributable to the registrar (envelope registrar_id)."""

    event_type = "feed.support_case_opened"
    producer = "external"

    case_id: str = Field(min_length=1, max_length=80)
    topic: SupportTopic
    opened_at: AwareDatetime


# -- registry operations done outside the platform that the registrar must hear of (notifications) --------------
# The registry's support and legal desks act on domains and contacts with their own tools; until those actions
# are commands of the registry service, the tools announce them with these events and the notifications
# service tells the registrars (poll or CPS mail, services/notifications/messages.py).


class DomainInViolation(EventPayload):
    """The registry found a domain of the registrar in violation of the terms of registration (for instance
    incorrect registrant data: day 0 of the revoke procedure, digest 4.3) and asks the registrar to have it
    fixed. The envelope's registrar_id is the sponsoring registrar."""

    event_type = "feed.domain_in_violation"
    producer = "external"

    name: str = Field(min_length=1, max_length=255, description="the domain name, A-label")
    reason: str = Field(min_length=1, max_length=200, description="e.g. Incorrect registrant data")
    deadline: AwareDatetime | None = Field(default=None, description="when the registry acts if it is not fixed")


class TransferUndone(EventPayload):
    """Registry support undid a transfer: the domain is back with the losing registrar. Both registrars are
    told (the gTLD transfer procedure's rule; digest 1.4). The envelope's registrar_id is the losing registrar,
    who holds the domain again."""

    event_type = "feed.transfer_undone"
    producer = "external"

    name: str = Field(min_length=1, max_length=255)
    gaining_registrar_id: str = Field(min_length=1, max_length=64, description="had gained it, loses it now")
    losing_registrar_id: str = Field(min_length=1, max_length=64, description="had lost it, holds it again")
    undone_at: AwareDatetime


class MonitoredUpdateOutcome(StrEnum):
    APPROVED = "approved"  # 1502
    EXPIRED = "expired"  # 1503: the 7 calendar days lapsed


class MonitoredUpdateAuthorised(EventPayload):
    """The registry's legal desk flagged a contact for a monitored update (digest 4.6), on the registrar's
    request with its evidence: the registrar's "go ahead" to make the change within 7 calendar days. The
    envelope's registrar_id is the contact's registrar."""

    event_type = "feed.monitored_update_authorised"
    producer = "external"

    contact: str = Field(min_length=1, max_length=64, description="the contact alias")
    deadline: AwareDatetime = Field(description="the update must be made before this (7 calendar days)")


class MonitoredUpdateClosed(EventPayload):
    """The registry's legal desk closed a monitored update of a contact (digest 4.6): the registrar's update was
    approved, or the 7-day window lapsed. The envelope's registrar_id is the contact's registrar."""

    event_type = "feed.monitored_update_closed"
    producer = "external"

    contact: str = Field(min_length=1, max_length=64, description="the contact alias")
    outcome: MonitoredUpdateOutcome
    closed_at: AwareDatetime


class DomainShieldRemoved(EventPayload):
    """Domain Shield was switched off for a domain of the registrar (digest 4.5), by one of its Shield users or
    by registry support. The envelope's registrar_id is the sponsoring registrar."""

    event_type = "feed.domain_shield_removed"
    producer = "external"

    name: str = Field(min_length=1, max_length=255)
    by_email: str = Field(min_length=3, max_length=254, description="the Shield user or the support address")
