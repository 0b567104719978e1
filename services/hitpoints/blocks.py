"""Blocking and unblocking (seed: hitpoints).

- Reaching 100 % of the limit blocks the registrar until BLOCK_HOURS (24) after its last faulty command.
  A faulty command scored while the block runs (one that was already on its way when the block began)
  pushes the end out to 24 hours after it. Refusals *because* of the block do not score (scoring.py), so
  they never extend it.
- The block ends by itself when its time is up (registrar.unblocked, EXPIRY, from the periodic job),
  by the registrar's self-unblock, or by an operator.
- Self-unblock: SELF_UNBLOCKS_PER_MONTH (1) per calendar month, Brussels time; it resets the day's
  counter to zero and raises the month's count by one. A second one in the month is refused with a
  message that tells the registrar to contact the registry. An operator can always unblock; it resets
  the counter too, or the next faulty command would find the registrar over its limit at once.

`tally` applies one run of scored commands to a counter and says what follows; it is pure, so the
handler applies a whole micro-batch with one counter write and the same outcome as one by one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from services.hitpoints.limits import crossed, level


@dataclass(frozen=True)
class Block:
    until: datetime
    exceeded_at: datetime


@dataclass(frozen=True)
class Warning:
    percent: int
    hitpoints: int
    at: datetime


@dataclass
class Tally:
    """What a run of scored commands did to a registrar's counter and block."""

    warnings: list[Warning] = field(default_factory=list)
    block: Block | None = None
    started: bool = False  # the limit was reached in this run (a new block)
    extended: bool = False  # a running block now ends later

    @property
    def block_changed(self) -> bool:
        return self.started or self.extended


def tally(
    before: int,
    scored: Sequence[tuple[datetime, int]],
    limit: int,
    percentages: Iterable[int],
    block_hours: float,
    current: Block | None,
) -> Tally:
    """`before`: the counter's value before the run; `scored`: (occurred_at, points) in the order applied;
    `current`: the block in force when the run began, if any (an ended one that the job has not yet
    lifted counts as none for commands after its end)."""
    hours = timedelta(hours=block_hours)
    percentages = tuple(percentages)
    result = Tally(block=current)
    total = before
    for at, points in scored:
        was, total = total, total + points
        for percent in crossed(was, total, limit, percentages):
            result.warnings.append(Warning(percent, total, at))
        block = result.block
        running = block is not None and block.until > at
        if running:
            assert block is not None
            if at + hours > block.until:
                result.block = Block(at + hours, block.exceeded_at)
                result.extended = result.extended or not result.started
        elif was < level(limit, 100) <= total:
            result.block = Block(at + hours, at)
            result.started, result.extended = True, False
    return result


def self_unblock_refusal(used: int, allowed: int) -> str:
    return (f"You have already unblocked your account yourself this month ({used} of {allowed} allowed). Find out "
            "why the hitpoint limit was exceeded, then contact the registry to have your account unblocked.")
