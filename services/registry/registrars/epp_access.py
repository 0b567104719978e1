"""A registrar's EPP access (RFC 5730 2.9.1.1 and the .be rules): login, the EPP password, the poll switch.

  login     the client id is the registrar id and the password the registrar's EPP password (separate from the
            web passwords); only from the registrar's listed IP addresses (checked before the password, so that
            a guesser elsewhere learns nothing); only an ACTIVE registrar. Every attempt is recorded with the
            web logins, and the web's brute-force pause applies (2502), counted per registrar and address over
            EPP attempts only. Refused: 2200 (the reason is recorded, the message says only as much as the
            client may know).
  password  the EPP password: at most 16 characters, the password policy (2306); over EPP with login's newPW,
            over the web by the administrator user only (2201).                          Event: user.updated
  poll      EPP poll messages only when the registrar switched them on in its EPP settings (2201: its
            messages go out as CPS e-mail instead).
"""

from __future__ import annotations

import asyncio

from services.registry.commands import Actor, execute
from services.registry.results import CommandRefused, Result
from services.registry.store import LOGIN_ATTEMPTS, REGISTRARS, unit_of_work
from services.registry.uow import Tx
from services.registry.users.accounts import refuse_if_paused
from services.registry.users.passwords import check_policy, hash_password, verify_password
from shared.events import Channel, CommandType, new_event
from shared.events.registrars import UserUpdated
from shared.runtime import ServiceContext

EPP_PASSWORD_MAX = 16


async def epp_login(ctx: ServiceContext, client_id: str, password: str, peer_ip: str) -> None:
    """Authenticate an EPP client or raise CommandRefused (2200; 2502 while its address is paused)."""
    uow = unit_of_work(ctx)
    # paused after repeated failures from this address, whichever connection or replica they came over
    await refuse_if_paused(uow[LOGIN_ATTEMPTS], client_id, peer_ip, ctx.clock.now(), Channel.EPP.value)
    registrar = await uow[REGISTRARS].find_one({"_id": client_id}, {"epp_password_hash": 1, "status": 1,
                                                                   "epp_settings": 1})
    # the address first: from an address the registrar does not list, a right and a wrong password get the
    # same answer, so a guesser learns nothing there
    reason: str | None
    if registrar is not None and peer_ip not in registrar.get("epp_settings", {}).get("ip_addresses", []):
        ok, reason = False, "ip_address"
    else:
        stored = registrar["epp_password_hash"] if registrar else _ABSENT
        # Argon2 takes tens of milliseconds: off the event loop, so other sessions keep moving
        ok = await asyncio.to_thread(verify_password, stored, password) and registrar is not None
        reason = None if ok else "password"
        if ok and registrar is not None and registrar.get("status") != "ACTIVE":
            ok, reason = False, "inactive"
    await uow[LOGIN_ATTEMPTS].insert_one({
        "user_id": client_id, "registrar_id": registrar["_id"] if registrar else None, "ip": peer_ip,
        "at": ctx.clock.now(), "success": ok, "channel": Channel.EPP.value, **({"reason": reason} if reason else {}),
    })
    if not ok:
        messages = {"ip_address": f"EPP access is not allowed from {peer_ip} for this registrar",
                    "inactive": "the registrar account is not active"}
        raise CommandRefused(Result.AUTHENTICATION_ERROR, messages.get(reason or "", "Authentication error"))


async def set_epp_password(ctx: ServiceContext, registrar_id: str, user_id: str, new_password: str,
                           correlation_id: str | None) -> None:
    """Change the registrar's EPP password (the one rule for EPP's newPW and the web's form)."""
    try:
        check_policy(new_password, max_length=EPP_PASSWORD_MAX)
    except ValueError as exc:
        raise CommandRefused(Result.PARAMETER_VALUE_POLICY, f"EPP password: {exc}") from exc
    new_hash = await asyncio.to_thread(hash_password, new_password)

    async def work(tx: Tx) -> None:
        await tx[REGISTRARS].update_one({"_id": registrar_id}, {"$set": {"epp_password_hash": new_hash}})
        tx.publish([new_event(UserUpdated(user_id=user_id, change="epp_password"), registrar_id=registrar_id,
                              correlation_id=correlation_id, clock=ctx.clock)])

    await unit_of_work(ctx).run(work)


async def change_epp_password(ctx: ServiceContext, actor: Actor, new_password: str) -> None:
    """Over the web: only the administrator user changes the EPP password."""

    async def run(_: str) -> None:
        if not actor.is_admin:
            raise CommandRefused(Result.AUTHORIZATION_ERROR, "only the administrator user changes the EPP password")
        await set_epp_password(ctx, actor.registrar_id, actor.user_id, new_password, actor.correlation_id)

    await execute(ctx, actor, CommandType.UPD_REGISTRAR, f"{actor.registrar_id}/epp-password", run, requires=None)


async def require_poll(ctx: ServiceContext, actor: Actor) -> None:
    registrar = await unit_of_work(ctx)[REGISTRARS].find_one({"_id": actor.registrar_id}, {"epp_settings.poll": 1})
    if not (registrar or {}).get("epp_settings", {}).get("poll"):
        raise CommandRefused(Result.AUTHORIZATION_ERROR, "EPP poll messages are switched off for this registrar: "
                             "messages go out as CPS e-mail (switch poll on in the EPP settings)")


# verified against when the registrar does not exist, so both failures take an Argon2 verify's time
_ABSENT = hash_password("absent-Registrar-0")
