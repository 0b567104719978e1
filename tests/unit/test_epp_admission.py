"""Reads go first (epp/admission.py): writes beyond the limit wait their turn in arrival order, reads and session
commands never wait, and every route that changes something is one that takes a turn."""

from __future__ import annotations

import asyncio

from services.registry.epp.admission import WRITE_VERBS, WriteTurns
from services.registry.epp.dispatch import ROUTES

READ_OR_SESSION = {"check", "info", "login", "logout", "poll"}


async def test_a_read_passes_while_writes_wait() -> None:
    turns = WriteTurns(1)
    started: list[str] = []
    release = asyncio.Event()

    async def command(name: str, verb: str) -> None:
        async with turns.turn(verb):
            started.append(name)
            await release.wait()

    first = asyncio.create_task(command("create-1", "create"))
    await asyncio.sleep(0)
    second = asyncio.create_task(command("update-2", "update"))
    await asyncio.sleep(0)
    reads = [asyncio.create_task(command(f"{verb}-{n}", verb)) for n, verb in enumerate(("info", "check", "poll"))]
    await asyncio.sleep(0)
    assert started == ["create-1", "info-0", "check-1", "poll-2"]  # the update waits for the create's turn
    assert turns.waiting == 1
    release.set()
    await asyncio.gather(first, second, *reads)
    assert started[-1] == "update-2" and turns.waiting == 0


async def test_writes_take_turns_in_arrival_order() -> None:
    turns = WriteTurns(2)
    order: list[int] = []
    gate = asyncio.Event()

    async def write(n: int) -> None:
        async with turns.turn("create"):
            await gate.wait()
            order.append(n)

    tasks = [asyncio.create_task(write(n)) for n in range(5)]
    await asyncio.sleep(0)
    assert turns.waiting == 3
    gate.set()
    await asyncio.gather(*tasks)
    assert order == [0, 1, 2, 3, 4]


async def test_a_cancelled_waiter_gives_up_its_place() -> None:
    turns = WriteTurns(1)
    hold = asyncio.Event()

    async def write() -> None:
        async with turns.turn("delete"):
            await hold.wait()

    running, waiting = asyncio.create_task(write()), asyncio.create_task(write())
    await asyncio.sleep(0)
    waiting.cancel()
    await asyncio.sleep(0)
    assert turns.waiting == 0
    hold.set()
    await running
    async with turns.turn("create"):  # the turn came back: the next write starts at once
        pass


async def test_no_limit() -> None:
    turns = WriteTurns(0)
    async with turns.turn("create"), turns.turn("create"):  # nested: would deadlock with a limit of 1
        assert turns.waiting == 0


def test_every_route_that_changes_something_takes_a_turn() -> None:
    verbs = {verb for verb, _, _ in ROUTES}
    assert verbs - READ_OR_SESSION <= WRITE_VERBS
    assert not READ_OR_SESSION & WRITE_VERBS
