"""The daily reports' files (seed 000, "Reports"): Registrations, Name server groups, Key groups and
Contacts, each in CSV and XML with the same rows, written row by row as the cursor delivers them (no
list of rows is ever held). The XML follows daily.xsd; the CSV is UTF-8 with a byte-order mark (so a
spreadsheet recognises the encoding), comma-separated, a header row, '"' quoting only when needed,
'\\n' line ends (digest 6.1's raw-data conventions).

When they were generated (seed 000: "max 24 hours ago"): the XML root's generatedAt; the CSV has exactly
seed 000's columns, so its generation time is in the listing (GET /api/reports/daily), the download's
name and its Last-Modified: both files' modification time is the generation time.

A report's files are written beside the current ones under names of their own (two runs never share a
partial file, also on a shared volume) and swapped in with os.replace, so a reader never sees a
half-written file."""

from __future__ import annotations

import csv
import os
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any
from xml.sax.saxutils import escape, quoteattr

from shared.clock import BRUSSELS

NAMESPACE = "urn:be:registry:reporting:daily-1.0"
XSD = Path(__file__).with_name("daily.xsd")


@dataclass(frozen=True)
class Kind:
    name: str  # file stem and URL segment
    title: str
    root: str  # the XML root element
    row: str  # the XML row element
    columns: tuple[str, ...]


REGISTRATIONS = Kind("registrations", "Registrations", "registrations", "registration",
                     ("domain", "registeredOn", "invoiceMonth", "registrant", "deletionDate", "availableOn", "status"))
NSGROUPS = Kind("nsgroups", "Name server groups", "nameServerGroups", "nameServerGroup", ("name",))
KEYGROUPS = Kind("keygroups", "Key groups", "keyGroups", "keyGroup", ("name",))
CONTACTS = Kind("contacts", "Contacts", "contacts", "contact", ("alias", "type", "status"))
KINDS = {k.name: k for k in (REGISTRATIONS, NSGROUPS, KEYGROUPS, CONTACTS)}
FORMATS = ("csv", "xml")


def partial_path(final: Path) -> Path:
    """Where `final` is written before os.replace: hidden, and unique to this writer."""
    return final.with_name(f".{final.name}.{uuid.uuid4().hex}.partial")


def _date(value: datetime | None) -> str:
    # isoformat, not strftime: this runs three times per row, 1.7 million rows a night
    return value.astimezone(BRUSSELS).date().isoformat() if value else ""


def _xml_text(value: str) -> str:
    return escape(value) if ("&" in value or "<" in value or ">" in value) else value


def u_label(name: str) -> str:
    """The name as the registrar knows it: IDNs as U-labels, other names as they are (LDH)."""
    if "xn--" not in name:
        return name
    try:
        return name.encode("ascii").decode("idna")
    except UnicodeError:
        return name  # not a valid IDNA A-label: shown as registered


def registration_row(doc: Mapping[str, Any]) -> tuple[str, ...]:
    """A domain of the read model as the report's columns; dates are Brussels days, months YYYY-MM (the
    renewal runs on the last day of the invoice month at midnight)."""
    expires = doc.get("expires_at")
    return (
        u_label(doc["_id"]),
        _date(doc.get("registered_at")),
        expires.astimezone(BRUSSELS).date().isoformat()[:7] if expires else "",
        doc.get("registrant") or "",
        _date(doc.get("deletion_date")) or "0",
        _date(doc.get("available_on")),
        doc.get("status", "REGISTERED"),
    )


class ReportFiles:
    """One report of one registrar, open in both formats until close()."""

    def __init__(self, directory: Path, kind: Kind, registrar_id: str, generated_at: datetime) -> None:
        self.kind = kind
        self.rows = 0
        self.generated_at = generated_at
        if not directory.is_dir():
            directory.mkdir(parents=True, exist_ok=True)
        self.final = {fmt: directory / f"{kind.name}.{fmt}" for fmt in FORMATS}
        self.partial = {fmt: partial_path(path) for fmt, path in self.final.items()}
        # 64 KB buffers: a registrar's report is written in big sequential chunks (larger ones cost more
        # to set up than they save, with 4,000 files a run)
        self._csv_file: IO[str] = open(  # noqa: SIM115 (closed by close() or abort())
            self.partial["csv"], "w", encoding="utf-8", newline="", buffering=1 << 16)
        self._csv_file.write("\ufeff")  # the byte-order mark, written once (utf-8-sig encodes every write)
        self._xml: IO[str] = open(  # noqa: SIM115
            self.partial["xml"], "w", encoding="utf-8", buffering=1 << 16)
        self._csv = csv.writer(self._csv_file, lineterminator="\n")
        self._csv.writerow(kind.columns)
        stamp = generated_at.astimezone(BRUSSELS).isoformat(timespec="seconds")
        self._xml.write(f'<?xml version="1.0" encoding="UTF-8"?>\n<{kind.root} xmlns="{NAMESPACE}" '
                        f'registrar={quoteattr(registrar_id)} generatedAt="{stamp}">\n')
        self._template = (f"  <{kind.row}>" + "".join(f"<{c}>{{}}</{c}>" for c in kind.columns)
                          + f"</{kind.row}>\n")

    def write(self, values: tuple[str, ...]) -> None:
        self._csv.writerow(values)
        self._xml.write(self._template.format(*map(_xml_text, values)))
        self.rows += 1

    def close(self) -> None:
        self._xml.write(f"</{self.kind.root}>\n")
        # no fsync per file (4,000 a night, seconds each run): a report lost in a crash is regenerated
        # by the next run; os.replace still guarantees a reader sees a whole file, old or new
        for f in (self._csv_file, self._xml):
            f.close()
        stamp = self.generated_at.timestamp()
        for fmt in FORMATS:
            os.utime(self.partial[fmt], (stamp, stamp))
            os.replace(self.partial[fmt], self.final[fmt])

    def abort(self) -> None:
        for f in (self._csv_file, self._xml):
            f.close()
        for path in self.partial.values():
            path.unlink(missing_ok=True)
