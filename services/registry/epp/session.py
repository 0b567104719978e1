"""An EPP session's state, login (RFC 5730 2.9.1.1 and the .be rules), the per-registrar session cap and
rate limits.

Login: the client id is the registrar id and the password the registrar's EPP password (separate from
the web passwords); only from the registrar's listed IP addresses; `newPW` changes it. Every attempt is
recorded with the web logins. The session cap and the rate limits are counted in MongoDB, shared by all
replicas (limits.py).
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field
from typing import Any

from services.registry.commands import Actor
from services.registry.epp.limits import SessionTable
from services.registry.passwords import check_policy, hash_password, verify_password
from services.registry.results import CommandRefused, Result
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
    registrar = await ctx.db[REGISTRARS].find_one({"_id": client_id}, {"epp_password_hash": 1, "status": 1,
                                                                       "epp_settings": 1})
    stored = registrar["epp_password_hash"] if registrar else _ABSENT
    # Argon2 takes tens of milliseconds: off the event loop, so other sessions keep moving
    ok = await asyncio.to_thread(verify_password, stored, password) and registrar is not None
    reason = None if ok else "password"
    if ok and registrar is not None:
        allowed = registrar.get("epp_settings", {}).get("ip_addresses", [])
        if session.peer_ip not in allowed:
            ok, reason = False, "ip_address"
        elif registrar.get("status") != "ACTIVE":
            ok, reason = False, "inactive"
    await _record(ctx, client_id, registrar, session.peer_ip, ok, reason)
    if not ok:
        session.failed_logins += 1
        messages = {"ip_address": f"EPP access is not allowed from {session.peer_ip} for this registrar",
                    "inactive": "the registrar account is not active"}
        raise CommandRefused(Result.AUTHENTICATION_ERROR, messages.get(reason or "", "Authentication error"))
    # a session slot first: a login refused for the cap (2502) or a bad new password (2306) changes nothing
    if not await sessions.claim(session.session_id, client_id):
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
            await sessions.release(session.session_id)
            raise CommandRefused(Result.PARAMETER_VALUE_POLICY, f"new EPP password: {exc}") from exc
        except BaseException:
            await sessions.release(session.session_id)
            raise
        ctx.committed()
    session.registrar_id = client_id


# verified against when the registrar does not exist, so both failures take an Argon2 verify's time
_ABSENT = hash_password("absent-Registrar-0")
