"""Namespaces the EPP server speaks, and small helpers to read and build elements with them."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from lxml import etree

EPP = "urn:ietf:params:xml:ns:epp-1.0"
DOMAIN = "urn:ietf:params:xml:ns:domain-1.0"
CONTACT = "urn:ietf:params:xml:ns:contact-1.0"
SECDNS = "urn:ietf:params:xml:ns:secDNS-1.1"
DNSBE = "http://www.dns.be/xml/epp/dnsbe-1.0"
NSGROUP = "http://www.dns.be/xml/epp/nsgroup-1.0"
KEYGROUP = "http://www.dns.be/xml/epp/keygroup-1.0"

OBJECTS = [DOMAIN, CONTACT, NSGROUP, KEYGROUP]
EXTENSIONS = [SECDNS, DNSBE]
LANGS = ("en",)  # the languages the greeting offers (a login asking for another is 2102)
PREFIX = {DOMAIN: "domain", CONTACT: "contact", DNSBE: "dnsbe", SECDNS: "secDNS", NSGROUP: "nsgroup",
          KEYGROUP: "keygroup"}


def q(namespace: str, tag: str) -> str:
    return f"{{{namespace}}}{tag}"


def text(parent: etree._Element | None, namespace: str, tag: str) -> str | None:
    if parent is None:
        return None
    found = parent.find(q(namespace, tag))
    return found.text.strip() if found is not None and found.text is not None else None


def texts(parent: etree._Element | None, namespace: str, tag: str) -> list[str]:
    if parent is None:
        return []
    return [(e.text or "").strip() for e in parent.findall(q(namespace, tag))]


def element(namespace: str, tag: str, value: str | None = None, **attrs: str) -> etree._Element:
    e = etree.Element(q(namespace, tag), nsmap={PREFIX[namespace]: namespace})
    if value is not None:
        e.text = value
    for k, v in attrs.items():
        e.set(k, v)
    return e


def sub(parent: etree._Element, namespace: str, tag: str, value: str | None = None, **attrs: str) -> etree._Element:
    e = etree.SubElement(parent, q(namespace, tag))
    if value is not None:
        e.text = value
    for k, v in attrs.items():
        e.set(k, v)
    return e


def subs(parent: etree._Element, namespace: str, tag: str, values: Iterable[str]) -> None:
    for v in values:
        sub(parent, namespace, tag, v)


def check_data(namespace: str, key: str, free: dict[str, bool]) -> etree._Element:
    """The <chkData> of a check of objects named by `key` (contact:id, nsgroup:name ...): each with avail 1 or 0,
    and "in use" as the reason a name is taken."""
    data = element(namespace, "chkData")
    for name, available in free.items():
        cd = sub(data, namespace, "cd")
        sub(cd, namespace, key, name, avail="1" if available else "0")
        if not available:
            sub(cd, namespace, "reason", "in use")
    return data


def stamp(instant: datetime) -> str:
    """EPP dateTime in UTC with milliseconds, as DNS Belgium writes it."""
    instant = instant.astimezone(UTC) if instant.tzinfo else instant.replace(tzinfo=UTC)
    return instant.strftime("%Y-%m-%dT%H:%M:%S.") + f"{instant.microsecond // 1000:03d}Z"
