"""A name as the public types it (pure): U-label or A-label, any case, an optional final dot, to the A-label
the read model keys on; or the reason it is not a name we could hold."""

from __future__ import annotations

import re

import idna

MAX_QUERY = 255
LDH = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


class InvalidName(ValueError):
    """Not a domain name under one of our TLDs; the message says why."""


def to_a_label(query: str, tlds: tuple[str, ...]) -> str:
    text = query.strip().rstrip(".")
    if not text:
        raise InvalidName("empty query")
    if len(text) > MAX_QUERY or any(ord(c) < 0x20 or ord(c) == 0x7F for c in text):
        raise InvalidName("not a domain name")
    try:
        name = idna.encode(text, uts46=True).decode("ascii").lower()
    except (idna.IDNAError, UnicodeError) as exc:
        raise InvalidName(f"not a valid IDN: {exc}") from exc
    labels = name.split(".")
    if len(labels) != 2 or labels[1] not in tlds:
        raise InvalidName(f"only names directly under {', '.join('.' + t for t in tlds)} are registered here")
    if not LDH.match(labels[0]) or len(labels[0]) < 2:
        raise InvalidName("a label is 2 to 63 letters, digits or hyphens, not starting or ending with a hyphen")
    if labels[0][2:4] == "--" and not labels[0].startswith("xn--"):
        raise InvalidName("hyphens in the third and fourth position are reserved")
    return name


def to_unicode(a_label: str) -> str:
    try:
        return idna.decode(a_label)
    except (idna.IDNAError, UnicodeError):
        return a_label


def host_name(query: str) -> str:
    """A name server's name (any depth, any TLD) in A-label form."""
    text = query.strip().rstrip(".")
    if not text or len(text) > MAX_QUERY:
        raise InvalidName("not a host name")
    try:
        name = idna.encode(text, uts46=True).decode("ascii").lower()
    except (idna.IDNAError, UnicodeError) as exc:
        raise InvalidName(f"not a valid host name: {exc}") from exc
    if len(name.split(".")) < 2 or not all(LDH.match(label) for label in name.split(".")):
        raise InvalidName("not a host name")
    return name
