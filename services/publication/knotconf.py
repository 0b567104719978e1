"""Knot DNS's configuration for the registry's zones, and their first zone files (pure text).

One zone per TLD, signed by Knot itself (dnssec-signing: on, ECDSA P-256, NSEC); changes arrive as RFC 2136
updates signed with the publication service's TSIG key, which may also transfer the zones (the AXFR check).
Knot keeps the changes in its journal and writes the zone file back at most every ZONEFILE_SYNC seconds (never
once per change). The serial is Knot's to raise: every update and every re-signing increments it.

    python -m services.publication.knotconf DIR PORT   writes DIR/knot.conf and DIR/zones/<tld>.zone (the zone
                                                       files only when missing); used by deploy/local/ensure-knot.sh
"""

from __future__ import annotations

import sys
from pathlib import Path

from services.publication.settings import PublicationSettings

ZONEFILE_SYNC = 300


def config(directory: Path, port: int, settings: PublicationSettings, listen: str = "127.0.0.1") -> str:
    d = directory.resolve()
    zones = "\n".join(f"  - domain: {tld}" for tld in settings.tlds)
    return f"""# written by services/publication/knotconf.py
server:
    rundir: "{d}/run"
    listen: {listen}@{port}
    tcp-max-clients: 256

control:
    listen: "{d}/run/knot.sock"

log:
  - target: "{d}/knot.log"
    any: info

database:
    storage: "{d}/db"

key:
  - id: {settings.dns_tsig_name}
    algorithm: hmac-sha256
    secret: {settings.dns_tsig_secret.get_secret_value()}

acl:
  - id: publication
    key: {settings.dns_tsig_name}
    action: [update, transfer]

policy:
  - id: registry
    algorithm: ecdsap256sha256
    nsec3: off

template:
  - id: default
    storage: "{d}/zones"
    file: "%s.zone"
    acl: publication
    dnssec-signing: on
    dnssec-policy: registry
    journal-content: changes
    zonefile-sync: {ZONEFILE_SYNC}
    serial-policy: increment

zone:
{zones}
"""


def zone_file(tld: str, settings: PublicationSettings, ttl: int = 3600) -> str:
    """The zone as it starts: its SOA and its own name servers; delegations arrive as updates."""
    ns = "\n".join(f"@ {ttl} IN NS {name.rstrip('.')}." for name in settings.zone_name_servers)
    primary = settings.zone_name_servers[0].rstrip(".")
    return (f"$ORIGIN {tld}.\n"
            f"@ {ttl} IN SOA {primary}. hostmaster.{tld}. 1 3600 900 1209600 300\n"
            f"{ns}\n")


def write(directory: Path, port: int, settings: PublicationSettings, listen: str = "127.0.0.1") -> Path:
    for sub in ("run", "db", "zones"):
        (directory / sub).mkdir(parents=True, exist_ok=True)
    for tld in settings.tlds:
        path = directory / "zones" / f"{tld}.zone"
        if not path.exists():
            path.write_text(zone_file(tld, settings))
    conf = directory / "knot.conf"
    conf.write_text(config(directory, port, settings, listen))
    conf.chmod(0o600)  # it holds the TSIG secret
    return conf


if __name__ == "__main__":
    if len(sys.argv) not in (3, 4):
        sys.exit("usage: python -m services.publication.knotconf DIR PORT [LISTEN_ADDRESS]")
    print(write(Path(sys.argv[1]), int(sys.argv[2]), PublicationSettings(), *sys.argv[3:]))
