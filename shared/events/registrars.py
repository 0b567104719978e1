"""Registrar and user events (published by the registry)."""

from __future__ import annotations

from pydantic import Field

from shared.events.envelope import EventPayload


class RegistrarCreated(EventPayload):
    """An operator created a registrar account (with its administrator user); it awaits activation."""

    event_type = "registrar.created"
    producer = "registry"

    name: str
    products: list[str] = Field(description="TLDs the registrar is accredited for, e.g. ['be']")
    languages: list[str] = Field(description="ordered preference of nl, fr, en")
    email: str


class RegistrarActivated(EventPayload):
    """The registrar activated its account with its security code."""

    event_type = "registrar.activated"
    producer = "registry"


class RegistrarUpdated(EventPayload):
    """Part of a registrar's account changed; `section` names which, `changes` the new values."""

    event_type = "registrar.updated"
    producer = "registry"

    section: str = Field(description="profile | product_urls | finance | official_address | epp_settings | "
                                     "email_categories | lock_function | status")
    changes: dict[str, object] = Field(default_factory=dict, description="the new values (never secrets)")
    by_operator: bool = False


class UserCreated(EventPayload):
    """A user was added to a registrar's account (the administrator user when the account is created)."""

    event_type = "user.created"
    producer = "registry"

    user_id: str
    permissions: list[str]


class UserUpdated(EventPayload):
    """A user's permissions, password, 2-step set-up or temporary key changed (never the secret itself)."""

    event_type = "user.updated"
    producer = "registry"

    user_id: str
    change: str = Field(description="permissions | password | epp_password | two_step_reset | temporary_key")
    permissions: list[str] | None = None


class UserDeleted(EventPayload):
    """A user was removed from a registrar's account."""

    event_type = "user.deleted"
    producer = "registry"

    user_id: str
