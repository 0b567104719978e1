"""Registration ages for the quarterly report's portfolio (digest 6.1: registrations per age, renewal age,
delete age, the renewal rate per registration age), from the month a name was registered in (its cohort,
YYYY-MM on Brussels time): pure rules.

- An active registration's age at a month's end is the whole years it has completed by then: a name
  registered in September 2025 is 1 at the end of September 2026, whatever the day.
- A renewal or a delete is keyed by the anniversary it decides (1: the first): a renewal by the anniversary
  month it renews (periods.renewal_month); a delete by the first anniversary month at or after the month
  it took effect (a name deleted before its first anniversary, or in that month before the renewal on the
  1st of the next, was not renewed at 1). So the renewal rate per age sets like against like.

UNKNOWN: the name's registration date was not known when the event was applied (its domain.created had not
arrived), or the counter is from before ages were kept (key "").
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

UNKNOWN = "unknown"


def _index(month: str) -> int:
    return int(month[:4]) * 12 + int(month[5:7]) - 1


def age_at(cohort: str, month: str) -> str | None:
    """The whole years a registration of `cohort` has completed at the end of `month` (None: registered later)."""
    if cohort == UNKNOWN:
        return UNKNOWN
    months = _index(month) - _index(cohort)
    return str(months // 12) if months >= 0 else None


def anniversary(cohort: str | None, month: str) -> str:
    """The anniversary that a renewal for, or a delete taking effect in, `month` decides."""
    if not cohort:
        return UNKNOWN
    months = _index(month) - _index(cohort)
    return str(max(1, -(-months // 12)))


def ordered(keys: Iterable[str]) -> list[str]:
    """Ages in numeric order, UNKNOWN last."""
    return sorted(set(keys), key=lambda k: (not k.isdigit(), int(k) if k.isdigit() else 0))


def normalised(counts: Counter[str]) -> Counter[str]:
    """Counters keyed before ages were kept ("") count as UNKNOWN."""
    out: Counter[str] = Counter()
    for key, n in counts.items():
        out[key or UNKNOWN] += n
    return out
