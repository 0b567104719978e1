"""A per-address limit of queries a minute (pure, in memory: each replica counts its own clients; the k8s Service
keeps an address on one replica, README: publication).

A fixed window per address: the minute starts with the address's first query; past the limit every query is
refused until the minute is over (DAS: "blocked for the rest of the minute", digest 7.4).

Behind a reverse proxy every client arrives from the proxy's address: for HTTP (RDAP), `client_address` reads
X-Forwarded-For, but only from a trusted proxy and only as far back as the proxies are trusted (a client can
write anything at the header's left end). WHOIS and DAS behind a TCP load balancer: the PROXY protocol header
(tcp.py, proxyproto.py), believed from WHOIS_TRUSTED_PROXIES only."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
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


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def trusted(address: str, proxies: Sequence[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:  # a dual-stack socket's IPv4 peer
        ip = ip.ipv4_mapped
    return any(ip in network for network in proxies)


def client_address(peer: str, forwarded_for: Sequence[str], proxies: Sequence[Network]) -> str:
    """The address a request is counted under: the peer unless it is a trusted proxy; then, walking
    X-Forwarded-For (every header line, in order) from the right, the first address that is not a trusted
    proxy. A header of trusted proxies only gives its left-most address; an empty one, the peer."""
    if not proxies or not trusted(peer, proxies):
        return peer
    hops = [hop.strip() for line in forwarded_for for hop in line.split(",") if hop.strip()]
    for hop in reversed(hops):
        if not trusted(hop, proxies):
            return hop
    return hops[0] if hops else peer
