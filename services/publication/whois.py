"""The WHOIS answer (pure), in the .be server's layout: status, registration date, registrar name and website
(from its profile), name servers, keys and flags. Registrants are never shown (no personal data here)."""

from __future__ import annotations

from datetime import datetime

from services.publication.names import to_unicode
from services.publication.view import PublicDomain

HEADER = ("% .be Whois Server\n%\n% The WHOIS service is provided for information purposes only. The registrant's\n"
          "% personal data is not shown; the registrar answers for its registrants.\n\n")
FOOTER = "\nPlease visit the registry's website for more info.\n"


def _date(moment: datetime | None) -> str:
    return moment.strftime("%a %b %d %Y") if moment else ""


def answer(name: str, domain: PublicDomain | None, available: bool) -> str:
    title = f"Domain:\t{name}\n" + (f"Unicode:\t{to_unicode(name)}\n" if name.startswith("xn--") or ".xn--" in name
                                    else "")
    if domain is None:
        return HEADER + title + f"Status:\t{'AVAILABLE' if available else 'NOT AVAILABLE'}\n" + FOOTER
    status = "QUARANTINE" if domain.status == "QUARANTINE" else "ON HOLD" if domain.on_hold \
        else "OUT OF SERVICE" if domain.out_of_service else "NOT AVAILABLE"
    lines = [title.rstrip("\n"), f"Status:\t{status}", f"Registered:\t{_date(domain.registered_at)}"]
    if domain.status == "QUARANTINE" and domain.available_on:
        lines.append(f"Available from:\t{_date(domain.available_on)}")
    lines += ["", "Registrant:", "\tNot shown, please visit the registry's website for the web-based whois.", ""]
    if domain.registrar:
        lines += ["Registrar:", f"\tName:\t {domain.registrar.name}"]
        if domain.registrar.website:
            lines.append(f"\tWebsite: {domain.registrar.website}")
        lines.append("")
    lines.append("Nameservers:")
    for ns in domain.name_servers:
        lines.append(f"\t{ns.name}" + (f" ({', '.join(ns.addresses)})" if ns.addresses else ""))
    lines += ["", "Keys:"]
    for key in domain.keys:
        lines.append(f"\tflags:{key['flags']} protocol:{key['protocol']} algorithm:{key['algorithm']} "
                     f"pubKey:{key['public_key']}")
    lines += ["", "Flags:"]
    flags = list(domain.flags) + (["nameservers overridden: " + (domain.override_reason or "")]
                                  if domain.overridden else [])
    lines += [f"\t{flag}" for flag in flags]
    return HEADER + "\n".join(lines) + "\n" + FOOTER


def error(message: str) -> str:
    return f"% Error: {message}\n"
