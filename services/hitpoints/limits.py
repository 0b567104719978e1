"""A registrar's hitpoint limit and the warning levels on the way to it.

The .be rule says only "between 100 and 1000, depending on the portfolio" (digest section 2), so the
formula is ours, linear and capped, with every term a setting:

    limit = clamp(LIMIT_BASE + domains // LIMIT_DOMAINS_PER_HITPOINT, LIMIT_MIN, LIMIT_MAX)

With the defaults (100, 10, 100, 1000): no domains 100, 1,000 domains 200, 5,000 domains 600, 9,000 and
more 1000. The limit is fixed every night at 00:00 Brussels time from the portfolio (portfolio.py);
a registrar not yet seen by a nightly run gets the limit of its current portfolio.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class LimitFormula:
    base: int = 100
    domains_per_hitpoint: int = 10
    minimum: int = 100
    maximum: int = 1000

    def limit(self, domains: int) -> int:
        return max(self.minimum, min(self.maximum, self.base + max(domains, 0) // self.domains_per_hitpoint))


def level(limit: int, percent: int) -> int:
    """The hitpoints at which `percent` of the limit is reached (rounded up: 80 % of 101 is 81)."""
    return math.ceil(limit * percent / 100)


def crossed(before: int, after: int, limit: int, percentages: Iterable[int]) -> list[int]:
    """The warning levels reached by going from `before` to `after` hitpoints, lowest first. Each level
    is reached once per counter: a counter only grows, until it is reset to zero."""
    return sorted(p for p in set(percentages) if before < level(limit, p) <= after)
