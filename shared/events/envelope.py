"""The one envelope every event travels in.

Contract rules (also in the README): the routing key is the event type (`domain.created`), never an id;
adding an optional payload field is a compatible change and keeps the version; anything else is a new
version of the type, published beside the old one until no consumer needs the old one. Consumers
therefore ignore fields they do not know.
"""

from __future__ import annotations

import uuid
from datetime import UTC
from typing import Any, ClassVar, Generic, TypeVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from shared.clock import Clock


class EventPayload(BaseModel):
    """Base of each event's payload; a subclass names its type and version."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    event_type: ClassVar[str]
    event_version: ClassVar[int] = 1
    # who publishes it, for the catalogue
    producer: ClassVar[str]


PayloadT = TypeVar("PayloadT", bound=EventPayload)


class EventEnvelope(BaseModel, Generic[PayloadT]):
    model_config = ConfigDict(frozen=True, extra="ignore")

    event_id: uuid.UUID = Field(description="unique per event; consumers deduplicate on it")
    event_type: str = Field(description="also the routing key, e.g. domain.created")
    event_version: int = Field(ge=1)
    occurred_at: AwareDatetime = Field(description="when the change happened (UTC)")
    producer: str = Field(description="the service that published it")
    registrar_id: str | None = Field(description="the registrar the event concerns, if any")
    correlation_id: str = Field(description="ties the event to the request or event that caused it")
    payload: PayloadT

    def to_json(self) -> bytes:
        return self.model_dump_json().encode()

    def to_document(self) -> dict[str, Any]:
        """The envelope as a MongoDB document (native datetimes, uuids as strings)."""
        return self.model_dump(mode="json") | {"occurred_at": self.occurred_at}


def new_event(
    payload: PayloadT,
    *,
    registrar_id: str | None,
    correlation_id: str | None,
    clock: Clock,
) -> EventEnvelope[PayloadT]:
    event_id = uuid.uuid4()
    return EventEnvelope[type(payload)](  # type: ignore[misc,operator]
        event_id=event_id,
        event_type=payload.event_type,
        event_version=payload.event_version,
        occurred_at=clock.now().astimezone(UTC),
        producer=payload.producer,
        registrar_id=registrar_id,
        # an event with no cause starts its own chain
        correlation_id=correlation_id or str(event_id),
        payload=payload,
    )
