"""What a handler of the routing table (epp/dispatch.py) is given for one command."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from lxml import etree

from services.registry.commands import Actor
from services.registry.epp.reply import Reply
from services.registry.epp.session import EppSession
from services.registry.registrars.epp_limits import SessionTable
from services.registry.epp.xml import Command
from services.registry.results import CommandRefused, Result
from shared.runtime import ServiceContext


@dataclass(frozen=True)
class Call:
    ctx: ServiceContext
    session: EppSession
    sessions: SessionTable
    command: Command
    sv_trid: str

    @property
    def actor(self) -> Actor:
        """The session's registrar, acting under this command's svTRID (only once logged in)."""
        return self.session.actor(reference=self.sv_trid)


Handler = Callable[[Call], Awaitable[Reply]]
ObjectHandler = Callable[[ServiceContext, Actor, Command], Awaitable[Reply]]


def on_object(handler: ObjectHandler) -> Handler:
    """An object command's handler takes the registry context, the actor and the command."""

    async def call(c: Call) -> Reply:
        return await handler(c.ctx, c.actor, c.command)

    return call


def object_of(command: Command) -> etree._Element:
    """The object element of an object command (domain:create inside create): the schema makes it present."""
    if command.object is None:
        raise CommandRefused(Result.COMMAND_SYNTAX, f"{command.verb}: the object element is missing")
    return command.object
