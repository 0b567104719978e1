"""One injectable clock for every rule that depends on time.

Registry rules run on Brussels time (midnight resets, calendar months, month-end renewals); events and
storage use UTC. Tests move time with ManualClock instead of sleeping.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

BRUSSELS = ZoneInfo("Europe/Brussels")


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware, in UTC."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


def purge_after(expires_at: datetime, lifetime: timedelta) -> datetime:
    """When MongoDB's TTL monitor may delete a record whose expiry the service judges on its own clock.

    The monitor runs on the wall clock; a service on a moved clock (ManualClock in tests, set to a past
    date) would have its live records deleted under it within the minute. The later of the two keeps a
    record until it has lapsed on both clocks; with the system clock both are the same instant."""
    return max(expires_at, datetime.now(UTC) + lifetime)


class ManualClock:
    """A clock that only moves when told to."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("ManualClock needs a timezone-aware start")
        self._now = start.astimezone(UTC)

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> datetime:
        self._now += delta
        return self._now

    def set(self, instant: datetime) -> None:
        if instant.tzinfo is None:
            raise ValueError("ManualClock needs timezone-aware instants")
        self._now = instant.astimezone(UTC)


def brussels(instant: datetime) -> datetime:
    return instant.astimezone(BRUSSELS)


def next_brussels_midnight(instant: datetime) -> datetime:
    """The first 00:00 Brussels time strictly after `instant`, in UTC (DST-safe: built from the local date)."""
    local_next_day = brussels(instant).date() + timedelta(days=1)
    midnight = datetime(local_next_day.year, local_next_day.month, local_next_day.day, tzinfo=BRUSSELS)
    return midnight.astimezone(UTC)


def brussels_month(instant: datetime) -> str:
    """The calendar month, Brussels time, as YYYY-MM (the key of monthly allowances)."""
    return brussels(instant).strftime("%Y-%m")


def brussels_month_start(instant: datetime) -> datetime:
    """00:00 Brussels time on the first day of the calendar month `instant` falls in, in UTC."""
    local = brussels(instant)
    return datetime(local.year, local.month, 1, tzinfo=BRUSSELS).astimezone(UTC)


def brussels_month_start_after(instant: datetime, months: int) -> datetime:
    """00:00 Brussels time on the first day of the month `months` calendar months after `instant`'s, in UTC."""
    local = brussels(instant)
    year, month = divmod(local.month - 1 + months, 12)
    return datetime(local.year + year, month + 1, 1, tzinfo=BRUSSELS).astimezone(UTC)


def one_year_after(instant: datetime) -> datetime:
    """The same instant a year on (a registration period); 29 February becomes 28 February."""
    try:
        return instant.replace(year=instant.year + 1)
    except ValueError:
        return instant.replace(year=instant.year + 1, day=28)
