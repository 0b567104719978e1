"""Failed commands (published by the registry for every refused command, EPP or web)."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from shared.events.envelope import EventPayload


class Channel(StrEnum):
    EPP = "EPP"
    WEB = "WEB"


class CommandType(StrEnum):
    """The command names the hitpoints screen shows."""

    NEW_CONTACT = "NEW_CONTACT"
    UPD_CONTACT = "UPD_CONTACT"
    DEL_CONTACT = "DEL_CONTACT"
    INFO_CONTACT = "INFO_CONTACT"
    CHECK_CONTACT = "CHECK_CONTACT"
    NEW_DOMAIN = "NEW_DOMAIN"
    UPD_DOMAIN = "UPD_DOMAIN"
    DEL_DOMAIN = "DEL_DOMAIN"
    INFO_DOMAIN = "INFO_DOMAIN"
    CHECK_DOMAIN = "CHECK_DOMAIN"
    TRANSFER_DOMAIN = "TRANSFER_DOMAIN"
    UNDELETE_DOMAIN = "UNDELETE_DOMAIN"
    REACTIVATE_DOMAIN = "REACTIVATE_DOMAIN"
    REQUEST_AUTHCODE = "REQUEST_AUTHCODE"
    NEW_NSGROUP = "NEW_NSGROUP"
    UPD_NSGROUP = "UPD_NSGROUP"
    DEL_NSGROUP = "DEL_NSGROUP"
    NEW_KEYGROUP = "NEW_KEYGROUP"
    INFO_NSGROUP = "INFO_NSGROUP"
    INFO_KEYGROUP = "INFO_KEYGROUP"
    LOCK_DOMAIN = "LOCK_DOMAIN"
    UNLOCK_DOMAIN = "UNLOCK_DOMAIN"
    INFO_REGISTRAR = "INFO_REGISTRAR"
    UPD_REGISTRAR = "UPD_REGISTRAR"
    INFO_USER = "INFO_USER"
    NEW_USER = "NEW_USER"
    UPD_USER = "UPD_USER"
    DEL_USER = "DEL_USER"
    UPD_KEYGROUP = "UPD_KEYGROUP"
    DEL_KEYGROUP = "DEL_KEYGROUP"


class CommandFailed(EventPayload):
    """A registrar's command was refused. The envelope's registrar_id is the registrar that sent it."""

    event_type = "command.failed"
    event_version = 1
    producer = "registry"

    user_id: str
    channel: Channel
    command: CommandType
    object: str = Field(description="the object the command was about: a domain name, contact alias, group name")
    reference: str = Field(description="unique reference of the transaction (the EPP svTRID or web reference)")
    result_code: int = Field(ge=1000, le=2599, description="EPP result code")
    message: str
    cause: str | None = Field(
        default=None,
        description="why the registry refused before looking at the command itself: registrar_blocked, "
        "negative_balance, permission; None for a refusal of the command's content",
    )
