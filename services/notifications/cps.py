"""Rendering a structured message: the CPS e-mail (digest 1.3) and the poll payload (dnsbe:pollRes, 1.2).

Both come from the same values, so a registrar can parse either: the CPS keys are the pollRes element
names in upper case, written in the catalogue's order between TYPE/ACTION and RETURNCODE.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from string import Template

from services.notifications.messages import Structured

BEGIN = "----BEGIN-OF-CPS----"
END = "----END-OF-CPS----"


@dataclass(frozen=True)
class Rendered:
    subject: str
    body: str


def stamp(instant: datetime) -> str:
    """${dateYYYY-MM-DDTHH:MM:SS.mmmZ}: UTC with milliseconds, as DNS Belgium writes dates."""
    instant = instant.astimezone(UTC)
    return instant.strftime("%Y-%m-%dT%H:%M:%S.") + f"{instant.microsecond // 1000:03d}Z"


def subject(message: Structured, variables: dict[str, str], language: str) -> str:
    template = message.subject.get(language) or message.subject["en"]
    return Template(template).safe_substitute(variables)


def poll_fields(message: Structured, values: dict[str, str]) -> dict[str, str]:
    """The dnsbe:pollRes children in order: type, action, the message's fields, returncode. A field without a
    value (DETAILEDCODE when the server gave none) is left out, in the poll payload as in the CPS."""
    out = {"type": message.type, "action": message.action}
    for _, element in message.fields:
        if values.get(element) not in (None, ""):
            out[element] = str(values[element])
    out["returncode"] = str(message.returncode)
    return out


def cps(message: Structured, values: dict[str, str], variables: dict[str, str], language: str) -> Rendered:
    """The CPS e-mail: the ##SUBJECT line, an empty line, then the CPS block."""
    title = subject(message, variables, language)
    lines = [f"##SUBJECT: {title}", "", BEGIN]
    for element, value in poll_fields(message, values).items():
        lines.append(f"{element.upper()}: {value}" if element in ("type", "action", "returncode")
                     else f"{_cps_key(message, element)}: {value}")
    lines.append(END)
    return Rendered(title, "\n".join(lines) + "\n")


def _cps_key(message: Structured, element: str) -> str:
    return next(key for key, el in message.fields if el == element)
