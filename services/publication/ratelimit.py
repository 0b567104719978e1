"""A per-address limit of queries a minute (pure, in memory: each replica counts its own clients; the k8s Service
keeps an address on one replica, README: publication).

A fixed window per address: the minute starts with the address's first query; past the limit every query is
refused until the minute is over (DAS: "blocked for the rest of the minute", digest 7.4)."""

from __future__ import annotations

from dataclasses import dataclass, field

WINDOW = 60.0


@dataclass
class RateLimit:
    per_minute: int
    max_addresses: int = 100_000
    _windows: dict[str, tuple[float, int]] = field(default_factory=dict)

    def allow(self, address: str, now: float) -> tuple[bool, float]:
        """Whether this query may be answered, and when the address's window ends (seconds from now)."""
        start, count = self._windows.get(address, (now, 0))
        if now - start >= WINDOW:
            start, count = now, 0
        count += 1
        if len(self._windows) >= self.max_addresses and address not in self._windows:
            self._forget_old(now)
        self._windows[address] = (start, count)
        return count <= self.per_minute, max(0.0, start + WINDOW - now)

    def _forget_old(self, now: float) -> None:
        for address in [a for a, (start, _) in self._windows.items() if now - start >= WINDOW]:
            del self._windows[address]
