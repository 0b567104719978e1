"""A registrar's standing as the command layer checks it before every command (commands.check_standing): its
status, its hitpoints block, its products, and the balance a paying command's conditional debit starts from.

The web's requests and the EPP sessions of a registrar share this process's copy of the document
(`shared_standing`) for a short while (EPP_STANDING_SECONDS) instead of reading it before each command: a
registrar sends many commands a second, and that read was a round trip of every one; commands that find the copy
stale at the same moment wait for one read together (50 sessions starting at once read it once, not 50 times).
What the staleness allows: a suspension or a hitpoints block made on another replica (or straight in the
database) reaches a session's commands at most that long after it was written; one this process applies
(blocks.py, operator.py, onboarding.py) reaches them at once, through `changed`. The balance is never trusted
from it: the debit is conditional on the balance it names and re-read in the transaction when that is stale
(registrars/money.py), so a stale copy costs a round trip, never an overdraw.
"""

from __future__ import annotations

import asyncio
import contextvars
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from shared.runtime import ServiceContext

Document = dict[str, Any]
# what check_standing reads: products ride along for domain creates, balance and standing order for debits
STANDING_FIELDS = {"status": 1, "blocked_until": 1, "products": 1, "balance_cents": 1, "standing_order": 1}


def _generations(ctx: ServiceContext) -> dict[str, int]:
    generations: dict[str, int] = ctx.extras.setdefault("standing_generations", {})
    return generations


def changed(ctx: ServiceContext, registrar_id: str | None) -> None:
    """This process changed the registrar's standing: copies read before now are stale. Called once the change
    committed (Tx.after_commit), or also then: a copy read while it was being committed still holds the old one."""
    if registrar_id is not None:
        generations = _generations(ctx)
        generations[registrar_id] = generations.get(registrar_id, 0) + 1


@dataclass
class StandingCache:
    """A copy of a registrar's standing document, when it was read, and the read in flight (if any)."""

    max_age: float
    doc: Document | None = None
    read_at: float = 0.0
    generation: int = 0
    # (registrar, generation, the read): a command finding the copy stale joins a read of the same generation
    reading: tuple[str, int, asyncio.Future[Document | None]] | None = None

    async def get(self, ctx: ServiceContext, registrar_id: str,
                  read: Callable[[], Awaitable[Document | None]]) -> Document | None:
        """The standing document: the copy while fresh, else the read in flight, else read (and kept)."""
        generation = _generations(ctx).get(registrar_id, 0)
        now = time.monotonic()
        doc = self.doc
        if doc is not None and doc.get("_id") == registrar_id and generation == self.generation \
                and now - self.read_at < self.max_age:
            if now - self.read_at >= self.max_age / 2 and self.reading is None:
                # past half its age: read the next copy now, in the background, so that the commands of a
                # registrar that keeps sending find a fresh one instead of waiting for the read when this expires
                refresh = asyncio.create_task(self._read(registrar_id, generation, now, read),
                                              context=contextvars.Context())
                refresh.add_done_callback(lambda task: task.cancelled() or task.exception())
            return doc
        if self.max_age <= 0:  # no copy is kept: each command reads its own
            return await read()
        if self.reading is not None and self.reading[:2] == (registrar_id, generation):
            # began before this command, no change of this process since: as fresh as a read of its own
            flight = self.reading[2]
            try:
                return await asyncio.shield(flight)
            except asyncio.CancelledError:
                if not flight.cancelled():
                    raise  # this command was cancelled, not the read it joined
            return await read()  # the command that began the read was cancelled: this one reads
        return await self._read(registrar_id, generation, now, read)

    async def _read(self, registrar_id: str, generation: int, now: float,
                    read: Callable[[], Awaitable[Document | None]]) -> Document | None:
        ours: asyncio.Future[Document | None] = asyncio.get_running_loop().create_future()
        self.reading = (registrar_id, generation, ours)
        try:
            doc = await read()
        except asyncio.CancelledError:
            ours.cancel()
            raise
        except BaseException as exc:
            ours.set_exception(exc)
            ours.exception()  # retrieved: a read nobody joined must not be logged as unhandled
            raise
        else:
            ours.set_result(doc)
        finally:
            if self.reading is not None and self.reading[2] is ours:
                self.reading = None
        # the generation and clock from before the read: a change applied while it was in flight makes it stale
        if generation >= self.generation:
            self.doc, self.read_at, self.generation = doc, now, generation
        return doc


def shared_standing(ctx: ServiceContext, registrar_id: str) -> StandingCache:
    """This process's copy of the registrar's standing, shared by its web requests and EPP sessions: each sees
    a change at most EPP_STANDING_SECONDS late (this process's own at once, through `changed`)."""
    copies: dict[str, StandingCache] = ctx.extras.setdefault("standing_copies", {})
    copy = copies.get(registrar_id)
    if copy is None:
        copy = copies[registrar_id] = StandingCache(ctx.settings.epp_standing_seconds)  # type: ignore[attr-defined]
    return copy
