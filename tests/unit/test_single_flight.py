"""services/registry/single_flight.py: callers that need the same thing at once wait for one read."""

from __future__ import annotations

import asyncio
import gc
from contextvars import ContextVar

import pytest

from services.registry.single_flight import SingleFlight

COMMAND: ContextVar[str | None] = ContextVar("command", default=None)


class Reads:
    """A read that waits until released, counting how often it ran and what context it saw."""

    def __init__(self) -> None:
        self.count = 0
        self.release = asyncio.Event()
        self.seen: list[str | None] = []
        self.fail = False

    async def __call__(self) -> int:
        self.count += 1
        self.seen.append(COMMAND.get())
        await self.release.wait()
        if self.fail:
            raise ConnectionError("the database is away")
        return self.count


async def test_callers_of_the_same_key_at_once_share_one_read_in_its_own_context() -> None:
    flights: SingleFlight[str, int] = SingleFlight()
    reads = Reads()
    COMMAND.set("the first caller's")
    waiting = [asyncio.create_task(flights.run("a100001", reads)) for _ in range(5)]
    other = asyncio.create_task(flights.run("a100002", reads))
    await asyncio.sleep(0)
    assert flights.in_flight("a100001")
    reads.release.set()
    assert await asyncio.gather(*waiting) == [1] * 5 and await other == 2
    assert reads.count == 2 and reads.seen == [None, None]  # not the caller's context
    assert not flights.in_flight("a100001")
    assert await flights.run("a100001", reads) == 3  # landed: the next caller reads again


async def test_a_caller_that_gives_up_does_not_cancel_the_read_the_others_wait_for() -> None:
    flights: SingleFlight[str, int] = SingleFlight()
    reads = Reads()
    first = asyncio.create_task(flights.run("a100001", reads))
    await asyncio.sleep(0)
    second = asyncio.create_task(flights.run("a100001", reads))
    await asyncio.sleep(0)
    first.cancel()
    await asyncio.sleep(0)
    reads.release.set()
    assert await second == 1 and reads.count == 1
    with pytest.raises(asyncio.CancelledError):
        await first


async def test_a_failed_read_fails_its_callers_and_is_not_kept() -> None:
    flights: SingleFlight[str, int] = SingleFlight()
    reads = Reads()
    reads.fail = True
    waiting = [asyncio.create_task(flights.run("a100001", reads)) for _ in range(3)]
    await asyncio.sleep(0)
    reads.release.set()
    results = await asyncio.gather(*waiting, return_exceptions=True)
    assert all(isinstance(r, ConnectionError) for r in results) and reads.count == 1
    reads.fail = False
    assert await flights.run("a100001", reads) == 2


async def test_a_read_begun_and_never_awaited_is_not_logged_as_unretrieved(caplog: pytest.LogCaptureFixture) -> None:
    flights: SingleFlight[str, int] = SingleFlight()
    reads = Reads()
    reads.fail = True
    task = flights.start("a100001", reads)  # a background refresh: nobody awaits it
    reads.release.set()
    await asyncio.sleep(0.01)
    assert task.done() and not flights.in_flight("a100001")
    del task
    gc.collect()
    assert "never retrieved" not in caplog.text
