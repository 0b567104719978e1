"""An EPP session's state. The login's rules are the registry's (services/registry/registrars/epp_access.py);
the session cap and the rate limits are counted in MongoDB, shared by all replicas
(services/registry/registrars/epp_limits.py).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from services.registry.commands import Actor
from services.registry.registrars.standing import StandingCache
from shared.events import Channel


@dataclass
class EppSession:
    peer_ip: str
    session_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    registrar_id: str | None = None
    failed_logins: int = 0
    # the registrar's standing: from login on, the copy this process shares (registrars/standing.py shared_standing)
    standing: StandingCache = field(default_factory=lambda: StandingCache(0.0))

    @property
    def logged_in(self) -> bool:
        return self.registrar_id is not None

    def actor(self, reference: str | None = None) -> Actor:
        """The actor of one command; reference is its svTRID (what a refusal's command.failed carries)."""
        assert self.registrar_id is not None
        # EPP acts as the registrar's administrator: the EPP password is the registrar's, not a user's
        return Actor(self.registrar_id, self.registrar_id, Channel.EPP, uuid.uuid4().hex, reference=reference,
                     standing=self.standing)

