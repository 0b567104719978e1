"""Months, quarters and days on Brussels time (the registry's calendar)."""

from __future__ import annotations

import re
from datetime import datetime

from shared.clock import brussels

QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")


def month_of(instant: datetime) -> str:
    return brussels(instant).strftime("%Y-%m")


def day_of(instant: datetime) -> str:
    return brussels(instant).strftime("%Y-%m-%d")


def quarter_of(instant: datetime) -> str:
    local = brussels(instant)
    return f"{local.year}-Q{(local.month - 1) // 3 + 1}"


def previous_quarter(instant: datetime) -> str:
    local = brussels(instant)
    q = (local.month - 1) // 3  # 0-based current quarter
    return f"{local.year - 1}-Q4" if q == 0 else f"{local.year}-Q{q}"


def months_of(quarter: str) -> list[str]:
    """The three months of '2026-Q3' as YYYY-MM; ValueError for anything else."""
    m = QUARTER.match(quarter)
    if not m:
        raise ValueError(f"not a quarter: {quarter!r} (expected YYYY-Qn)")
    year, q = int(m.group(1)), int(m.group(2))
    return [f"{year}-{3 * (q - 1) + i:02d}" for i in (1, 2, 3)]


def compact(quarter: str) -> str:
    """'2026-Q3' as the raw-data file names write it: '2026Q3' (digest 6.1)."""
    return quarter.replace("-", "")


def previous_month(month: str) -> str:
    year, m = int(month[:4]), int(month[5:7])
    return f"{year - 1}-12" if m == 1 else f"{year}-{m - 1:02d}"


def renewal_month(expires_at: datetime) -> str:
    """The month a renewal is for: the registry renews a name on the 1st of the month after its anniversary,
    for a year (services/registry/domains/renewal.py), so the renewal belongs to the anniversary month, the month of
    the new expiry one year earlier (the invoice month of the daily report)."""
    month = month_of(expires_at)
    return f"{int(month[:4]) - 1}{month[4:]}"


def brussels_last_month(instant: datetime) -> str:
    """The calendar month before the one `instant` falls in (Top 30 counts the last month)."""
    return previous_month(month_of(instant))
