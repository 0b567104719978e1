"""One EPP frame in, one response out: parse and validate, route the command to its handler, and turn a
refusal into the EPP result. Every object command runs as the session's registrar through the registry's
command layer, so its failures publish command.failed (and feed hitpoints) like the web's."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from lxml import etree

from services.registry.commands import Actor
from services.registry.epp import contact_commands, domain_commands, group_commands, poll_commands
from services.registry.epp.ns import (
    CONTACT,
    DNSBE,
    DOMAIN,
    EPP,
    EXTENSIONS,
    KEYGROUP,
    NSGROUP,
    OBJECTS,
    q,
    text,
)
from services.registry.epp.reply import Reply
from services.registry.epp.session import EppSession, RateLimiter, SessionTable, login
from services.registry.epp.xml import EppXmlError, greeting, parse_frame, response
from services.registry.results import CommandRefused, Result
from shared.runtime import ServiceContext

Handler = Callable[[ServiceContext, Actor, etree._Element, etree._Element | None], Awaitable[Reply]]
OBJECT_HANDLERS: dict[tuple[str, str], Handler] = {
    ("check", DOMAIN): domain_commands.check, ("info", DOMAIN): domain_commands.info,
    ("create", DOMAIN): domain_commands.create, ("update", DOMAIN): domain_commands.update,
    ("delete", DOMAIN): domain_commands.delete,
    ("check", CONTACT): contact_commands.check, ("info", CONTACT): contact_commands.info,
    ("create", CONTACT): contact_commands.create, ("update", CONTACT): contact_commands.update,
    ("delete", CONTACT): contact_commands.delete,
    **{(verb, group): getattr(group_commands, verb) for group in (NSGROUP, KEYGROUP)
       for verb in ("check", "info", "create", "update", "delete")},
}
DNSBE_COMMANDS = {"requestAuthCode": domain_commands.request_auth_code, "undelete": domain_commands.undelete,
                  "reactivate": domain_commands.reactivate}
RATE_LIMITED = {"check", "info", "poll"}


@dataclass
class Answer:
    data: bytes
    command: str
    code: int
    close: bool = False


class Dispatcher:
    def __init__(self, ctx: ServiceContext, sessions: SessionTable, limiter: RateLimiter, server_id: str,
                 prefix: str) -> None:
        self.ctx, self.sessions, self.limiter, self.server_id, self.prefix = ctx, sessions, limiter, server_id, prefix

    def sv_trid(self) -> str:
        return f"{self.prefix}-{uuid.uuid4().hex[:20]}"

    def greeting(self) -> bytes:
        return greeting(self.server_id, self.ctx.clock.now(), OBJECTS, EXTENSIONS)

    async def handle(self, session: EppSession, data: bytes) -> Answer:
        sv_trid = self.sv_trid()
        try:
            root = parse_frame(data)
        except EppXmlError as exc:
            return Answer(response(exc.code, exc.message, exc.cl_trid, sv_trid), "invalid", exc.code)
        top = root[0]
        if top.tag == q(EPP, "hello"):
            return Answer(self.greeting(), "hello", 1000)
        if top.tag == q(EPP, "extension"):  # DNS Belgium's own commands: <extension><dnsbe:ext><dnsbe:command>
            command_el, verb, cl_trid = self._dnsbe_command(top)
        elif top.tag == q(EPP, "command"):
            cl_trid = text(top, EPP, "clTRID")
            command_el = next(c for c in top if c.tag not in (q(EPP, "extension"), q(EPP, "clTRID")))
            verb = etree.QName(command_el).localname
        else:
            return Answer(response(2001, "Command syntax error: not a command", None, sv_trid), "invalid", 2001)
        try:
            reply = await self._run(session, top, command_el, verb, sv_trid)
        except CommandRefused as exc:
            reply = Reply(code=exc.result, message=exc.message,
                          close=exc.result in (Result.SESSION_LIMIT, Result.AUTHENTICATION_CLOSING))
        return Answer(response(int(reply.code), reply.message, cl_trid, sv_trid, reply.res_data, reply.extension,
                               reply.msgq, poll_message=reply.poll_message), verb, int(reply.code), reply.close)

    def _dnsbe_command(self, extension: etree._Element) -> tuple[etree._Element, str, str | None]:
        command = extension.find(f"{q(DNSBE, 'ext')}/{q(DNSBE, 'command')}")
        if command is None:
            raise CommandRefused(Result.COMMAND_SYNTAX, "an extension outside a command must be dnsbe:command")
        element = next(c for c in command if c.tag != q(DNSBE, "clTRID"))
        return element, etree.QName(element).localname, text(command, DNSBE, "clTRID")

    async def _run(self, session: EppSession, top: etree._Element, command: etree._Element, verb: str,
                   sv_trid: str) -> Reply:
        if verb == "login":
            if session.logged_in:
                raise CommandRefused(Result.COMMAND_USE, "already logged in")
            self._check_services(command)
            try:
                await login(self.ctx, session, self.sessions, text(command, EPP, "clID") or "",
                            text(command, EPP, "pw") or "", text(command, EPP, "newPW"))
            except CommandRefused as exc:
                if exc.result is Result.AUTHENTICATION_ERROR and session.failed_logins >= 3:
                    raise CommandRefused(Result.AUTHENTICATION_CLOSING, exc.message) from exc
                raise
            return Reply()
        if not session.logged_in:
            raise CommandRefused(Result.COMMAND_USE, "log in first")
        if verb == "logout":
            return Reply(code=Result.OK_ENDING_SESSION, close=True)
        actor = session.actor()
        actor = Actor(actor.registrar_id, actor.user_id, actor.channel, actor.correlation_id, actor.permissions,
                      reference=sv_trid)
        if verb in RATE_LIMITED and not self.limiter.allow(actor.registrar_id, verb):
            raise CommandRefused(Result.SESSION_LIMIT,
                                 f"rate limit: at most {self.limiter.limits[verb]} {verb} commands per 60 seconds")
        if verb == "poll":
            return await poll_commands.poll(self.ctx, actor, command)
        if top.tag == q(EPP, "extension") or verb in ("undelete", "reactivate"):
            # DNS Belgium's commands: in dnsbe:command, or undelete/reactivate as <command><undelete><domain:undelete>
            handler = DNSBE_COMMANDS.get(verb)
            if handler is None:
                raise CommandRefused(Result.UNIMPLEMENTED_COMMAND, f"dnsbe command [{verb}] is not implemented")
            return await handler(self.ctx, actor, command)
        extension = top.find(q(EPP, "extension"))
        if verb == "transfer":
            obj = self._object(command)
            if obj != DOMAIN:
                raise CommandRefused(Result.UNIMPLEMENTED_COMMAND, "only domains are transferred")
            return await domain_commands.transfer(self.ctx, actor, obj_element(command), extension, command.get("op", ""))
        if verb == "renew":
            raise CommandRefused(Result.UNIMPLEMENTED_COMMAND, "renew is not implemented: renewal is automatic")
        handler_for = OBJECT_HANDLERS.get((verb, self._object(command)))
        if handler_for is None:
            raise CommandRefused(Result.UNIMPLEMENTED_COMMAND, f"{verb} of this object is not implemented")
        return await handler_for(self.ctx, actor, obj_element(command), extension)

    @staticmethod
    def _object(command: etree._Element) -> str:
        return etree.QName(obj_element(command)).namespace or ""

    @staticmethod
    def _check_services(login_el: etree._Element) -> None:
        """The client may use only what it announced and the server offers (RFC 5730 2.9.1.1)."""
        svcs = login_el.find(q(EPP, "svcs"))
        wanted = {(e.text or "").strip() for e in svcs.iter(q(EPP, "objURI"))} if svcs is not None else set()
        unknown = wanted - set(OBJECTS)
        if unknown:
            raise CommandRefused(Result.UNIMPLEMENTED_OPTION, f"object services not offered: {sorted(unknown)}")


def obj_element(command: etree._Element) -> Any:
    """The object element inside an EPP verb (domain:create inside create)."""
    return command[0]
