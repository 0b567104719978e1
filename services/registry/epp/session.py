"""An EPP session's state, the per-registrar session cap and the rate limits (the login's rules are the
registry's: services/registry/registrars/epp_access.py).

The session cap and the rate limits are counted per process: with N replicas behind a balancer a registrar
can hold up to N times the cap (documented in the README).
"""

from __future__ import annotations

import time
import uuid
from collections import deque
from dataclasses import dataclass, field

from services.registry.commands import Actor
from shared.events import Channel


@dataclass
class EppSession:
    peer_ip: str
    session_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    registrar_id: str | None = None
    failed_logins: int = 0

    @property
    def logged_in(self) -> bool:
        return self.registrar_id is not None

    def actor(self, reference: str | None = None) -> Actor:
        """The actor of one command; reference is its svTRID (what a refusal's command.failed carries)."""
        assert self.registrar_id is not None
        # EPP acts as the registrar's administrator: the EPP password is the registrar's, not a user's
        return Actor(self.registrar_id, self.registrar_id, Channel.EPP, uuid.uuid4().hex, reference=reference)


class SessionTable:
    """Open sessions per registrar in this process."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.open: dict[str, set[str]] = {}

    def claim(self, session: EppSession, registrar_id: str) -> bool:
        held = self.open.setdefault(registrar_id, set())
        if len(held) >= self.limit:
            return False
        held.add(session.session_id)
        return True

    def release(self, session: EppSession, registrar_id: str | None = None) -> None:
        """Free the session's slot; registrar_id for a slot claimed by a login that then failed."""
        registrar_id = registrar_id or session.registrar_id
        if registrar_id:
            self.open.get(registrar_id, set()).discard(session.session_id)

    def count(self) -> int:
        return sum(len(v) for v in self.open.values())


class RateLimiter:
    """A sliding 60-second window per (registrar, command class)."""

    def __init__(self, limits: dict[str, int], window: float = 60.0) -> None:
        self.limits, self.window = limits, window
        self.seen: dict[tuple[str, str], deque[float]] = {}

    def allow(self, registrar_id: str, kind: str) -> bool:
        limit = self.limits.get(kind)
        if limit is None:
            return True
        now = time.monotonic()
        times = self.seen.setdefault((registrar_id, kind), deque())
        while times and times[0] <= now - self.window:
            times.popleft()
        if len(times) >= limit:
            return False
        times.append(now)
        return True
