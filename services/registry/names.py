"""Domain name syntax: labels of 2-63 characters a-z, 0-9 and hyphen, no hyphen at either end,
not a hyphen at both the 3rd and 4th position (that form is reserved for IDN A-labels)."""

from __future__ import annotations

import re

from services.registry.results import CommandRefused, Result

_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])$")


def parse_domain_name(raw: str, tlds: tuple[str, ...]) -> tuple[str, str]:
    """Return (name, tld) in canonical lower-case form, or refuse with 2005/2306."""
    name = raw.strip().lower().rstrip(".")
    label, _, tld = name.partition(".")
    if not tld or "." in tld:
        raise CommandRefused(Result.PARAMETER_VALUE_SYNTAX, f"invalid domain name [{raw}]: one label and a TLD")
    if tld not in tlds:
        raise CommandRefused(Result.PARAMETER_VALUE_POLICY, f"TLD [{tld}] is not served here")
    if not _LABEL.match(label) or len(label) < 2:
        raise CommandRefused(Result.PARAMETER_VALUE_SYNTAX, f"invalid domain name [{raw}]")
    if label[2:4] == "--" and not label.startswith("xn--"):
        raise CommandRefused(Result.PARAMETER_VALUE_SYNTAX, f"invalid domain name [{raw}]: hyphens at 3rd and 4th")
    return name, tld
