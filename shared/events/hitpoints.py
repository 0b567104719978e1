"""Blocking decisions (published by hitpoints; the registry enforces them)."""

from __future__ import annotations

from enum import StrEnum

from pydantic import AwareDatetime

from shared.events.envelope import EventPayload


class RegistrarBlocked(EventPayload):
    """The registrar reached its hitpoint limit: every command is refused until `blocked_until`."""

    event_type = "registrar.blocked"
    producer = "hitpoints"

    blocked_until: AwareDatetime
    exceeded_at: AwareDatetime
    hitpoints: int
    limit: int


class UnblockedBy(StrEnum):
    SELF = "SELF"
    OPERATOR = "OPERATOR"
    EXPIRY = "EXPIRY"


class RegistrarUnblocked(EventPayload):
    """The block ended: by the registrar's monthly self-unblock, by an operator, or because it expired."""

    event_type = "registrar.unblocked"
    producer = "hitpoints"

    by: UnblockedBy
