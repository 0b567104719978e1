"""One EPP frame in, one response out: parse and validate, route the command to its handler, and turn a
refusal into the EPP result. Every object command runs as the session's registrar through the registry's
command layer, so its failures publish command.failed (and feed hitpoints) like the web's; refusals the EPP
layer raises itself before that (schema, policy checks of the XML) are published here, once."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from lxml import etree

from services.registry.commands import Actor, report_refusal
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
    PREFIX,
    q,
    text,
)
from services.registry.epp.reply import Reply
from services.registry.epp.session import EppSession, RateLimiter, SessionTable, login
from services.registry.epp.xml import (
    EppXmlError,
    ResultValue,
    greeting,
    parse_frame,
    require_implemented,
    response,
)
from services.registry.results import CommandRefused, Result
from shared.events import CommandType
from shared.runtime import ServiceContext

log = logging.getLogger(__name__)

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
# what a valid frame may ask for; anything else is 2101 (verb), 2307 (object) or 2103 (extension), RFC 5730
IMPLEMENTED_VERBS = {"login", "logout", "poll", "check", "info", "create", "update", "delete", "transfer", "renew",
                     *DNSBE_COMMANDS}
# the command type a refusal is published under (what the hitpoints screen shows)
_T = CommandType
COMMAND_TYPES: dict[tuple[str, str | None], CommandType] = {
    ("create", DOMAIN): _T.NEW_DOMAIN, ("update", DOMAIN): _T.UPD_DOMAIN, ("delete", DOMAIN): _T.DEL_DOMAIN,
    ("info", DOMAIN): _T.INFO_DOMAIN, ("check", DOMAIN): _T.CHECK_DOMAIN, ("transfer", DOMAIN): _T.TRANSFER_DOMAIN,
    ("undelete", DOMAIN): _T.UNDELETE_DOMAIN, ("reactivate", DOMAIN): _T.REACTIVATE_DOMAIN,
    ("undelete", None): _T.UNDELETE_DOMAIN, ("reactivate", None): _T.REACTIVATE_DOMAIN,
    ("requestAuthCode", None): _T.REQUEST_AUTHCODE,
    ("create", CONTACT): _T.NEW_CONTACT, ("update", CONTACT): _T.UPD_CONTACT, ("delete", CONTACT): _T.DEL_CONTACT,
    ("info", CONTACT): _T.INFO_CONTACT, ("check", CONTACT): _T.CHECK_CONTACT,
    ("create", NSGROUP): _T.NEW_NSGROUP, ("update", NSGROUP): _T.UPD_NSGROUP, ("delete", NSGROUP): _T.DEL_NSGROUP,
    ("info", NSGROUP): _T.INFO_NSGROUP, ("check", NSGROUP): _T.INFO_NSGROUP,
    ("create", KEYGROUP): _T.NEW_KEYGROUP, ("update", KEYGROUP): _T.UPD_KEYGROUP,
    ("delete", KEYGROUP): _T.DEL_KEYGROUP, ("info", KEYGROUP): _T.INFO_KEYGROUP, ("check", KEYGROUP): _T.INFO_KEYGROUP,
}
_OBJECT_KEYS = {"name", "id", "domainName"}
LANGS = ("en",)  # the languages the greeting offers


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
        return greeting(self.server_id, self.ctx.clock.now(), OBJECTS, EXTENSIONS, LANGS)

    async def handle(self, session: EppSession, data: bytes) -> Answer:
        sv_trid = self.sv_trid()
        root: etree._Element | None = None
        try:
            root = parse_frame(data)
            require_implemented(root, IMPLEMENTED_VERBS, OBJECTS, EXTENSIONS)
        except EppXmlError as exc:
            document = exc.root if exc.root is not None else root  # well-formed: it names its command
            if document is not None and exc.code != int(Result.UNKNOWN_COMMAND):
                stands = await self._report(session, document, CommandRefused(Result(exc.code), exc.message), sv_trid)
                if stands.result != exc.code:  # the registrar may not act at all now (blocked, inactive)
                    return Answer(response(int(stands.result), stands.message, exc.cl_trid, sv_trid), "invalid",
                                  int(stands.result))
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
        except CommandRefused as refused:
            exc = await self._report(session, root, refused, sv_trid)
            reply = Reply(code=exc.result, message=exc.message, value=result_value(root, exc),
                          close=exc.result in (Result.SESSION_LIMIT, Result.AUTHENTICATION_CLOSING))
        except Exception:  # never a dropped session without an answer: the database or broker failed under us
            log.exception("EPP command failed", extra={"command": verb, "sv_trid": sv_trid})
            reply = Reply(code=Result.COMMAND_FAILED, message="Command failed: the server could not complete it")
        return Answer(response(int(reply.code), reply.message, cl_trid, sv_trid, reply.res_data, reply.extension,
                               reply.msgq, poll_message=reply.poll_message, value=reply.value), verb, int(reply.code),
                      reply.close)

    async def _report(self, session: EppSession, root: etree._Element, refusal: CommandRefused,
                      sv_trid: str) -> CommandRefused:
        """Publish command.failed for a refusal of a logged-in session's object command that the command layer
        did not see (its own refusals are published already): bad input must cost what it costs on the web.
        Returns the refusal that stands (the registrar's standing comes first, as in the command layer)."""
        if refusal.published or not session.logged_in:
            return refusal
        identity = _identity(root)
        command_type = COMMAND_TYPES.get(identity[:2]) if identity else None
        if command_type is None or identity is None:
            return refusal
        base = session.actor()
        actor = Actor(base.registrar_id, base.user_id, base.channel, base.correlation_id, base.permissions,
                      reference=sv_trid)
        try:
            return await report_refusal(self.ctx, actor, command_type, identity[2], refusal)
        except Exception:  # the answer to the client matters more than the report; the log keeps it
            log.exception("could not publish command.failed", extra={"sv_trid": sv_trid})
            return refusal

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
            self._check_options(command)
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
        kind = _rate_class(verb, top)
        if kind in self.limiter.limits and not self.limiter.allow(actor.registrar_id, kind):
            raise CommandRefused(Result.SESSION_LIMIT,
                                 f"rate limit: at most {self.limiter.limits[kind]} {kind} commands per 60 seconds")
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
    def _check_options(login_el: etree._Element) -> None:
        """The login's language must be one the greeting offers (RFC 5730 2.9.1.1: 2102). The services it
        announces are not checked: a client may announce more than the server offers (many announce host-1.0
        or secDNS-1.0 always); a command on an object the server does not offer is refused with 2307."""
        lang = text(login_el.find(q(EPP, "options")), EPP, "lang")
        if lang is not None and lang not in LANGS:
            raise CommandRefused(Result.UNIMPLEMENTED_OPTION,
                                 f"language [{lang}] is not offered: the greeting offers {', '.join(LANGS)}")


def _rate_class(verb: str, top: etree._Element) -> str:
    """Which rate limit a command counts against: check-domain v2.0 (asked for with dnsbe:check/dnsbe:domain)
    has its own, lower one."""
    if verb == "check" and top.find(f"{q(EPP, 'extension')}/{q(DNSBE, 'ext')}/{q(DNSBE, 'check')}") is not None:
        return "check-v2"
    return verb


def _identity(root: etree._Element) -> tuple[str, str | None, str] | None:
    """(verb, object namespace, object name) of a frame, valid or not; None if it names no command."""
    top = next((c for c in root if isinstance(c.tag, str)), None)
    if top is None:
        return None
    if top.tag == q(EPP, "extension"):
        holder = top.find(f"{q(DNSBE, 'ext')}/{q(DNSBE, 'command')}")
        verb_el = next((c for c in holder if isinstance(c.tag, str) and c.tag != q(DNSBE, "clTRID")), None) \
            if holder is not None else None
        obj_el, namespace = verb_el, None
    elif top.tag == q(EPP, "command"):
        verb_el = next((c for c in top if isinstance(c.tag, str)), None)
        obj_el = next((c for c in verb_el if isinstance(c.tag, str)), None) if verb_el is not None else None
        namespace = etree.QName(obj_el).namespace if obj_el is not None else None
    else:
        return None
    if verb_el is None:
        return None
    name = next(((e.text or "").strip() for e in (obj_el.iter() if obj_el is not None else ())
                 if isinstance(e.tag, str) and etree.QName(e).localname in _OBJECT_KEYS), "")
    return etree.QName(verb_el).localname, namespace, name


_NAMESPACES = {prefix: namespace for namespace, prefix in PREFIX.items()}
_VALUE_CODES = (Result.REQUIRED_PARAMETER_MISSING, Result.PARAMETER_VALUE_SYNTAX, Result.OBJECT_DOES_NOT_EXIST)


def result_value(root: etree._Element, refusal: CommandRefused) -> ResultValue | None:
    """The element a 2003, 2005 or 2303 is about, for <value>/<extValue> (RFC 5730 2.6): the one the refusal
    names, else the object the command names (domain:name, contact:id ...). 2303 echoes it in <value> (as
    DNS Belgium does); 2003 and 2005 give the reason beside it in <extValue>."""
    if refusal.result not in _VALUE_CODES:
        return None
    reason = None if refusal.result is Result.OBJECT_DOES_NOT_EXIST else refusal.message
    if refusal.element:
        prefix, _, tag = refusal.element.partition(":")
        if prefix in _NAMESPACES and tag:
            return ResultValue(_NAMESPACES[prefix], prefix, tag, refusal.value, reason)
    key = _object_key(root)
    if key is None:
        return None
    namespace, tag, name = key
    return ResultValue(namespace, PREFIX[namespace], tag, name, reason)


def _object_key(root: etree._Element) -> tuple[str, str, str] | None:
    """(namespace, tag, text) of the element that names a frame's object (domain:name, dnsbe:domainName ...)."""
    for element in root.iter():
        if isinstance(element.tag, str) and etree.QName(element).localname in _OBJECT_KEYS:
            namespace = etree.QName(element).namespace or ""
            if namespace in PREFIX:
                return namespace, etree.QName(element).localname, (element.text or "").strip()
    return None


def obj_element(command: etree._Element) -> Any:
    """The object element inside an EPP verb (domain:create inside create)."""
    return command[0]
