"""Domain name syntax: labels of 2-63 characters a-z, 0-9 and hyphen, no hyphen at either end,
not a hyphen at both the 3rd and 4th position (that form is reserved for IDN A-labels).

Internationalised names follow IDNA 2008 (digest 7.4): a U-label ("café") is converted to its A-label
("xn--caf-dma"), which is what is stored, published and returned; an A-label given as such must decode
to a valid U-label. The length rule applies to the A-label.
"""

from __future__ import annotations

import re
import unicodedata

import idna

from services.registry.results import CommandRefused, Result

_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])$")


def parse_domain_name(raw: str, tlds: tuple[str, ...]) -> tuple[str, str]:
    """Return (name, tld) in canonical lower-case form, or refuse with 2005/2306."""
    # NFC: IDNA 2008 takes only composed forms, and some keyboards send "e" + combining accent
    name = unicodedata.normalize("NFC", raw.strip().lower().rstrip("."))
    label, _, tld = name.partition(".")
    if not tld or "." in tld:
        raise CommandRefused(Result.PARAMETER_VALUE_SYNTAX, f"invalid domain name [{raw}]: one label and a TLD")
    if tld not in tlds:
        raise CommandRefused(Result.PARAMETER_VALUE_POLICY, f"TLD [{tld}] is not served here")
    label = a_label(label, raw)
    name = f"{label}.{tld}"
    if not _LABEL.match(label) or len(label) < 2:
        raise CommandRefused(Result.PARAMETER_VALUE_SYNTAX, f"invalid domain name [{raw}]")
    if label[2:4] == "--" and not label.startswith("xn--"):
        raise CommandRefused(Result.PARAMETER_VALUE_SYNTAX, f"invalid domain name [{raw}]: hyphens at 3rd and 4th")
    return name, tld


def a_label(label: str, raw: str) -> str:
    """The label in A-label (LDH) form: a U-label is converted, an A-label checked; others pass unchanged."""
    try:
        if not label.isascii():
            return idna.encode(label).decode("ascii")
        # the round trip refuses bad Punycode, disallowed code points and non-canonical encodings
        if label.startswith("xn--") and idna.encode(idna.decode(label)).decode("ascii") != label:
            raise idna.IDNAError("not the canonical A-label of its U-label")
    except (idna.IDNAError, UnicodeError) as exc:
        raise CommandRefused(Result.PARAMETER_VALUE_SYNTAX, f"invalid domain name [{raw}]: IDNA: {exc}") from exc
    return label


def lookup_name(raw: str) -> str:
    """The stored form of a name someone refers to (info, update, transfer …): lower case, and a U-label
    turned into its A-label. No validation: a name that cannot be converted simply is not found."""
    name = unicodedata.normalize("NFC", raw.strip().lower().rstrip("."))
    if name.isascii():
        return name
    try:
        return ".".join(a if a.isascii() else idna.encode(a).decode("ascii") for a in name.split("."))
    except (idna.IDNAError, UnicodeError):
        return name


def u_label(name: str) -> str:
    """The name as its holder writes it: an IDN's labels as U-labels ("café.be" for "xn--caf-dma.be"),
    any other name as it is."""
    if "xn--" not in name:
        return name
    try:
        return ".".join(idna.decode(label) if label.startswith("xn--") else label for label in name.split("."))
    except (idna.IDNAError, UnicodeError):
        return name
