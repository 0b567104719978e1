"""Talking to Knot DNS (the I/O of the zones): RFC 2136 updates and AXFR, both signed with the TSIG key.

An update replaces what a domain publishes: every NS, DS, A and AAAA record at the owner names it published
before and at those it publishes now is deleted, then the new records are added, all in one UPDATE message
(Knot applies it as one change, re-signs what changed and raises the serial). Several domains go in one message.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import dns.asyncquery
import dns.message
import dns.name
import dns.query
import dns.rcode
import dns.rdatatype
import dns.tsig
import dns.tsigkeyring
import dns.update

from services.publication.delegation import Record
from services.publication.settings import PublicationSettings

# what a domain may publish; DNSSEC records are Knot's own (it signs)
DELEGATION_TYPES = ("NS", "DS", "A", "AAAA")
# records Knot generates or the SOA it owns: never compared with a rebuild
KNOT_OWNED = {"SOA", "RRSIG", "NSEC", "NSEC3", "NSEC3PARAM", "DNSKEY", "CDS", "CDNSKEY"}


class UpdateRefused(RuntimeError):
    """Knot answered an update with an error rcode."""


@dataclass(frozen=True)
class Change:
    """One domain's new records in the zone, and the owner names it had published before."""

    previous_owners: Sequence[str]
    records: Sequence[Record]


class Knot:
    def __init__(self, settings: PublicationSettings, timeout: float = 10.0) -> None:
        self.host, self.port = settings.dns_host, settings.dns_port
        self.keyring = dns.tsigkeyring.from_text({settings.dns_tsig_name: settings.dns_tsig_secret.get_secret_value()})
        self.keyname = dns.name.from_text(settings.dns_tsig_name)
        self.ttl = settings.zone_ttl
        self.timeout = timeout

    def update_message(self, zone: str, changes: Iterable[Change]) -> dns.update.UpdateMessage:
        message = dns.update.UpdateMessage(zone, keyring=self.keyring, keyname=self.keyname,
                                           keyalgorithm=dns.tsig.HMAC_SHA256)
        adds: dict[tuple[str, str], list[str]] = {}
        for change in changes:
            for owner in sorted(set(change.previous_owners) | {o for o, _, _ in change.records}):
                for rdtype in DELEGATION_TYPES:
                    message.delete(owner, rdtype)
            for owner, rdtype, rdata in change.records:
                adds.setdefault((owner, rdtype), []).append(rdata)
        for (owner, rdtype), rdatas in adds.items():
            message.add(owner, self.ttl, rdtype, *rdatas)
        return message

    async def push(self, zone: str, changes: Sequence[Change]) -> None:
        response = await dns.asyncquery.tcp(self.update_message(zone, changes), self.host, port=self.port,
                                            timeout=self.timeout)
        if response.rcode() != dns.rcode.NOERROR:
            raise UpdateRefused(f"Knot refused the update of {zone}: {dns.rcode.to_text(response.rcode())}")

    async def serial(self, zone: str) -> int:
        query = dns.message.make_query(zone, "SOA")
        response = await dns.asyncquery.tcp(query, self.host, port=self.port, timeout=self.timeout)
        return int(response.answer[0][0].serial)

    def _transfer(self, zone: str) -> set[Record]:
        out: set[Record] = set()
        for message in dns.query.xfr(self.host, zone, port=self.port, keyring=self.keyring, keyname=self.keyname,
                                     keyalgorithm=dns.tsig.HMAC_SHA256, lifetime=self.timeout * 30,
                                     relativize=False):
            for rrset in message.answer:
                kind = dns.rdatatype.to_text(rrset.rdtype)
                if kind in KNOT_OWNED:
                    continue
                owner = rrset.name.to_text().lower()
                out.update((owner, kind, rdata.to_text()) for rdata in rrset)
        return out

    async def records(self, zone: str) -> set[Record]:
        """The live zone by AXFR, without what Knot owns (SOA and DNSSEC records)."""
        return await asyncio.to_thread(self._transfer, zone)
