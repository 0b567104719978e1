"""The portfolio a registrar's hitpoint limit is computed from, kept from the registry's events alone.

Definition: a registrar's portfolio is the number of domain names it sponsors that are registered and
not in quarantine, i.e. the names that would keep working if nothing happened. A name scheduled for
deletion still counts until its quarantine begins. Per event (the envelope's registrar_id is the
sponsor unless said otherwise):

  domain.created       +1 for the sponsor
  domain.quarantined   -1 for the sponsor (the deletion took effect)
  domain.reactivated   +1 for the sponsor (back out of quarantine, exactly as before)
  domain.released      no change (already subtracted when it went into quarantine)
  domain.transferred   +1 for gaining_registrar_id; -1 for losing_registrar_id unless from_quarantine
                       (a name taken out of quarantine was already subtracted from the loser)

The counts are atomic $inc in the consumer's transaction, so they are exact under redelivery and in
any order of arrival. Registrars whose domains predate this service need their history replayed.
"""

from __future__ import annotations

from typing import Any

from shared.events import EventEnvelope
from shared.events.domains import (
    DomainCreated,
    DomainQuarantined,
    DomainReactivated,
    DomainReleased,
    DomainTransferred,
)

PORTFOLIO_EVENTS = (DomainCreated, DomainQuarantined, DomainReactivated, DomainReleased, DomainTransferred)


def portfolio_changes(event: EventEnvelope[Any]) -> list[tuple[str, int]]:
    """(registrar id, change in domains) that the event means."""
    payload = event.payload
    if isinstance(payload, DomainTransferred):
        changes = [(payload.gaining_registrar_id, +1)]
        if not payload.from_quarantine:
            changes.append((payload.losing_registrar_id, -1))
        return changes
    if event.registrar_id is None:
        return []
    if isinstance(payload, DomainCreated | DomainReactivated):
        return [(event.registrar_id, +1)]
    if isinstance(payload, DomainQuarantined):
        return [(event.registrar_id, -1)]
    return []  # domain.released
