"""A registrar's standing as the command layer checks it before every command (commands.check_standing): its
status, its hitpoints block, its products, and the balance a paying command's conditional debit starts from.

An EPP session may keep the document it read for a short while (EPP_STANDING_SECONDS) instead of reading it
before each command: a session sends many commands a second, and that read was a round trip of every one.
What the staleness allows: a suspension or a hitpoints block made on another replica (or straight in the
database) reaches a session's commands at most that long after it was written; one this process applies
(blocks.py, operator.py, onboarding.py) reaches them at once, through `changed`. The balance is never trusted
from it: the debit is conditional on the balance it names and re-read in the transaction when that is stale
(registrars/money.py), so a stale copy costs a round trip, never an overdraw.
"""

from __future__ import annotations

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
    """One EPP session's copy of its registrar's standing document, and when it was read."""

    max_age: float
    doc: Document | None = None
    read_at: float = 0.0
    generation: int = 0

    async def get(self, ctx: ServiceContext, registrar_id: str,
                  read: Callable[[], Awaitable[Document | None]]) -> Document | None:
        """The standing document: this session's copy while fresh, else read (and kept)."""
        generation = _generations(ctx).get(registrar_id, 0)
        now = time.monotonic()
        doc = self.doc
        if doc is not None and doc.get("_id") == registrar_id and generation == self.generation \
                and now - self.read_at < self.max_age:
            return doc
        doc = await read()
        # the generation and clock from before the read: a change applied while it was in flight makes it stale
        self.doc, self.read_at, self.generation = doc, now, generation
        return doc
