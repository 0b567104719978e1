"""EPP login and logout (RFC 5730 2.9.1.1-2): translate the frame, call the registry's rules
(services/registry/registrars/epp_access.py), keep the session's state.

What stays here is the session's own: the login's language must be one the greeting offers (2102); three
failed logins close the connection (2501); a login beyond the per-registrar session cap is
refused (2502) before newPW changes anything."""

from __future__ import annotations

from lxml import etree

from services.registry.epp.call import Call
from services.registry.epp.ns import EPP, LANGS, q, text
from services.registry.epp.reply import Reply
from services.registry.registrars.epp_access import epp_login, set_epp_password
from services.registry.registrars.standing import shared_standing
from services.registry.results import CommandRefused, Result

FAILED_LOGINS_BEFORE_CLOSING = 3


def _check_options(login: etree._Element) -> None:
    """The login's language must be one the greeting offers (RFC 5730 2.9.1.1: 2102). The services it
    announces are not checked: a client may announce more than the server offers (many announce host-1.0
    or secDNS-1.0 always); a command on an object the server does not offer is refused with 2307."""
    lang = text(login.find(q(EPP, "options")), EPP, "lang")
    if lang is not None and lang not in LANGS:
        raise CommandRefused(Result.UNIMPLEMENTED_OPTION,
                             f"language [{lang}] is not offered: the greeting offers {', '.join(LANGS)}")


async def login(call: Call) -> Reply:
    session, element = call.session, call.command.element
    if session.logged_in:
        raise CommandRefused(Result.COMMAND_USE, "already logged in")
    _check_options(element)
    client_id = text(element, EPP, "clID") or ""
    try:
        await epp_login(call.ctx, client_id, text(element, EPP, "pw") or "", session.peer_ip)
    except CommandRefused as exc:
        if exc.result is Result.AUTHENTICATION_ERROR:
            session.failed_logins += 1
            if session.failed_logins >= FAILED_LOGINS_BEFORE_CLOSING:
                raise CommandRefused(Result.AUTHENTICATION_CLOSING, exc.message) from exc
        raise
    # a session slot first: a login refused for the cap (2502) or a bad new password (2306) changes nothing
    if not await call.sessions.claim(session.session_id, client_id):
        raise CommandRefused(Result.SESSION_LIMIT, f"at most {call.sessions.limit} EPP sessions per registrar")
    new_password = text(element, EPP, "newPW")
    if new_password is not None:
        try:
            await set_epp_password(call.ctx, client_id, client_id, new_password, None)
        except BaseException:
            await call.sessions.release(session.session_id)
            raise
    session.registrar_id = client_id
    # the copy of the registrar's standing its web requests and other sessions here use (registrars/standing.py)
    session.standing = shared_standing(call.ctx, client_id)
    return Reply()


async def logout(call: Call) -> Reply:
    return Reply(code=Result.OK_ENDING_SESSION, close=True)
