"""Countries as addresses name them: ISO 3166-1 alpha-2 codes, and the postal code format of the countries
whose format is fixed and known here (others take any postal code of the allowed length)."""

from __future__ import annotations

import re

# the officially assigned ISO 3166-1 alpha-2 codes
ISO_3166_ALPHA2 = frozenset(["AD", "AE", "AF", "AG", "AI", "AL", "AM", "AO", "AQ", "AR", "AS", "AT", "AU", "AW", "AX", "AZ", "BA", "BB", "BD", "BE", "BF", "BG", "BH", "BI", "BJ", "BL", "BM", "BN", "BO", "BQ", "BR", "BS", "BT", "BV", "BW", "BY", "BZ", "CA", "CC", "CD", "CF", "CG", "CH", "CI", "CK", "CL", "CM", "CN", "CO", "CR", "CU", "CV", "CW", "CX", "CY", "CZ", "DE", "DJ", "DK", "DM", "DO", "DZ", "EC", "EE", "EG", "EH", "ER", "ES", "ET", "FI", "FJ", "FK", "FM", "FO", "FR", "GA", "GB", "GD", "GE", "GF", "GG", "GH", "GI", "GL", "GM", "GN", "GP", "GQ", "GR", "GS", "GT", "GU", "GW", "GY", "HK", "HM", "HN", "HR", "HT", "HU", "ID", "IE", "IL", "IM", "IN", "IO", "IQ", "IR", "IS", "IT", "JE", "JM", "JO", "JP", "KE", "KG", "KH", "KI", "KM", "KN", "KP", "KR", "KW", "KY", "KZ", "LA", "LB", "LC", "LI", "LK", "LR", "LS", "LT", "LU", "LV", "LY", "MA", "MC", "MD", "ME", "MF", "MG", "MH", "MK", "ML", "MM", "MN", "MO", "MP", "MQ", "MR", "MS", "MT", "MU", "MV", "MW", "MX", "MY", "MZ", "NA", "NC", "NE", "NF", "NG", "NI", "NL", "NO", "NP", "NR", "NU", "NZ", "OM", "PA", "PE", "PF", "PG", "PH", "PK", "PL", "PM", "PN", "PR", "PS", "PT", "PW", "PY", "QA", "RE", "RO", "RS", "RU", "RW", "SA", "SB", "SC", "SD", "SE", "SG", "SH", "SI", "SJ", "SK", "SL", "SM", "SN", "SO", "SR", "SS", "ST", "SV", "SX", "SY", "SZ", "TC", "TD", "TF", "TG", "TH", "TJ", "TK", "TL", "TM", "TN", "TO", "TR", "TT", "TV", "TW", "TZ", "UA", "UG", "UM", "US", "UY", "UZ", "VA", "VC", "VE", "VG", "VI", "VN", "VU", "WF", "WS", "YE", "YT", "ZA", "ZM", "ZW"])

# (pattern, the format in words)
POSTAL_CODES: dict[str, tuple[re.Pattern[str], str]] = {
    "BE": (re.compile(r"^[1-9][0-9]{3}$"), "4 digits, for example 3000"),
    "NL": (re.compile(r"^[1-9][0-9]{3} ?[A-Z]{2}$"), "4 digits and 2 capital letters, for example 1012 AB"),
    "FR": (re.compile(r"^[0-9]{5}$"), "5 digits, for example 75001"),
    "DE": (re.compile(r"^[0-9]{5}$"), "5 digits, for example 10115"),
    "LU": (re.compile(r"^(L-)?[0-9]{4}$"), "4 digits, optionally after L-, for example L-1009"),
    "AT": (re.compile(r"^[1-9][0-9]{3}$"), "4 digits, for example 1010"),
    "IT": (re.compile(r"^[0-9]{5}$"), "5 digits, for example 00184"),
    "ES": (re.compile(r"^[0-9]{5}$"), "5 digits, for example 28001"),
}


def check_country(code: str) -> str:
    if code not in ISO_3166_ALPHA2:
        raise ValueError(f"[{code}] is not an ISO 3166-1 country code (two capital letters, for example BE)")
    return code


def check_postal_code(country: str, postal_code: str) -> str:
    known = POSTAL_CODES.get(country)
    if known is not None and not known[0].match(postal_code):
        raise ValueError(f"a postal code in {country} is {known[1]}, not [{postal_code}]")
    return postal_code
