"""The publication service's settings (README: configuration, publication)."""

from __future__ import annotations

from pydantic import Field, IPvAnyNetwork, SecretStr

from shared.settings import ServiceSettings

# the local development TSIG secret (deploy/local/ensure-knot.sh writes the same into Knot's configuration);
# deployments mount their own (compose env, deploy/k8s secret)
DEFAULT_TSIG_SECRET = "bG9jYWwtZGV2LXRzaWctc2VjcmV0LWNoYW5nZS1tZQ=="


class PublicationSettings(ServiceSettings):
    service_name: str = "publication"
    http_port: int = 8006
    # the TLDs whose zones are published (the registry's TLDS)
    tlds: tuple[str, ...] = ("be", "vlaanderen", "brussels")
    # Knot DNS: where updates (RFC 2136) and zone transfers go, and the TSIG key both are signed with
    dns_host: str = "127.0.0.1"
    dns_port: int = Field(default=5353, ge=1, le=65535)
    dns_tsig_name: str = "publication"
    dns_tsig_secret: SecretStr = SecretStr(DEFAULT_TSIG_SECRET)
    # the TLD zones' own name servers (apex NS; Knot's initial zone file carries the same, knotconf.py)
    zone_name_servers: tuple[str, ...] = ("a.ns.registry.invalid", "b.ns.registry.invalid")
    # where an overridden domain is delegated when its override event names no servers (the registry's
    # OVERRIDE_NAME_SERVERS)
    landing_name_servers: tuple[str, ...] = ("ns1.landing.registry.invalid", "ns2.landing.registry.invalid")
    # the pusher: at most this many domains in one DNS UPDATE message, and how often it looks for work
    # when nothing woke it
    push_batch: int = Field(default=200, ge=1, le=5_000)
    push_interval_seconds: float = Field(default=0.5, gt=0)
    # the AXFR-vs-rebuild check as a periodic operator job (0 switches it off; the CLI runs it on demand)
    check_interval_seconds: float = Field(default=3600.0, ge=0)
    # WHOIS and DAS over TCP (43 and 4343 in compose and k8s); 0 switches a server off
    whois_port: int = Field(default=4300, ge=0, le=65535)
    das_port: int = Field(default=4343, ge=0, le=65535)
    # per client address, per minute (DAS: 50, digest 7.4)
    whois_rate_per_minute: int = Field(default=60, ge=1)
    das_rate_per_minute: int = Field(default=50, ge=1)
    rdap_rate_per_minute: int = Field(default=120, ge=1)
    # the reverse proxies (ingress) in front of RDAP, as CIDRs: only a request from one of them has its
    # X-Forwarded-For read for the address the rate limit counts (empty: the TCP peer, the header ignored)
    rdap_trusted_proxies: tuple[IPvAnyNetwork, ...] = ()
    # the TCP load balancers in front of WHOIS and DAS, as CIDRs: only a connection from one of them may (and
    # must) start with a PROXY protocol header (v1 or v2) naming the client the rate limit counts (empty: no
    # header is ever believed, every connection counts under its peer; tcp.py)
    whois_trusted_proxies: tuple[IPvAnyNetwork, ...] = ()
    # DAS answers RC -3 to these addresses (digest 7.4: "IP blocked")
    das_blocked_addresses: tuple[str, ...] = ()
    # the TTL of the records pushed to Knot (NS, DS, glue)
    zone_ttl: int = Field(default=3600, ge=60)
    # the public base URL of RDAP (links in the answers)
    rdap_base_url: str = "http://127.0.0.1:8006/rdap/"
