"""What the zone says about one domain (pure): whether it is in the zone, and its records there.

- REGISTERED (on hold included: an on-hold name keeps working, digest 4.1) is delegated to its name servers:
  the hosts given on the domain (glue for those inside it) and those of its name-server groups; a key group's
  keys give DS records. No name server at all: nothing is published (a DS without NS would be a lie).
- An override (registrant verification pending or failed) delegates it to the landing name servers instead,
  without DS (the landing servers do not sign for it) and without the domain's glue.
- QUARANTINE and RELEASED names are out of the zone; OUT OF SERVICE leaves at the end of its expiry month
  (Brussels time, digest 4.1).

Records are plain (owner, type, rdata text) triples, owner and rdata names absolute with a trailing dot, so
that what is pushed, what a rebuild writes and what an AXFR returns compare as equal sets.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import dns.dnssec
import dns.exception
import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdatatype

from shared.clock import brussels

log = logging.getLogger(__name__)

Record = tuple[str, str, str]  # (owner., TYPE, rdata text)
IN_ZONE = {"REGISTERED"}
SEP = 0x0001  # the DNSKEY flag of a key-signing key (RFC 4034 2.1.1)


def absolute(name: str) -> str:
    name = name.strip().lower()
    return name if name.endswith(".") else name + "."


def end_of_month(moment: datetime) -> datetime:
    """The first instant of the month after `moment`'s, in Brussels time."""
    local = brussels(moment)
    first = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    year, month = (first.year + 1, 1) if first.month == 12 else (first.year, first.month + 1)
    return first.replace(year=year, month=month)


def in_zone(domain: Mapping[str, Any], now: datetime) -> bool:
    if domain.get("status") not in IN_ZONE:
        return False
    out_since = domain.get("out_of_service_since")
    expires = domain.get("expires_at")
    return not (out_since and expires and now >= end_of_month(expires))


def ds_records(owner: str, keys: Sequence[Mapping[str, Any]]) -> list[str]:
    """DS (SHA-256) of the group's key-signing keys; a group without one gets DS for each of its keys."""
    chosen = [k for k in keys if int(k["flags"]) & SEP] or list(keys)
    out: list[str] = []
    for key in chosen:
        try:
            base64.b64decode(str(key["public_key"]).replace(" ", ""), validate=True)
            dnskey = dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.DNSKEY,
                                         f"{int(key['flags'])} {int(key['protocol'])} {int(key['algorithm'])} "
                                         f"{key['public_key']}")
            out.append(dns.dnssec.make_ds(dns.name.from_text(owner), dnskey, "SHA256").to_text())
        except (ValueError, dns.exception.DNSException, KeyError) as exc:
            # the registry validates keys; one it let through that DNS cannot read is left out, not fatal
            log.warning("key of %s left out of its DS: %s", owner, exc)
    return out


def records(domain: Mapping[str, Any], nsgroups: Mapping[str, Sequence[str]],
            keygroups: Mapping[str, Sequence[Mapping[str, Any]]], landing: Sequence[str],
            now: datetime) -> list[Record]:
    """The domain's records in its TLD's zone (empty when it is out of the zone). `nsgroups` and `keygroups`
    are the sponsoring registrar's groups by name."""
    if not in_zone(domain, now):
        return []
    owner = absolute(domain["_id"])
    override = domain.get("override")
    if override:
        servers = override.get("name_servers") or list(landing)
        return sorted({(owner, "NS", absolute(ns)) for ns in servers})
    out: set[Record] = set()
    for host in domain.get("hosts", []):
        out.add((owner, "NS", absolute(host["name"])))
        host_name = absolute(host["name"])
        if host_name == owner or host_name.endswith("." + owner):  # in the domain: glue
            for address in host.get("addresses", []):
                out.add((host_name, "AAAA" if ":" in address else "A", address))
    for group in domain.get("nsgroups", []):
        for ns in nsgroups.get(group, []):
            out.add((owner, "NS", absolute(ns)))
    if not any(kind == "NS" for _, kind, _ in out):
        return []
    for group in domain.get("keygroups", []):
        for ds in ds_records(owner, keygroups.get(group, [])):
            out.add((owner, "DS", ds))
    return sorted(out)


def owners(recs: Sequence[Record]) -> list[str]:
    return sorted({owner for owner, _, _ in recs})
