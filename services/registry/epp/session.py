"""An EPP session's state, login (RFC 5730 2.9.1.1 and the .be rules), the per-registrar session cap and
rate limits.

Login: the client id is the registrar id and the password the registrar's EPP password (separate from
the web passwords); only from the registrar's listed IP addresses (checked before the password, so that a
guesser elsewhere learns nothing); `newPW` changes it. Every attempt is recorded with the web logins, and
the web's brute-force pause applies, counted per registrar and address over EPP attempts only. The session cap and the rate limits are counted per process: with N
replicas behind a balancer a registrar can hold up to N times the cap (documented in the README).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from services.registry.commands import Actor
from services.registry.passwords import check_policy, hash_password, verify_password
from services.registry.results import CommandRefused, Result
from services.registry.users import refuse_if_paused
from shared.events import Channel, new_event
from shared.events.registrars import UserUpdated
from shared.mongo.transactions import in_transaction
from shared.runtime import ServiceContext

REGISTRARS = "registrars"
LOGIN_ATTEMPTS = "login_attempts"


@dataclass
class EppSession:
    peer_ip: str
    session_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    registrar_id: str | None = None
    failed_logins: int = 0

    @property
    def logged_in(self) -> bool:
        return self.registrar_id is not None

    def actor(self) -> Actor:
        assert self.registrar_id is not None
        # EPP acts as the registrar's administrator: the EPP password is the registrar's, not a user's
        return Actor(self.registrar_id, self.registrar_id, Channel.EPP, uuid.uuid4().hex)


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


async def _record(ctx: ServiceContext, registrar_id: str, registrar: dict[str, Any] | None, ip: str, ok: bool,
                  reason: str | None) -> None:
    await ctx.db[LOGIN_ATTEMPTS].insert_one({
        "user_id": registrar_id, "registrar_id": registrar["_id"] if registrar else None, "ip": ip,
        "at": ctx.clock.now(), "success": ok, "channel": Channel.EPP.value, **({"reason": reason} if reason else {}),
    })


async def login(ctx: ServiceContext, session: EppSession, sessions: SessionTable, client_id: str, password: str,
                new_password: str | None) -> None:
    """Authenticate the session or raise CommandRefused (2200, 2306, 2502); changes the password on newPW."""
    if session.logged_in:
        raise CommandRefused(Result.COMMAND_USE, "already logged in")
    now = ctx.clock.now()
    # paused after repeated failures from this address, whichever connection or replica they came over
    await refuse_if_paused(ctx.db[LOGIN_ATTEMPTS], client_id, session.peer_ip, now, Channel.EPP.value)
    registrar = await ctx.db[REGISTRARS].find_one({"_id": client_id}, {"epp_password_hash": 1, "status": 1,
                                                                       "epp_settings": 1})
    # the address first: from an address the registrar does not list, a right and a wrong password get the
    # same answer, so a guesser learns nothing there
    reason: str | None
    if registrar is not None and session.peer_ip not in registrar.get("epp_settings", {}).get("ip_addresses", []):
        ok, reason = False, "ip_address"
    else:
        stored = registrar["epp_password_hash"] if registrar else _ABSENT
        # Argon2 takes tens of milliseconds: off the event loop, so other sessions keep moving
        ok = await asyncio.to_thread(verify_password, stored, password) and registrar is not None
        reason = None if ok else "password"
        if ok and registrar is not None and registrar.get("status") != "ACTIVE":
            ok, reason = False, "inactive"
    await _record(ctx, client_id, registrar, session.peer_ip, ok, reason)
    if not ok:
        session.failed_logins += 1
        messages = {"ip_address": f"EPP access is not allowed from {session.peer_ip} for this registrar",
                    "inactive": "the registrar account is not active"}
        raise CommandRefused(Result.AUTHENTICATION_ERROR, messages.get(reason or "", "Authentication error"))
    # a session slot first: a login refused for the cap (2502) or a bad new password (2306) changes nothing
    if not sessions.claim(session, client_id):
        raise CommandRefused(Result.SESSION_LIMIT, f"at most {sessions.limit} EPP sessions per registrar")
    if new_password is not None:
        try:
            check_policy(new_password, max_length=16)
            new_hash = await asyncio.to_thread(hash_password, new_password)

            async def change(s: Any) -> None:
                await ctx.db[REGISTRARS].update_one({"_id": client_id}, {"$set": {"epp_password_hash": new_hash}},
                                                    session=s)
                await ctx.outbox.add([new_event(UserUpdated(user_id=client_id, change="epp_password"),
                                                registrar_id=client_id, correlation_id=None, clock=ctx.clock)], s)

            await in_transaction(ctx.client, change)
        except ValueError as exc:
            sessions.release(session, client_id)
            raise CommandRefused(Result.PARAMETER_VALUE_POLICY, f"new EPP password: {exc}") from exc
        except BaseException:
            sessions.release(session, client_id)
            raise
        ctx.committed()
    session.registrar_id = client_id


# verified against when the registrar does not exist, so both failures take an Argon2 verify's time
_ABSENT = hash_password("absent-Registrar-0")
