"""A registrar's standing as the command layer checks it before every command (commands.check_standing): its
status, its hitpoints block, its products, and the balance a paying command's conditional debit starts from.

The web's requests and the EPP sessions of a registrar share this process's copy of the document
(`shared_standing`) for a short while (EPP_STANDING_SECONDS) instead of reading it before each command: a
registrar sends many commands a second, and that read was a round trip of every one; commands that find the copy
stale at the same moment wait for one read together (single_flight.py).
What the staleness allows: a suspension or a hitpoints block made on another replica (or straight in the
database) reaches a session's commands at most that long after it was written; one this process applies
(blocks.py, operator.py, onboarding.py) reaches them at once, through `changed`. The balance is never trusted
from it: the debit is conditional on the balance it names and re-read in the transaction when that is stale
(registrars/money.py), so a stale copy costs a round trip, never an overdraw.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from services.registry.single_flight import SingleFlight
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
    """A copy of a registrar's standing document, when it was read, and the reads in flight."""

    max_age: float
    doc: Document | None = None
    read_at: float = 0.0
    generation: int = 0
    # by (registrar, generation): a command finding the copy stale joins a read of the same generation, one begun
    # after this process's last change of the standing
    reads: SingleFlight[tuple[str, int], Document | None] = field(default_factory=SingleFlight)

    async def get(self, ctx: ServiceContext, registrar_id: str,
                  read: Callable[[], Awaitable[Document | None]]) -> Document | None:
        """The standing document: the copy while fresh, else the read in flight, else read (and kept)."""
        generation = _generations(ctx).get(registrar_id, 0)
        now = time.monotonic()
        doc = self.doc
        if doc is not None and doc.get("_id") == registrar_id and generation == self.generation \
                and now - self.read_at < self.max_age:
            if now - self.read_at >= self.max_age / 2 and not self.reads.in_flight((registrar_id, generation)):
                # past half its age: read the next copy now, in the background, so that the commands of a
                # registrar that keeps sending find a fresh one instead of waiting for the read when this expires
                self._read(registrar_id, generation, read)
            return doc
        if self.max_age <= 0:  # no copy is kept: each command reads its own
            return await read()
        return await asyncio.shield(self._read(registrar_id, generation, read))

    def _read(self, registrar_id: str, generation: int,
              read: Callable[[], Awaitable[Document | None]]) -> asyncio.Task[Document | None]:
        """The read of this generation in flight, begun now if none is; what it reads is kept."""

        async def read_and_keep() -> Document | None:
            began = time.monotonic()
            doc = await read()
            # the generation and clock from before the read: a change applied while it was in flight makes it stale
            if generation >= self.generation:
                self.doc, self.read_at, self.generation = doc, began, generation
            return doc

        return self.reads.start((registrar_id, generation), read_and_keep)


def shared_standing(ctx: ServiceContext, registrar_id: str) -> StandingCache:
    """This process's copy of the registrar's standing, shared by its web requests and EPP sessions: each sees
    a change at most EPP_STANDING_SECONDS late (this process's own at once, through `changed`)."""
    copies: dict[str, StandingCache] = ctx.extras.setdefault("standing_copies", {})
    copy = copies.get(registrar_id)
    if copy is None:
        copy = copies[registrar_id] = StandingCache(ctx.settings.epp_standing_seconds)  # type: ignore[attr-defined]
    return copy
