"""One EPP frame in, one response out: the frame is parsed (and validated) once, routed by ONE table (command x
object x extension -> handler), and a refusal turned into the EPP result.

Every object command runs as the session's registrar through the registry's command layer, so its failures
publish command.failed (and feed hitpoints) like the web's; refusals the EPP layer raises itself before that
(schema, policy checks of the XML) are published here, once, under the command type of the route."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

from lxml import etree

from services.registry.commands import report_refusal
from services.registry.epp import contact_commands, domain_commands, group_commands, poll_commands
from services.registry.epp import session_commands as sessions_
from services.registry.epp.admission import WriteTurns
from services.registry.epp.call import Call, Handler, on_object
from services.registry.epp.ns import (
    CONTACT,
    DNSBE,
    DOMAIN,
    EPP,
    EXTENSIONS,
    KEYGROUP,
    LANGS,
    NSGROUP,
    OBJECTS,
    PREFIX,
    q,
)
from services.registry.epp.reply import Reply
from services.registry.epp.session import EppSession
from services.registry.epp.xml import (
    Command,
    EppXmlError,
    ResultValue,
    command_of,
    greeting,
    parse_frame,
    refuse_unimplemented,
    response,
)
from services.registry.registrars.epp_limits import RateLimiter, SessionTable
from services.registry.results import CommandRefused, Result
from shared.events import CommandType
from shared.runtime import ServiceContext

log = logging.getLogger(__name__)

# the third part of a route's key: how the command came (None: a plain <command>)
DNSBE_COMMAND = "dnsbe:command"  # <epp><extension><dnsbe:ext><dnsbe:command>: DNS Belgium's own commands
CHECK_V2 = "dnsbe:check"  # check-domain v2.0, asked for with dnsbe:ext/dnsbe:check (its own, lower rate limit)


@dataclass(frozen=True)
class Route:
    handler: Handler
    # what a refusal is published as (what the hitpoints screen shows); None: not published
    command_type: CommandType | None = None
    # the rate limit the command counts against (EPP_RATE_LIMITS: a verb has one if the settings name it)
    rate_class: str | None = None  # None: the verb's
    logged_in: bool = True  # only after a login
    rate_limited: bool = True  # login and logout never are


def _refused(code: Result, message: str) -> Handler:
    async def refuse(call: Call) -> Reply:
        raise CommandRefused(code, message)

    return refuse


T = CommandType
ROUTES: dict[tuple[str, str | None, str | None], Route] = {
    ("login", None, None): Route(sessions_.login, logged_in=False, rate_limited=False),
    ("logout", None, None): Route(sessions_.logout, rate_limited=False),
    ("poll", None, None): Route(on_object(poll_commands.poll)),
    # domains (RFC 5731 with dnsbe-1.0)
    ("check", DOMAIN, None): Route(on_object(domain_commands.check), T.CHECK_DOMAIN),
    ("check", DOMAIN, CHECK_V2): Route(on_object(domain_commands.check), T.CHECK_DOMAIN, "check-v2"),
    ("info", DOMAIN, None): Route(on_object(domain_commands.info), T.INFO_DOMAIN),
    ("create", DOMAIN, None): Route(on_object(domain_commands.create), T.NEW_DOMAIN),
    ("update", DOMAIN, None): Route(on_object(domain_commands.update), T.UPD_DOMAIN),
    ("delete", DOMAIN, None): Route(on_object(domain_commands.delete), T.DEL_DOMAIN),
    ("transfer", DOMAIN, None): Route(on_object(domain_commands.transfer), T.TRANSFER_DOMAIN),
    ("renew", DOMAIN, None): Route(_refused(Result.UNIMPLEMENTED_COMMAND,
                                            "renew is not implemented: renewal is automatic")),
    ("undelete", DOMAIN, None): Route(on_object(domain_commands.undelete), T.UNDELETE_DOMAIN),
    ("reactivate", DOMAIN, None): Route(on_object(domain_commands.reactivate), T.REACTIVATE_DOMAIN),
    ("undelete", None, DNSBE_COMMAND): Route(on_object(domain_commands.undelete), T.UNDELETE_DOMAIN),
    ("reactivate", None, DNSBE_COMMAND): Route(on_object(domain_commands.reactivate), T.REACTIVATE_DOMAIN),
    ("requestAuthCode", None, DNSBE_COMMAND): Route(on_object(domain_commands.request_auth_code),
                                                    T.REQUEST_AUTHCODE),
    # contacts (RFC 5733 with dnsbe-1.0)
    ("check", CONTACT, None): Route(on_object(contact_commands.check), T.CHECK_CONTACT),
    ("info", CONTACT, None): Route(on_object(contact_commands.info), T.INFO_CONTACT),
    ("create", CONTACT, None): Route(on_object(contact_commands.create), T.NEW_CONTACT),
    ("update", CONTACT, None): Route(on_object(contact_commands.update), T.UPD_CONTACT),
    ("delete", CONTACT, None): Route(on_object(contact_commands.delete), T.DEL_CONTACT),
    # DNS Belgium's name-server groups and key groups (a check is a read like info: no check type exists)
    ("check", NSGROUP, None): Route(on_object(group_commands.check), T.INFO_NSGROUP),
    ("info", NSGROUP, None): Route(on_object(group_commands.info), T.INFO_NSGROUP),
    ("create", NSGROUP, None): Route(on_object(group_commands.create), T.NEW_NSGROUP),
    ("update", NSGROUP, None): Route(on_object(group_commands.update), T.UPD_NSGROUP),
    ("delete", NSGROUP, None): Route(on_object(group_commands.delete), T.DEL_NSGROUP),
    ("check", KEYGROUP, None): Route(on_object(group_commands.check), T.INFO_KEYGROUP),
    ("info", KEYGROUP, None): Route(on_object(group_commands.info), T.INFO_KEYGROUP),
    ("create", KEYGROUP, None): Route(on_object(group_commands.create), T.NEW_KEYGROUP),
    ("update", KEYGROUP, None): Route(on_object(group_commands.update), T.UPD_KEYGROUP),
    ("delete", KEYGROUP, None): Route(on_object(group_commands.delete), T.DEL_KEYGROUP),
}
# what a valid frame may ask for; anything else is 2101 (verb), 2307 (object) or 2103 (extension), RFC 5730
IMPLEMENTED_VERBS = frozenset(verb for verb, _, _ in ROUTES)


def route_key(command: Command) -> tuple[str, str | None, str | None]:
    if command.dnsbe:
        return command.verb, None, DNSBE_COMMAND
    extension = command.extension
    if command.verb == "check" and extension is not None \
            and extension.find(f"{q(DNSBE, 'ext')}/{q(DNSBE, 'check')}") is not None:
        return command.verb, command.object_ns, CHECK_V2
    return command.verb, command.object_ns, None


def route_of(command: Command) -> Route | None:
    return ROUTES.get(route_key(command))


@dataclass
class Answer:
    data: bytes
    command: str
    code: int
    close: bool = False


class Dispatcher:
    def __init__(self, ctx: ServiceContext, sessions: SessionTable, limiter: RateLimiter, server_id: str,
                 prefix: str, write_turns: WriteTurns | None = None) -> None:
        self.ctx, self.sessions, self.limiter, self.server_id, self.prefix = ctx, sessions, limiter, server_id, prefix
        self.write_turns = write_turns or WriteTurns(0)

    def sv_trid(self) -> str:
        return f"{self.prefix}-{uuid.uuid4().hex[:20]}"

    def greeting(self) -> bytes:
        return greeting(self.server_id, self.ctx.clock.now(), OBJECTS, EXTENSIONS, LANGS)

    async def handle(self, session: EppSession, data: bytes) -> Answer:
        sv_trid = self.sv_trid()
        command: Command | None = None
        try:
            root = parse_frame(data)
            command = command_of(root)
            if command is not None:
                refuse_unimplemented(command, IMPLEMENTED_VERBS, OBJECTS, EXTENSIONS)
        except EppXmlError as exc:
            # a well-formed frame still names its command: its refusal is reported under it
            named = command or (command_of(exc.root) if exc.root is not None else None)
            if named is not None and exc.code != int(Result.UNKNOWN_COMMAND):
                stands = await self._report(session, named, CommandRefused(Result(exc.code), exc.message), sv_trid)
                if stands.result != exc.code:  # the registrar may not act at all now (blocked, inactive)
                    return Answer(response(int(stands.result), stands.message, exc.cl_trid, sv_trid), "invalid",
                                  int(stands.result))
            return Answer(response(exc.code, exc.message, exc.cl_trid, sv_trid), "invalid", exc.code)
        if command is None:
            if root[0].tag == q(EPP, "hello"):
                return Answer(self.greeting(), "hello", 1000)
            return Answer(response(2001, "Command syntax error: not a command", None, sv_trid), "invalid", 2001)
        try:
            reply = await self._run(session, command, sv_trid)
        except CommandRefused as refused:
            stands = await self._report(session, command, refused, sv_trid)
            reply = Reply(code=stands.result, message=stands.message, value=result_value(command, stands),
                          close=stands.result in (Result.SESSION_LIMIT, Result.AUTHENTICATION_CLOSING))
        except Exception:  # never a dropped session without an answer: the database or broker failed under us
            log.exception("EPP command failed", extra={"command": command.verb, "sv_trid": sv_trid})
            reply = Reply(code=Result.COMMAND_FAILED, message="Command failed: the server could not complete it")
        return Answer(response(int(reply.code), reply.message, command.cl_trid, sv_trid, reply.res_data,
                               reply.extension, reply.msgq, poll_message=reply.poll_message, value=reply.value),
                      command.verb, int(reply.code), reply.close)

    async def _run(self, session: EppSession, command: Command, sv_trid: str) -> Reply:
        route = route_of(command)
        if not session.logged_in and (route is None or route.logged_in):
            raise CommandRefused(Result.COMMAND_USE, "log in first")
        if route is None:
            raise CommandRefused(Result.UNIMPLEMENTED_COMMAND, f"{command.verb} of this object is not implemented")
        kind = route.rate_class or command.verb
        if route.rate_limited and session.registrar_id is not None \
                and not await self.limiter.allow(session.registrar_id, kind):
            raise CommandRefused(Result.SESSION_LIMIT,
                                 f"rate limit: at most {self.limiter.limits[kind]} {kind} commands per 60 seconds")
        async with self.write_turns.turn(command.verb):  # reads go first (epp/admission.py)
            return await route.handler(Call(self.ctx, session, self.sessions, command, sv_trid))

    async def _report(self, session: EppSession, command: Command, refusal: CommandRefused,
                      sv_trid: str) -> CommandRefused:
        """Publish command.failed for a refusal of a logged-in session's object command that the command layer
        did not see (its own refusals are published already): bad input must cost what it costs on the web.
        Returns the refusal that stands (the registrar's standing comes first, as in the command layer)."""
        route = route_of(command)
        if refusal.published or not session.logged_in or route is None or route.command_type is None:
            return refusal
        try:
            return await report_refusal(self.ctx, session.actor(reference=sv_trid), route.command_type,
                                        command.object_name, refusal)
        except Exception:  # the answer to the client matters more than the report; the log keeps it
            log.exception("could not publish command.failed", extra={"sv_trid": sv_trid})
            return refusal


_NAMESPACES = {prefix: namespace for namespace, prefix in PREFIX.items()}
_VALUE_CODES = (Result.REQUIRED_PARAMETER_MISSING, Result.PARAMETER_VALUE_SYNTAX, Result.OBJECT_DOES_NOT_EXIST)
_OBJECT_KEYS = {"name", "id", "domainName"}


def result_value(command: Command, refusal: CommandRefused) -> ResultValue | None:
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
    holder = command.object if command.object is not None else command.element
    for element in holder.iter():
        if isinstance(element.tag, str) and etree.QName(element).localname in _OBJECT_KEYS:
            namespace = etree.QName(element).namespace or ""
            if namespace in PREFIX:
                return ResultValue(namespace, PREFIX[namespace], etree.QName(element).localname,
                                   (element.text or "").strip(), reason)
    return None
