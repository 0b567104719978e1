"""One read for many waiters: callers that need the same thing while a read of it is in flight wait for that read
instead of sending their own (50 EPP sessions starting at once read their registrar's standing once, not 50 times
queued behind each other in the database).

The read runs in a task of its own, in an empty context: a caller that gives up (its command cancelled, its client
gone) does not cancel the read the others wait for, and the read does not see the first caller's context (its
transaction, its command's context variables)."""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class SingleFlight(Generic[K, V]):
    """The reads in flight, by key."""

    def __init__(self) -> None:
        self._flights: dict[K, asyncio.Task[V]] = {}

    def in_flight(self, key: K) -> bool:
        return key in self._flights

    def start(self, key: K, read: Callable[[], Awaitable[V]]) -> asyncio.Task[V]:
        """The read of `key` in flight, begun now if none is."""
        flight = self._flights.get(key)
        if flight is None:
            flight = self._flights[key] = asyncio.create_task(_awaited(read), context=contextvars.Context())
            flight.add_done_callback(lambda task: self._landed(key, task))
        return flight

    async def run(self, key: K, read: Callable[[], Awaitable[V]]) -> V:
        """What the read of `key` in flight (or begun now) returns, or raises."""
        return await asyncio.shield(self.start(key, read))

    def _landed(self, key: K, task: asyncio.Task[V]) -> None:
        if self._flights.get(key) is task:
            del self._flights[key]
        if not task.cancelled():
            task.exception()  # retrieved, even when every caller gave up: not logged as never retrieved


async def _awaited(read: Callable[[], Awaitable[V]]) -> V:
    # the read's awaitable is made inside the task, so it belongs to the task's context
    return await read()
