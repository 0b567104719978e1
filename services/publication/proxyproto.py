"""The PROXY protocol header (HAProxy's spec, version 1 text and version 2 binary): pure parsing.

A TCP load balancer in front of WHOIS and DAS opens every connection itself, so the server sees the balancer's
address for every client; with the PROXY protocol the balancer starts each connection with a header naming the
client. tcp.py accepts the header only from the trusted proxies (WHOIS_TRUSTED_PROXIES) and requires it from
them; this module only says what a header holds, or why it is not one. Every malformed header is a
ProxyHeaderError with a reason in words, never another exception.

  v1: "PROXY TCP4|TCP6 <src> <dst> <sport> <dport>\\r\\n" or "PROXY UNKNOWN ...\\r\\n", at most 107 bytes
  v2: a 12-byte signature, version/command, family/transport, a 2-byte length, then the addresses and TLVs

A header that names no client (v1 UNKNOWN, v2 LOCAL: the balancer's own health check, v2 UNSPEC) gives
`address=None`: the connection counts under its peer, as the spec says.
"""

from __future__ import annotations

import ipaddress
import struct
from dataclasses import dataclass

V1_PREFIX = b"PROXY "
V1_MAX = 107  # the spec's longest v1 line, CRLF included
V2_SIGNATURE = b"\r\n\r\n\x00\r\nQUIT\n"
V2_FIXED = 16  # signature, version/command, family, length
# the addresses (at most 216 bytes, AF_UNIX) and the TLVs a balancer adds (AWS, GCP, Azure: tens of bytes); the
# spec lets the length go to 65535, which a WHOIS server has no reason to buffer
V2_MAX_BODY = 1024
_V2_ADDRESS_BYTES = {0x11: 12, 0x21: 36}  # TCP over IPv4: 2 x 4 + 2 x 2; TCP over IPv6: 2 x 16 + 2 x 2


class ProxyHeaderError(ValueError):
    """Not a valid PROXY protocol header; the message says why."""


@dataclass(frozen=True)
class Source:
    """The client the header names; address None: it names none (use the connection's peer)."""

    address: str | None
    port: int | None = None


def kind(start: bytes) -> str | None:
    """Which header `start` (the first bytes of a connection) begins with: "v1", "v2", None when it begins with
    neither, "more" while it is still a prefix of a signature (read more before deciding)."""
    if start.startswith(V1_PREFIX):
        return "v1"
    if start.startswith(V2_SIGNATURE):
        return "v2"
    if V1_PREFIX.startswith(start) or V2_SIGNATURE.startswith(start):
        return "more"
    return None


def _address(text: str, version: int) -> str:
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        raise ProxyHeaderError(f"PROXY header: {text[:40]!r} is not an IP address") from None
    if ip.version != version:
        raise ProxyHeaderError(f"PROXY header: {text!r} is not an IPv{version} address")
    return _normal(ip)


def _normal(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str:
    # an IPv4 client seen through a dual-stack balancer counts as the same client as over IPv4
    mapped = ip.ipv4_mapped if isinstance(ip, ipaddress.IPv6Address) else None
    return str(mapped or ip)


def _port(text: str) -> int:
    if not text.isdigit() or len(text) > 5 or int(text) > 65535 or (len(text) > 1 and text[0] == "0"):
        raise ProxyHeaderError(f"PROXY header: {text[:10]!r} is not a port")
    return int(text)


def parse_v1(line: bytes) -> Source:
    """A whole v1 line, CRLF included."""
    if len(line) > V1_MAX:
        raise ProxyHeaderError(f"PROXY header longer than {V1_MAX} bytes")
    if not line.startswith(V1_PREFIX) or not line.endswith(b"\r\n"):
        raise ProxyHeaderError("PROXY header: not a line ending in CRLF")
    try:
        text = line[:-2].decode("ascii")
    except UnicodeDecodeError:
        raise ProxyHeaderError("PROXY header: not ASCII text") from None
    if any(not c.isprintable() for c in text):
        raise ProxyHeaderError("PROXY header: holds control characters")
    fields = text.split(" ")
    if len(fields) >= 2 and fields[1] == "UNKNOWN":
        return Source(None)  # the spec: whatever follows UNKNOWN is ignored
    if len(fields) != 6:
        raise ProxyHeaderError("PROXY header: expected PROXY, a protocol, two addresses and two ports")
    _, protocol, source, destination, source_port, destination_port = fields
    versions = {"TCP4": 4, "TCP6": 6}
    if protocol not in versions:
        raise ProxyHeaderError(f"PROXY header: unknown protocol {protocol[:10]!r} (TCP4, TCP6 or UNKNOWN)")
    address = _address(source, versions[protocol])
    _address(destination, versions[protocol])
    port = _port(source_port)
    _port(destination_port)
    return Source(address, port)


def v2_body_length(fixed: bytes) -> int:
    """The length of what follows the 16 fixed bytes of a v2 header, once they are checked."""
    if len(fixed) != V2_FIXED or not fixed.startswith(V2_SIGNATURE):
        raise ProxyHeaderError("PROXY header: not a version 2 header")
    if fixed[12] >> 4 != 2:
        raise ProxyHeaderError(f"PROXY header: version {fixed[12] >> 4} (only 2 is binary)")
    if fixed[12] & 0x0F not in (0, 1):
        raise ProxyHeaderError(f"PROXY header: unknown command {fixed[12] & 0x0F}")
    (length,) = struct.unpack("!H", fixed[14:16])
    if length > V2_MAX_BODY:
        raise ProxyHeaderError(f"PROXY header: {length} bytes of addresses and TLVs (at most {V2_MAX_BODY})")
    return int(length)


def parse_v2(fixed: bytes, body: bytes) -> Source:
    """The 16 fixed bytes and the body they announce."""
    length = v2_body_length(fixed)
    if len(body) != length:
        raise ProxyHeaderError("PROXY header: shorter than its length says")
    if fixed[12] & 0x0F == 0:
        return Source(None)  # LOCAL: the balancer's own connection (a health check)
    family = fixed[13]
    if family >> 4 == 0:
        return Source(None)  # UNSPEC: the spec says use the connection's own addresses
    needed = _V2_ADDRESS_BYTES.get(family)
    if needed is None:
        raise ProxyHeaderError(f"PROXY header: family/transport 0x{family:02x} is not TCP over IPv4 or IPv6")
    if length < needed:
        raise ProxyHeaderError("PROXY header: too short for its addresses")
    size = 4 if family == 0x11 else 16
    ip = ipaddress.ip_address(body[:size])
    (port,) = struct.unpack("!H", body[2 * size:2 * size + 2])
    return Source(_normal(ip), port)
