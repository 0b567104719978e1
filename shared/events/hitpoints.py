"""Hitpoint warnings and blocking decisions (published by hitpoints; the registry enforces blocks)."""

from __future__ import annotations

from enum import StrEnum

from pydantic import AwareDatetime, Field

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


class HitpointsThresholdReached(EventPayload):
    """A registrar's hitpoints since the last reset reached a warning level of its limit (80 % and 100 % by
    default). Notifications tells the registrar; at 100 % registrar.blocked follows in the same commit."""

    event_type = "hitpoints.threshold_reached"
    producer = "hitpoints"

    percent: int = Field(ge=1, le=100)
    hitpoints: int = Field(ge=0, description="the registrar's hitpoints when the level was reached")
    limit: int = Field(ge=1)
    reached_at: AwareDatetime = Field(description="when the faulty command that reached the level occurred")
