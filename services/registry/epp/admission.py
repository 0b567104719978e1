"""Reads go first: at most EPP_WRITES_IN_FLIGHT commands that change something run at once in this process; the
others wait their turn (first come, first served) before they start, while checks, infos and session commands
never wait here.

Why: the registry is one event loop. A write (create: a dozen round trips, a transaction, events) costs several
times a read's CPU, here and in the database, and every running command's steps take turns on the loop: with many
writes under way a read's few steps each queue behind all of theirs. Holding the surplus writes back before they
start keeps that queue short; they lose nothing that matters, as one registrar's paying writes take turns on its
balance anyway (registrars/money.py), and a few in flight are enough to keep the database busy.

It is per process on purpose: what it shares out is this process's event loop. The session cap and the rate limits,
which must hold across replicas, are counted in MongoDB (registrars/epp_limits.py)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

# what changes an object (or, for a transfer, may): these take turns; everything else is a read or a session command
WRITE_VERBS = frozenset({"create", "update", "delete", "transfer", "renew", "undelete", "reactivate",
                         "requestAuthCode"})


class WriteTurns:
    """Turns for writes; limit 0 means no limit (every write starts at once, as reads do)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._turns = asyncio.Semaphore(limit) if limit > 0 else None
        self.waiting = 0  # writes held back now (for the tests and the metrics)

    @contextlib.asynccontextmanager
    async def turn(self, verb: str) -> AsyncIterator[None]:
        if self._turns is None or verb not in WRITE_VERBS:
            yield
            return
        self.waiting += 1
        try:
            await self._turns.acquire()
        finally:
            self.waiting -= 1
        try:
            yield
        finally:
            self._turns.release()
