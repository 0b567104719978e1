"""The periods the hitpoint rules count in, on Brussels time (CET/CEST): the day (counters are cleared and
limits recalculated at 00:00) and the calendar month (one self-unblock each).

A day or month is named by its Brussels date ("2026-11-05", "2026-11"), so a counter is keyed by the
day it belongs to and "clearing at midnight" needs no write: the first faulty command after midnight
opens the new day's counter at zero. DST days (23 or 25 hours) are handled by building instants from
local dates.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from shared.clock import BRUSSELS, brussels, brussels_month


def day_of(instant: datetime) -> str:
    """The Brussels calendar day an instant falls in, as YYYY-MM-DD."""
    return brussels(instant).date().isoformat()


def month_of(instant: datetime) -> str:
    """The Brussels calendar month an instant falls in, as YYYY-MM."""
    return brussels_month(instant)


def day_start(day: str) -> datetime:
    """00:00 Brussels time of the day, in UTC."""
    d = date.fromisoformat(day)
    return datetime(d.year, d.month, d.day, tzinfo=BRUSSELS).astimezone(UTC)


def next_day_start(day: str) -> datetime:
    d = date.fromisoformat(day) + timedelta(days=1)
    return datetime(d.year, d.month, d.day, tzinfo=BRUSSELS).astimezone(UTC)


def month_end(month: str) -> datetime:
    """The instant the month's self-unblock allowance is renewed: 00:00 Brussels on the next month's first day."""
    year, number = (int(part) for part in month.split("-"))
    year, number = (year + 1, 1) if number == 12 else (year, number + 1)
    return datetime(year, number, 1, tzinfo=BRUSSELS).astimezone(UTC)
