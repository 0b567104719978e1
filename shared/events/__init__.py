"""The event contract: envelope, payload models, catalogue."""

from shared.events.catalogue import CATALOGUE, UndecodableEvent, decode_event, describe, envelope_model
from shared.events.commands import Channel, CommandFailed, CommandType
from shared.events.domains import DomainCreated
from shared.events.envelope import EventEnvelope, EventPayload, new_event

__all__ = [
    "CATALOGUE",
    "Channel",
    "CommandFailed",
    "CommandType",
    "DomainCreated",
    "EventEnvelope",
    "EventPayload",
    "UndecodableEvent",
    "decode_event",
    "describe",
    "envelope_model",
    "new_event",
]
