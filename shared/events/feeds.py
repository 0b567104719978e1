"""Events fed in by systems outside the platform (abuse desk, infection scanner, support tool).

Nothing on the platform produces them yet; the reporting service reads them for the quarterly .be
registrar report (digest 6.1: revokes, infections, support cases). Another system publishes one by
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
