"""The event catalogue: every event type the platform publishes, and decoding of incoming events.

This is the public contract other teams subscribe to. Each service serves it as AsyncAPI (/asyncapi);
`python -m shared.events` prints it.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import ValidationError

from shared.events.commands import CommandFailed
from shared.events.contacts import ContactCreated, ContactDeleted, ContactUpdated
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
    LockComplaintClosed,
    LockComplaintFiled,
    TransferCodeSent,
)
from shared.events.envelope import EventEnvelope, EventPayload
from shared.events.feeds import (
    DomainInViolation,
    DomainRevoked,
    DomainShieldRemoved,
    InfectionReported,
    MonitoredUpdateAuthorised,
    MonitoredUpdateClosed,
    SupportCaseOpened,
    TransferUndone,
)
from shared.events.groups import (
    KeyGroupChanged,
    KeyGroupDeleted,
    NameServerGroupChanged,
    NameServerGroupDeleted,
)
from shared.events.hitpoints import HitpointsThresholdReached, RegistrarBlocked, RegistrarUnblocked
from shared.events.money import PayingTransactionRecorded, PrepaymentReceived, WatermarkReached
from shared.events.notifications import EmailBounced, PollMessageAcknowledged
from shared.events.registrars import (
    RegistrarActivated,
    RegistrarActivationFailed,
    RegistrarApplicationRecorded,
    RegistrarContractSigned,
    RegistrarCreated,
    RegistrarUpdated,
    SecurityCodeIssued,
    UserCreated,
    UserDeleted,
    UserUpdated,
)
from shared.events.reports import DailyReportsGenerated, QuarterlyReportReady
from shared.events.sessions import SessionRevoked
from shared.events.verification import (
    VerificationApproved,
    VerificationFailed,
    VerificationLinkResent,
    VerificationRequired,
    VerificationSupportNotice,
    VerificationUndone,
)

CATALOGUE: dict[tuple[str, int], type[EventPayload]] = {
    (model.event_type, model.event_version): model
    for model in (
        CommandFailed,
        DomainCreated,
        DomainUpdated,
        DomainDeleted,
        DomainUndeleted,
        DomainQuarantined,
        DomainReactivated,
        DomainReleased,
        DomainTransferred,
        DomainLocked,
        DomainUnlocked,
        TransferCodeSent,
        LockComplaintFiled,
        LockComplaintClosed,
        DomainOverrideChanged,
        DomainHoldChanged,
        DomainServiceChanged,
        VerificationRequired,
        VerificationApproved,
        VerificationFailed,
        VerificationUndone,
        VerificationLinkResent,
        VerificationSupportNotice,
        ContactCreated,
        ContactUpdated,
        ContactDeleted,
        NameServerGroupChanged,
        NameServerGroupDeleted,
        KeyGroupChanged,
        KeyGroupDeleted,
        RegistrarCreated,
        RegistrarActivated,
        RegistrarApplicationRecorded,
        RegistrarContractSigned,
        SecurityCodeIssued,
        RegistrarActivationFailed,
        RegistrarUpdated,
        UserCreated,
        UserUpdated,
        UserDeleted,
        SessionRevoked,
        PayingTransactionRecorded,
        PrepaymentReceived,
        WatermarkReached,
        RegistrarBlocked,
        RegistrarUnblocked,
        HitpointsThresholdReached,
        DomainRenewed,
        QuarterlyReportReady,
        DailyReportsGenerated,
        DomainRevoked,
        InfectionReported,
        SupportCaseOpened,
        DomainInViolation,
        TransferUndone,
        MonitoredUpdateAuthorised,
        MonitoredUpdateClosed,
        DomainShieldRemoved,
        EmailBounced,
        PollMessageAcknowledged,
    )
}


class UndecodableEvent(ValueError):
    """The message is not an event this service can read: a poison message, to be dead-lettered."""


def envelope_model(payload_model: type[EventPayload]) -> type[EventEnvelope[Any]]:
    return EventEnvelope[payload_model]  # type: ignore[valid-type]


def decode_event(raw: bytes | str | dict[str, Any]) -> EventEnvelope[Any]:
    """Parse and validate an event; raise UndecodableEvent when it is malformed or unknown."""
    try:
        data = json.loads(raw) if isinstance(raw, bytes | str) else raw
        key = (data["event_type"], int(data["event_version"]))
    except (ValueError, TypeError, KeyError) as exc:
        raise UndecodableEvent(f"not an event envelope: {exc}") from exc
    model = CATALOGUE.get(key)
    if model is None:
        raise UndecodableEvent(f"unknown event {key[0]} v{key[1]}")
    try:
        return envelope_model(model).model_validate(data)
    except ValidationError as exc:
        raise UndecodableEvent(f"invalid {key[0]} v{key[1]}: {exc.error_count()} error(s): {exc}") from exc


def describe() -> list[dict[str, Any]]:
    """The catalogue as data: type, version, producer, description and JSON schema of each event."""
    return [
        {
            "event_type": t,
            "event_version": v,
            "producer": model.producer,
            "description": (model.__doc__ or "").strip(),
            "schema": envelope_model(model).model_json_schema(),
        }
        for (t, v), model in sorted(CATALOGUE.items())
    ]
