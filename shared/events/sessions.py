"""Session events (published by the registry)."""

from __future__ import annotations

from enum import StrEnum

from pydantic import AwareDatetime, Field

from shared.events.envelope import EventPayload


class RevocationReason(StrEnum):
    LOGOUT = "logout"
    PASSWORD_CHANGED = "password_changed"
    USER_DELETED = "user_deleted"


class SessionRevoked(EventPayload):
    """Sessions ended before their time (logout, password change, user deleted): every service refuses their
    access tokens from now on. Access tokens expire by `expires_at` at the latest, so a deny-list entry can be
    forgotten then."""

    event_type = "session.revoked"
    producer = "registry"

    user_id: str
    session_ids: list[str] = Field(description="the sessions whose tokens are refused from now on")
    reason: RevocationReason
    expires_at: AwareDatetime = Field(description="no access token of these sessions is valid after this")
