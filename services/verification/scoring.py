"""Scoring a new registration against the registrant's data: pure rules, weights and a threshold.

Each rule looks at the registrant contact (and how many domains it registered lately) and either flags
the registration or not; the flagged rules' weights add up, and a total at or above the threshold selects
it. With the default weights of 1 and threshold 2 a registration is selected only when several rules
flag it (seed: "only if several parameters indicate incorrect or incomplete data, do we intervene").
The rules are ours: DNS Belgium does not publish its parameters and "constantly adjusts" them, so every
weight, the threshold and the lists are settings.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

# the calling code each country's numbers start with (+CC.number); countries not listed are not judged
CALLING_CODES: Mapping[str, tuple[str, ...]] = {
    "BE": ("32",), "NL": ("31",), "FR": ("33",), "DE": ("49",), "LU": ("352",), "GB": ("44",), "IE": ("353",),
    "ES": ("34",), "IT": ("39",), "PT": ("351",), "AT": ("43",), "CH": ("41",), "PL": ("48",), "CZ": ("420",),
    "DK": ("45",), "SE": ("46",), "NO": ("47",), "FI": ("358",), "US": ("1",), "CA": ("1",), "CN": ("86",),
    "RU": ("7",), "IN": ("91",), "JP": ("81",), "BR": ("55",), "TR": ("90",), "RO": ("40",), "BG": ("359",),
    "GR": ("30",), "HU": ("36",), "SK": ("421",), "UA": ("380",), "NG": ("234",), "MA": ("212",),
}
POSTAL_CODES: Mapping[str, re.Pattern[str]] = {
    "BE": re.compile(r"^[1-9]\d{3}$"), "NL": re.compile(r"^[1-9]\d{3} ?[A-Z]{2}$"), "FR": re.compile(r"^\d{5}$"),
    "DE": re.compile(r"^\d{5}$"), "LU": re.compile(r"^(L-)?\d{4}$"), "ES": re.compile(r"^\d{5}$"),
    "IT": re.compile(r"^\d{5}$"), "US": re.compile(r"^\d{5}(-\d{4})?$"),
}
_KEYBOARD_MASH = re.compile(r"(asdf|qwer|zxcv|aaaa|xxxx|test|1234|none|n/?a$|^-+$|^\.+$)", re.IGNORECASE)
_HOUSE_NUMBER = re.compile(r"\d")


@dataclass(frozen=True)
class Registrant:
    """The registrant data a registration is scored on (the verification read model of the contact)."""

    alias: str
    name: str
    organisation: str | None
    street: tuple[str, ...]
    city: str
    postal_code: str
    country: str
    phone: str
    email: str
    created_at: datetime


@dataclass(frozen=True)
class Registration:
    domain: str
    registrant: Registrant
    at: datetime
    # domains this contact registered in the burst window before this one
    recent_registrations: int


@dataclass(frozen=True)
class ScoringRules:
    weights: Mapping[str, float]
    threshold: float
    disposable_email_domains: frozenset[str] = frozenset()
    new_contact_window: timedelta = timedelta(days=2)
    burst_registrations: int = 5


@dataclass(frozen=True)
class Score:
    total: float
    flagged: tuple[str, ...]
    selected: bool
    details: dict[str, str] = field(default_factory=dict)


def _phone_country(r: Registration, rules: ScoringRules) -> str | None:
    codes = CALLING_CODES.get(r.registrant.country.upper())
    prefix = r.registrant.phone.lstrip("+").split(".", 1)[0]
    if codes and prefix not in codes:
        return f"phone +{prefix} does not match country {r.registrant.country}"
    return None


def _disposable_email(r: Registration, rules: ScoringRules) -> str | None:
    domain = r.registrant.email.rsplit("@", 1)[-1].lower()
    parts = domain.split(".")
    # a subdomain of a listed domain counts too
    if any(".".join(parts[i:]) in rules.disposable_email_domains for i in range(len(parts) - 1)):
        return f"disposable e-mail domain {domain}"
    return None


def _implausible_address(r: Registration, rules: ScoringRules) -> str | None:
    c = r.registrant
    street = " ".join(c.street).strip()
    if len(street) < 4 or not _HOUSE_NUMBER.search(street) or _KEYBOARD_MASH.search(street):
        return "street empty, without a number or placeholder text"
    if len(c.city.strip()) < 2 or any(ch.isdigit() for ch in c.city) or _KEYBOARD_MASH.search(c.city):
        return "city empty or implausible"
    pattern = POSTAL_CODES.get(c.country.upper())
    if pattern is not None and not pattern.match(c.postal_code.strip().upper()):
        return f"postal code {c.postal_code} is not one of {c.country}"
    return None


def _implausible_name(r: Registration, rules: ScoringRules) -> str | None:
    name = r.registrant.name.strip()
    if len(name) < 3 or any(ch.isdigit() for ch in name) or _KEYBOARD_MASH.search(name) \
            or (not r.registrant.organisation and " " not in name):
        return "name empty, one word or placeholder text"
    return None


def _burst_from_new_contact(r: Registration, rules: ScoringRules) -> str | None:
    young = r.at - r.registrant.created_at <= rules.new_contact_window
    if young and r.recent_registrations + 1 >= rules.burst_registrations:
        return f"{r.recent_registrations + 1} registrations from a contact created {r.registrant.created_at:%Y-%m-%d}"
    return None


RULES: Mapping[str, Callable[[Registration, ScoringRules], str | None]] = {
    "country_phone_mismatch": _phone_country,
    "disposable_email": _disposable_email,
    "implausible_address": _implausible_address,
    "implausible_name": _implausible_name,
    "burst_from_new_contact": _burst_from_new_contact,
}


def score(registration: Registration, rules: ScoringRules) -> Score:
    details: dict[str, str] = {}
    total = 0.0
    for name, rule in RULES.items():
        weight = rules.weights.get(name, 0.0)
        if weight <= 0:
            continue  # a rule switched off by a zero weight is not even evaluated
        why = rule(registration, rules)
        if why is not None:
            details[name] = why
            total += weight
    return Score(total=total, flagged=tuple(details), selected=total >= rules.threshold, details=details)
