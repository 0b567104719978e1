"""The reporting service through the real broker and database: events published on the platform's
exchange build the read models; the daily reports (CSV and XML, the XML valid against daily.xsd), the
top lists and the quarterly report (HTML and raw-data ZIP) are checked against what was published."""

import asyncio
import contextlib
import csv
import io
import json
import os
import re
import sys
import zipfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from lxml import etree
from pydantic import SecretStr

from services.reporting import journal
from services.reporting.app import build as build_reporting
from services.reporting.daily import KINDS, XSD
from services.reporting.jobs import run_due
from services.reporting.settings import ReportingSettings
from services.reporting.store import READ_MODELS
from shared.auth import DEVELOPMENT_SIGNING_KEY, SessionTokens, SigningKeys
from shared.clock import BRUSSELS, ManualClock
from shared.events import EventPayload, new_event
from shared.events.contacts import ContactCreated, ContactDeleted
from shared.events.domains import (
    DomainCreated,
    DomainDeleted,
    DomainQuarantined,
    DomainReactivated,
    DomainReleased,
    DomainRenewed,
    DomainServiceChanged,
    DomainTransferred,
)
from shared.events.feeds import DomainRevoked, InfectionReported, SupportCaseOpened, SupportTopic
from shared.events.groups import KeyGroupChanged, NameServerGroupChanged, NameServerGroupDeleted
from shared.events.money import PayingTransactionRecorded, TransactionKind
from shared.events.notifications import EmailBounced
from shared.events.registrars import RegistrarCategory, RegistrarCreated, RegistrarUpdated
from shared.events.verification import VerificationApproved, VerificationRequired
from shared.runtime import ServiceContext
from tests.integration.infra import (
    AMQP_URL,
    MONGODB_URL,
    OPERATOR,
    ROOT,
    EventTap,
    eventually,
    queue_depth,
    running,
)

NOW = datetime(2026, 10, 2, 9, 30, tzinfo=BRUSSELS)  # the third quarter of 2026 has just ended
R1, R2, R3 = "r100001", "r100002", "r100003"
PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


@dataclass
class Reporting:
    http: httpx.AsyncClient
    ctx: ServiceContext
    clock: ManualClock
    namespace: str
    published: int = 0

    async def publish(self, payload: EventPayload, registrar_id: str | None, at: datetime) -> Any:
        event = new_event(payload, registrar_id=registrar_id, correlation_id=None, clock=ManualClock(at))
        await self.ctx.publisher.publish(event)
        self.published += 1
        return event

    async def settled(self) -> None:
        """Every event published so far applied (once)."""
        # the journal is the consumer's ledger: every event applied is in it
        await eventually(lambda: journal.event_ids(self.ctx.db), lambda ids: len(ids) >= self.published, timeout=30)

    def user(self, registrar_id: str, permissions: tuple[str, ...] = ("MY_REGISTRATIONS",)) -> dict[str, str]:
        # the development key: the service under test trusts it (no JWKS_URL)
        token = SessionTokens(SigningKeys([SecretStr(DEVELOPMENT_SIGNING_KEY)])).issue(
            user_id=f"{registrar_id}-u", registrar_id=registrar_id, permissions=permissions,
            expires_at=self.clock.now() + timedelta(hours=8))
        return {"Authorization": f"Bearer {token}"}


@contextlib.asynccontextmanager
async def reporting_service(namespace: str, reports_dir: Path) -> AsyncIterator[Reporting]:
    clock = ManualClock(NOW)
    settings = ReportingSettings(namespace=namespace, reports_dir=reports_dir, jobs_enabled=False,
                                 operator_token="operator-dev-token", outbox_poll_seconds=0.05,
                                 public_url="https://reports.example")
    app = build_reporting(settings, clock=clock)
    async with running(app) as http:
        yield Reporting(http, app.state.ctx, clock, namespace)


@pytest.fixture
async def reporting(namespace: str, tmp_path: Path) -> AsyncIterator[Reporting]:
    async with reporting_service(namespace, tmp_path / "reports") as service:
        yield service


def at(day: str, hour: int = 12) -> datetime:
    return datetime.fromisoformat(f"{day}T{hour:02d}:00:00").replace(tzinfo=BRUSSELS)


def created(name: str, registrant: str, day: str) -> DomainCreated:
    return DomainCreated(name=name, tld="be", registrant=registrant, registered_at=at(day))


def contact(alias: str, kind: str) -> ContactCreated:
    return ContactCreated(alias=alias, type=kind, name="N", street=["s"], city="c", postal_code="1000",
                          country="BE", phone="+32.1", email=f"{alias}@example.be", language="nl")


def read_csv(body: bytes) -> list[list[str]]:
    assert body.startswith(b"\xef\xbb\xbf"), "UTF-8 with a byte-order mark, for spreadsheets"
    assert b"\r\n" not in body
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"), newline="")))


def read_xml(body: bytes) -> etree._Element:
    schema = etree.XMLSchema(etree.parse(str(XSD), PARSER))
    root = etree.fromstring(body, PARSER)
    schema.assertValid(root)
    return root


def xml_rows(root: etree._Element, columns: list[str]) -> list[list[str]]:
    ns = {"r": root.nsmap[None]}
    return [[(row.findtext(f"r:{c}", namespaces=ns) or "") for c in columns] for row in root]


async def get_report(r: Reporting, headers: dict[str, str], name: str) -> tuple[list[list[str]], etree._Element]:
    """The CSV's rows (exactly the report's columns; the generation time is the XML root's, the listing's and
    the download's Last-Modified), and the XML root."""
    csv_response = await r.http.get(f"/api/reports/daily/{name}.csv", headers=headers)
    xml_response = await r.http.get(f"/api/reports/daily/{name}.xml", headers=headers)
    assert csv_response.status_code == xml_response.status_code == 200, (csv_response.text, xml_response.text)
    assert csv_response.headers["content-type"].startswith("text/csv")
    table = read_csv(csv_response.content)
    root = read_xml(xml_response.content)
    assert tuple(table[0]) == KINDS[name].columns  # seed 000's columns, nothing added
    generated = datetime.fromisoformat(root.get("generatedAt"))
    assert parsedate_to_datetime(csv_response.headers["last-modified"]) == generated.replace(microsecond=0)
    assert xml_rows(root, table[0]) == table[1:], "the XML holds the same information as the CSV"
    return table, root


async def test_daily_reports_list_what_the_events_said(reporting: Reporting) -> None:
    r = reporting
    await r.publish(RegistrarCreated(name="Alpha Hosting", products=["be"], languages=["nl"], email="a@x.be"), R1, NOW)
    await r.publish(RegistrarCreated(name="Beta & Co", products=["be"], languages=["fr"], email="b@x.be"), R2, NOW)
    await r.publish(RegistrarCreated(name="Gamma", products=["be"], languages=["en"], email="c@x.be"), R3, NOW)
    for alias, kind in (("r1-holder", "REGISTRANT"), ("r1-tech", "TECH"), ("r1-bill", "BILLING"),
                        ("r1-gone", "ONSITE")):
        await r.publish(contact(alias, kind), R1, at("2026-01-02"))
    await r.publish(contact("r2-holder", "REGISTRANT"), R2, at("2026-01-02"))
    await r.publish(ContactDeleted(alias="r1-gone", type="ONSITE"), R1, at("2026-01-03"))
    await r.publish(VerificationRequired(contact="r1-holder", domain="alpha.be"), R1, at("2026-01-04"))
    await r.publish(VerificationApproved(contact="r1-holder", domains=["alpha.be"]), R1, at("2026-01-05"))
    # registrations: an IDN (A-label in, U-label out), one scheduled for deletion, one in quarantine
    first = await r.publish(created("alpha.be", "r1-holder", "2025-03-15"), R1, at("2025-03-15"))
    await r.publish(created("xn--caf-dma.be", "r1-holder", "2026-02-28"), R1, at("2026-02-28"))
    await r.publish(created("bye.be", "r1-holder", "2024-06-01"), R1, at("2024-06-01"))
    await r.publish(created("old.be", "r1-holder", "2023-07-10"), R1, at("2023-07-10"))
    await r.publish(created("moved.be", "r1-holder", "2022-01-20"), R1, at("2022-01-20"))
    await r.publish(created("beta.be", "r2-holder", "2026-05-05"), R2, at("2026-05-05"))
    await r.publish(created("gone.be", "r2-holder", "2020-01-01"), R2, at("2020-01-01"))
    # the registry renews a March anniversary on 1 April
    await r.publish(DomainRenewed(name="alpha.be", registrar_id=R1, expires_at=at("2027-03-15")), R1,
                    at("2026-04-01", 0) + timedelta(minutes=5))
    await r.publish(DomainDeleted(name="bye.be", delete_date=at("2026-11-20", 0)), R1, at("2026-09-30"))
    await r.publish(DomainDeleted(name="old.be", delete_date=at("2026-09-01", 0)), R1, at("2026-08-20"))
    await r.publish(DomainQuarantined(name="old.be", quarantined_at=at("2026-09-01", 0),
                                      available_on=at("2026-10-11", 0)), R1, at("2026-09-01", 0))
    await r.publish(DomainTransferred(name="moved.be", gaining_registrar_id=R2, losing_registrar_id=R1,
                                      old_registrant="r1-holder", new_registrant="r2-holder", from_quarantine=False,
                                      expires_at=at("2027-09-15")), R2, at("2026-09-15"))
    await r.publish(DomainQuarantined(name="gone.be", quarantined_at=at("2026-07-01", 0),
                                      available_on=at("2026-08-10", 0)), R2, at("2026-07-01", 0))
    await r.publish(DomainReleased(name="gone.be"), R2, at("2026-08-10", 0))
    await r.publish(NameServerGroupChanged(name="ns-main", name_servers=["ns1.alpha.be"], created=True), R1, NOW)
    await r.publish(NameServerGroupChanged(name="ns-old", name_servers=["ns9.alpha.be"], created=True), R1, NOW)
    await r.publish(NameServerGroupDeleted(name="ns-old"), R1, NOW)
    await r.publish(KeyGroupChanged(name="kg-<1>", keys=[], created=True), R1, NOW)
    await r.publish(NameServerGroupChanged(name="ns-beta", name_servers=["ns1.beta.be"], created=True), R2, NOW)
    await r.settled()
    # a redelivery of an event already applied changes nothing
    await r.ctx.publisher.publish(first)
    await eventually(lambda: r.http.get("/metrics"), lambda m: 'outcome="duplicate"} 1.0' in m.text)

    generated = await r.http.post("/api/operator/reports/daily", headers=OPERATOR)
    assert generated.status_code == 200, generated.text
    assert generated.json()["rows"] == {"registrations": 6, "contacts": 4, "nsgroups": 2, "keygroups": 1}
    assert generated.json()["registrars"] == 3

    alpha = r.user(R1)
    listing = (await r.http.get("/api/reports/daily", headers=alpha)).json()
    assert datetime.fromisoformat(listing["generated_at"]) == NOW
    assert {(f["report"], f["format"]) for f in listing["files"]} == {
        (k, f) for k in ("registrations", "nsgroups", "keygroups", "contacts") for f in ("csv", "xml")}

    table, root = await get_report(r, alpha, "registrations")
    assert root.get("registrar") == R1 and datetime.fromisoformat(root.get("generatedAt")) == NOW
    assert table == [
        ["domain", "registeredOn", "invoiceMonth", "registrant", "deletionDate", "availableOn", "status"],
        ["alpha.be", "2025-03-15", "2027-03", "r1-holder", "0", "", "REGISTERED"],
        ["bye.be", "2024-06-01", "2025-06", "r1-holder", "2026-11-20", "", "REGISTERED"],
        ["old.be", "2023-07-10", "2024-07", "r1-holder", "2026-09-01", "2026-10-11", "QUARANTINE"],
        ["café.be", "2026-02-28", "2027-02", "r1-holder", "0", "", "REGISTERED"],
    ]
    table, _ = await get_report(r, alpha, "contacts")
    assert table == [["alias", "type", "status"], ["r1-bill", "BILLING", "ACTIVE"],
                     ["r1-holder", "REGISTRANT", "VERIFIED"], ["r1-tech", "TECHNICAL", "ACTIVE"]]
    assert (await get_report(r, alpha, "nsgroups"))[0] == [["name"], ["ns-main"]]
    assert (await get_report(r, alpha, "keygroups"))[0] == [["name"], ["kg-<1>"]]

    beta = r.user(R2)
    table, _ = await get_report(r, beta, "registrations")
    assert table[1:] == [["beta.be", "2026-05-05", "2027-05", "r2-holder", "0", "", "REGISTERED"],
                         ["moved.be", "2022-01-20", "2027-09", "r2-holder", "0", "", "REGISTERED"]]
    assert (await get_report(r, beta, "contacts"))[0][1:] == [["r2-holder", "REGISTRANT", "UNVERIFIED"]]
    # a registrar with nothing gets empty, valid reports
    assert (await get_report(r, r.user(R3), "registrations"))[0] == [table[0]]

    # who may read what
    assert (await r.http.get("/api/reports/daily/registrations.csv")).status_code == 401
    assert (await r.http.get("/api/reports/daily/registrations.csv", headers=r.user(R1, ()))).status_code == 403
    assert (await r.http.get("/api/reports/daily/passwords.csv", headers=alpha)).status_code == 404
    assert (await r.http.get("/api/reports/daily/registrations.pdf", headers=alpha)).status_code == 404
    assert (await r.http.get("/api/reports/daily/..%2F..%2Fr100002%2Fregistrations.csv",
                             headers=alpha)).status_code == 404
    assert (await r.http.get("/api/reports/daily/registrations.csv", headers=r.user("r999999"))).status_code == 404
    assert (await r.http.post("/api/operator/reports/daily")).status_code == 401

    # Top 100: active registrations after the transfer (1 out of R1, into R2), the quarantine (R1: old.be no
    # longer counts) and the release (R2)
    top = (await r.http.get("/api/reports/top100", headers=beta)).json()
    assert [(e["position"], e["registrar_id"], e["name"], e["count"], e["share_percent"]) for e in top["entries"]] == [
        (1, R1, "Alpha Hosting", 3, 60.0), (2, R2, "Beta & Co", 2, 40.0), (3, R3, "Gamma", 0, 0.0)]
    assert top["total"] == 5 and top["own"]["position"] == 2 and top["own"]["registrar_id"] == R2
    # the same counts as /api/portfolios, which needs the same login (or the operator token)
    for headers, code in (({}, 401), (r.user(R1, ()), 403), (beta, 200), (OPERATOR, 200)):
        assert (await r.http.get("/api/portfolios", headers=headers)).status_code == code
    # one registrar's count: its own, or the operator's; never another registrar's token
    for headers, code in (({}, 401), (r.user(R1, ()), 403), (beta, 403), (alpha, 200), (OPERATOR, 200)):
        assert (await r.http.get(f"/api/portfolios/{R1}", headers=headers)).status_code == code
    assert (await r.http.get(f"/api/portfolios/{R1}", headers=OPERATOR)).json() == {"registrar_id": R1, "domains": 3}


async def test_an_out_of_service_release_counts_as_one_delete_like_a_quarantine(reporting: Reporting) -> None:
    r = reporting
    await r.publish(RegistrarCreated(name="Alpha", products=["be"], languages=["nl"], email="a@x.be"), R1,
                    at("2024-01-01"))
    # out of service in March (its registrar's contract ended), not renewed at its June expiry, released two
    # months after the end of June (digest 4.1): no quarantine, the release is its delete
    await r.publish(created("unserved.be", "h", "2024-06-10"), R1, at("2024-06-10"))
    await r.publish(DomainServiceChanged(name="unserved.be", out_of_service=True, since=at("2026-03-01"),
                                         expires_at=at("2026-06-10")), R1, at("2026-03-01"))
    await r.publish(DomainReleased(name="unserved.be"), R1, at("2026-09-01", 0))
    # deleted: counted when quarantined (July), not again at its release
    await r.publish(created("quarantined.be", "h", "2024-07-05"), R1, at("2024-07-05"))
    await r.publish(DomainDeleted(name="quarantined.be", delete_date=at("2026-07-20", 0)), R1, at("2026-07-01"))
    await r.publish(DomainQuarantined(name="quarantined.be", quarantined_at=at("2026-07-20", 0),
                                      available_on=at("2026-08-29", 0)), R1, at("2026-07-20", 0))
    await r.publish(DomainReleased(name="quarantined.be"), R1, at("2026-08-29", 0))
    # its release applied before its quarantine (a redelivery): still one delete, in August
    await r.publish(created("overtaken.be", "h", "2024-08-01"), R1, at("2024-08-01"))
    await r.publish(DomainDeleted(name="overtaken.be", delete_date=at("2026-08-02", 0)), R1, at("2026-07-25"))
    await r.publish(DomainReleased(name="overtaken.be"), R1, at("2026-09-11", 0))
    await r.publish(DomainQuarantined(name="overtaken.be", quarantined_at=at("2026-08-02", 0),
                                      available_on=at("2026-09-11", 0)), R1, at("2026-08-02", 0))
    # out of service, then moved to a registrar with a contract: back in service, still registered
    await r.publish(created("served.be", "h", "2024-09-01"), R1, at("2024-09-01"))
    await r.publish(DomainServiceChanged(name="served.be", out_of_service=True, since=at("2026-04-01"),
                                         expires_at=at("2026-09-01")), R1, at("2026-04-01"))
    await r.publish(DomainServiceChanged(name="served.be", out_of_service=False, expires_at=at("2026-09-01")), R1,
                    at("2026-05-01"))
    await r.settled()

    run = await r.http.post("/api/operator/reports/quarterly/2026-Q3", headers=OPERATOR)
    assert run.status_code == 200, run.text
    archive = await r.http.get("/api/reports/quarterly/2026-Q3.zip", headers=r.user(R1))
    files = zipfile.ZipFile(io.BytesIO(archive.content))

    def table(name: str) -> list[list[str]]:
        return list(csv.reader(io.StringIO(files.read(name).decode("utf-8"))))

    # one delete a month: quarantined.be (July), overtaken.be (August), unserved.be at its release (September)
    assert [row[:2] for row in table("2026Q3-delete-r100001.csv")[1:]] == [["2026-07", "1"], ["2026-08", "1"],
                                                                          ["2026-09", "1"]]
    # unserved.be was not renewed at its second anniversary (June 2026: the expiry its events gave), and
    # quarantined.be was deleted at its second; overtaken.be's quarantine found only its release's tombstone,
    # which no longer knows the registration month (lifecycle.py)
    assert table("2026Q3-delete-age-r100001.csv") == [["anniversary", "deletes"], ["2", "2"], ["unknown", "1"]]
    # the portfolio: a quarantine leaves it (overtaken.be's release, applied first, took it out in September),
    # the out-of-service name leaves at its release; served.be stays
    assert table("2026Q3-total-domains-r100001.csv")[1:] == [["2026-07", "3"], ["2026-08", "3"], ["2026-09", "1"]]
    daily = await r.http.post("/api/operator/reports/daily", headers=OPERATOR)
    assert daily.status_code == 200, daily.text
    table_rows, _ = await get_report(r, r.user(R1), "registrations")
    assert [row[0] for row in table_rows[1:]] == ["served.be"]


async def test_top_30_counts_last_months_paying_transactions(reporting: Reporting) -> None:
    r = reporting
    september, august = at("2026-09-10"), at("2026-08-10")
    for registrar, n_sep, n_aug in ((R1, 2, 5), (R2, 3, 1), (R3, 1, 0)):
        for i in range(n_sep):
            await r.publish(PayingTransactionRecorded(kind=TransactionKind.CREATE, object=f"{registrar}-{i}.be",
                                                      amount_cents=500, balance_cents=0, reference="x"),
                            registrar, september)
        for i in range(n_aug):
            await r.publish(PayingTransactionRecorded(kind=TransactionKind.RENEWAL, object=f"{registrar}-a{i}.be",
                                                      amount_cents=500, balance_cents=0, reference="x"),
                            registrar, august)
    # October's transaction does not count yet: the top 30 is about the last month
    await r.publish(PayingTransactionRecorded(kind=TransactionKind.CREATE, object="oct.be", amount_cents=500,
                                              balance_cents=0, reference="x"), R3, at("2026-10-01", 9))
    await r.settled()
    top = (await r.http.get("/api/reports/top30", headers=r.user(R3))).json()
    assert top["period"] == "2026-09" and top["total"] == 6
    assert [(e["position"], e["registrar_id"], e["count"], e["last_month_position"]) for e in top["entries"]] == [
        (1, R2, 3, 2), (2, R1, 2, 1), (3, R3, 1, None)]
    assert top["own"]["registrar_id"] == R3 and top["own"]["position"] == 3
    assert (await r.http.get("/api/reports/top30?month=2026-13", headers=r.user(R3))).status_code == 422


async def test_the_quarterly_report_and_its_announcement(reporting: Reporting) -> None:
    r = reporting
    # categories: R1's newest profile says retail and hosting (an older update applied late changes nothing),
    # R3 is retail and hosting too, R2 has none
    retail, wholesale = RegistrarCategory.RETAIL_AND_HOSTING, RegistrarCategory.WHOLESALE
    for registrar, name, category in ((R1, "Alpha", wholesale), (R2, "Beta", None), (R3, "Gamma", retail)):
        await r.publish(RegistrarCreated(name=name, products=["be"], languages=["nl"], email="a@x.be",
                                         category=category), registrar, at("2026-01-01"))
    await r.publish(RegistrarUpdated(section="profile", changes={"organisation": ["Alpha"], "category": retail}), R1,
                    at("2026-03-01"))
    await r.publish(RegistrarUpdated(section="profile", changes={"organisation": ["Alpha"], "category": "CORPORATE"}),
                    R1, at("2026-02-01"))
    await r.publish(created("c0.be", "h", "2024-03-10"), R3, at("2024-03-10"))
    for i in (0, 3):
        await r.publish(created(f"a{i}.be", "h", "2026-06-01"), R1, at("2026-06-01"))
    for i in (1, 2):  # September anniversaries
        await r.publish(created(f"a{i}.be", "h", "2025-09-30"), R1, at("2025-09-30"))
    await r.publish(created("b0.be", "h", "2026-06-01"), R2, at("2026-06-01"))
    await r.publish(created("q3.be", "h", "2026-07-20"), R1, at("2026-07-20"))
    await r.publish(DomainTransferred(name="a0.be", gaining_registrar_id=R2, losing_registrar_id=R1,
                                      old_registrant="h", new_registrant="h2", from_quarantine=False,
                                      expires_at=at("2027-08-03")), R2, at("2026-08-03"))
    # what the registry publishes: the renewal of September anniversaries on 1 October, for a year; they count
    # for September (the renewal rate sets them against September's deletes)
    for name in ("a1.be", "a2.be"):
        await r.publish(DomainRenewed(name=name, registrar_id=R1, expires_at=at("2027-09-30")), R1,
                        at("2026-10-01", 0) + timedelta(minutes=5))
    await r.publish(DomainQuarantined(name="a3.be", quarantined_at=at("2026-09-01", 0),
                                      available_on=at("2026-10-11", 0)), R1, at("2026-09-01", 0))
    await r.publish(DomainRevoked(name="a1.be", revoke_type="Fake web shop", revoked_at=at("2026-07-03")), R1,
                    at("2026-07-03"))
    await r.publish(DomainRevoked(name="a2.be", revoke_type="Phishing", revoked_at=at("2026-09-03")), R1,
                    at("2026-09-03"))
    await r.publish(InfectionReported(url="http://a1.be/x", domain="a1.be", infection_type="malware",
                                      detected_at=at("2026-08-05")), R1, at("2026-08-05"))
    for day, topic in (("2026-07-06", SupportTopic.TRANSFER), ("2026-07-06", SupportTopic.PRIVACY),
                       ("2026-09-14", SupportTopic.TRANSFER)):
        await r.publish(SupportCaseOpened(case_id=f"c-{day}-{topic.name}", topic=topic, opened_at=at(day)), R1, at(day))
    # a registrant's address bounces on 07-01, 07-04 (3 days on: not recurring), 07-24 (20 days on: recurring)
    # and 07-30 (6 days on: not); 07-24 is applied before 07-04 (requeued): the last bounce stays 07-24
    for day in ("2026-07-01", "2026-07-24", "2026-07-04", "2026-07-30"):
        await r.publish(EmailBounced(recipient="Holder@Example.be", message_type="registrant.verification_required",
                                     audience="registrant", smtp_code=550, reason=f"mailbox unavailable {day}",
                                     detailed_code="5.1.1"), R1, at(day))
    await r.publish(EmailBounced(recipient="x@example.be", message_type="registrant.transfer_code",
                                 audience="registrant", reason="soft", permanent=False), R1, at("2026-07-02"))
    # the registrar's own address bouncing is not a bounced registrant e-mail
    await r.publish(EmailBounced(recipient="desk@alpha.example", message_type="registrar.quarterly_report",
                                 audience="registrar", smtp_code=550, reason="no such user"), R1, at("2026-07-05"))
    await r.settled()

    # not before the quarter ends; not a quarter at all
    assert (await r.http.post("/api/operator/reports/quarterly/2026-Q4", headers=OPERATOR)).status_code == 409
    assert (await r.http.post("/api/operator/reports/quarterly/2026-Q5", headers=OPERATOR)).status_code == 422
    async with EventTap(r.namespace, "report.#") as tap:
        run = await r.http.post("/api/operator/reports/quarterly/2026-Q3", headers=OPERATOR)
        assert run.status_code == 200, run.text
        ready = await tap.wait_for("report.quarterly_ready", count=3)
        # a re-run replaces the reports without announcing them again; the daily run's event, from the same
        # outbox after it, shows everything before it was published
        assert (await r.http.post("/api/operator/reports/quarterly/2026-Q3", headers=OPERATOR)).status_code == 200
        assert (await r.http.post("/api/operator/reports/daily", headers=OPERATOR)).status_code == 200
        await tap.wait_for("report.daily_generated")
        assert len(tap.of("report.quarterly_ready")) == 3
    by_registrar = {e["registrar_id"]: e["payload"] for e in ready}
    assert by_registrar[R1] == {"quarter": "2026-Q3", "url": "https://reports.example/api/reports/quarterly/2026-Q3",
                                "zip_name": "2026Q3-raw-data-r100001.zip"}

    alpha = r.user(R1)
    listing = (await r.http.get("/api/reports/quarterly", headers=alpha)).json()
    assert [q["quarter"] for q in listing] == ["2026-Q3"]
    page = await r.http.get("/api/reports/quarterly/2026-Q3", headers=alpha)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    html = page.text
    assert "<svg" in html and "<script" not in html.lower()
    assert not re.search(r'(src|href)="https?:', html), "self-contained: nothing loaded from elsewhere"
    assert "Fake web shop" in html and "Transfer" in html
    assert "<td>550 5.1.1</td><td>4</td>" in html and "mailbox unavailable" not in html  # keyed by the codes
    assert (await r.http.get("/api/reports/quarterly/2026-Q2", headers=alpha)).status_code == 404
    assert (await r.http.get("/api/reports/quarterly/2026-Q3", headers=r.user(R1, ()))).status_code == 403

    archive = await r.http.get("/api/reports/quarterly/2026-Q3.zip", headers=alpha)
    assert archive.status_code == 200
    files = zipfile.ZipFile(io.BytesIO(archive.content))
    names = set(files.namelist())
    assert "2026Q3-registrant-verification-r100001.csv" in names
    assert "2026Q3-revoke-top10.csv" in names and "2026Q3-revoke-all-registrars.csv" in names
    assert all(re.match(r"^2026Q3-[a-z-]+-[a-z0-9-]+\.csv$", n) for n in names)

    def table(name: str) -> list[list[str]]:
        return list(csv.reader(io.StringIO(files.read(name).decode("utf-8"))))

    # R1: 4 before July, +1 July, -1 transferred out in August, -1 quarantined in September (active only)
    assert table("2026Q3-total-domains-r100001.csv")[1:] == [["2026-07", "5"], ["2026-08", "4"], ["2026-09", "3"]]
    assert table("2026Q3-revoke-r100001.csv")[1:] == [["2026-07", "1", "5", "20000.0"], ["2026-08", "0", "4", "0.0"],
                                                      ["2026-09", "1", "3", "33333.33"]]
    assert table("2026Q3-bounced-emails-r100001.csv")[1:] == [["2026-07", "4", "1"], ["2026-08", "0", "0"],
                                                              ["2026-09", "0", "0"]]
    assert table("2026Q3-transfer-r100001.csv")[1:] == [["2026-07", "0", "0"], ["2026-08", "0", "1"],
                                                        ["2026-09", "0", "0"]]
    # the registrar it lost a domain to, in the top 5 of the page
    assert "<th>lost to (top 5)</th><th>domains</th></tr><tr><td>r100002</td><td>1</td>" in html
    assert table("2026Q3-delete-r100001.csv")[1:] == [["2026-07", "0", "0", ""], ["2026-08", "0", "0", ""],
                                                      ["2026-09", "1", "2", "66.67"]]
    assert table("2026Q3-support-cases-r100001.csv")[1][:2] == ["2026-07", "2"]
    assert table("2026Q3-infections-r100001.csv")[2][:2] == ["2026-08", "1"]
    # the all-registrars group is one virtual registrar: its revokes over all domains (3 + 2 + 1)
    assert table("2026Q3-revoke-all-registrars.csv")[3] == ["2026-09", "1", "6", "16666.67"]
    # so is R1's category, R1 and R3 (3 + 1), beside the other groups on the page too
    assert table("2026Q3-revoke-retail-and-hosting.csv")[3] == ["2026-09", "1", "4", "25000.0"]
    assert "<th>all-registrars</th><th>retail-and-hosting</th>" in html
    assert not [n for n in names if "corporate" in n or "wholesale" in n]

    # ages: a1, a2 (September 2025) are 1 at quarter end, q3 (July 2026) 0; in the category R3's c0 (2024) is 2
    assert table("2026Q3-registrations-per-age-r100001.csv") == [["age_years", "registrations"], ["0", "1"], ["1", "2"]]
    assert table("2026Q3-registrations-per-age-retail-and-hosting.csv")[1:] == [["0", "1"], ["1", "2"], ["2", "1"]]
    # both renewals and a3's delete (registered in June, deleted in September) decide the first anniversary
    assert table("2026Q3-renewal-age-r100001.csv") == [["anniversary", "renewals", "renewal_rate"], ["1", "2", "66.67"]]
    assert table("2026Q3-delete-age-r100001.csv") == [["anniversary", "deletes"], ["1", "1"]]
    assert "<tr><td>1</td><td>2</td><td>1</td><td>66.67</td></tr>" in html
    # 3 at quarter end against 2 a year before (a1, a2)
    assert "Year-on-year growth of the portfolio at quarter end: <b>+50 % (a year before: 2)</b>" in html

    # a registrar without a category has no category group
    beta = zipfile.ZipFile(io.BytesIO((await r.http.get("/api/reports/quarterly/2026-Q3.zip",
                                                        headers=r.user(R2))).content))
    assert all(re.match(r"^2026Q3-[a-z-]+-(r100002|top10|top50|all-registrars)\.csv$", n) for n in beta.namelist())

    metrics = (await r.http.get("/metrics")).text
    assert 'reporting_reports_generated_total{kind="quarterly"} 2.0' in metrics


async def test_a_malformed_feed_event_is_dead_lettered_and_changes_nothing(reporting: Reporting) -> None:
    r = reporting
    bad = new_event(SupportCaseOpened(case_id="c1", topic=SupportTopic.ABUSE, opened_at=NOW), registrar_id=R1,
                    correlation_id=None, clock=ManualClock(NOW)).model_dump(mode="json")
    bad["payload"]["topic"] = "Not a topic"
    await r.ctx.broker.publish(json.dumps(bad).encode(), exchange=r.ctx.topology.events_exchange,
                               routing_key="feed.support_case_opened", persist=True)
    await eventually(lambda: queue_depth(f"{r.ctx.settings.queue_name}.dlq"), lambda n: n == 1)
    assert await r.ctx.db["facts"].count_documents({}) == 0


async def test_the_jobs_keep_the_daily_reports_under_a_day_old_and_run_the_quarter_once(reporting: Reporting) -> None:
    r = reporting
    await r.publish(created("one.be", "h", "2026-09-01"), R1, at("2026-09-01"))
    await r.settled()
    r.clock.set(at("2026-10-02", 1))  # before DAILY_HOUR (2), but there are no daily reports yet: at once
    assert await run_due(r.ctx) == {"daily": "2026-10-02", "quarterly": "2026-Q3"}
    r.clock.set(at("2026-10-02", 3))
    assert await run_due(r.ctx) == {}  # that run was today's
    r.clock.set(at("2026-10-02", 23) + timedelta(minutes=59))
    assert await run_due(r.ctx) == {}
    r.clock.set(at("2026-10-03", 0))
    assert await run_due(r.ctx) == {"daily": "2026-10-03"}  # 23 hours old: not left to reach 24
    r.clock.set(at("2026-10-03", 2))
    assert await run_due(r.ctx) == {}  # 00:00 was the day's run

    # downtime: the service comes back on 6 October at 00:30, before DAILY_HOUR; the reports are days old
    r.clock.set(at("2026-10-06", 0) + timedelta(minutes=30))
    age = await r.ctx.extras["reporting"].observe_daily_age()
    assert age == (r.clock.now() - at("2026-10-03", 0)).total_seconds()
    assert await run_due(r.ctx) == {"daily": "2026-10-06"}
    listing = (await r.http.get("/api/reports/daily", headers=r.user(R1))).json()
    assert datetime.fromisoformat(listing["generated_at"]) == r.clock.now()
    metrics = (await r.http.get("/metrics")).text
    assert 'reporting_reports_generated_total{kind="daily"} 3.0' in metrics
    assert "reporting_read_model_lag_seconds" in metrics


async def test_the_age_gauge_comes_from_the_database_after_a_restart_with_failing_runs(
        reporting: Reporting, tmp_path: Path) -> None:
    r = reporting
    await r.publish(created("one.be", "h", "2026-09-01"), R1, at("2026-09-01"))
    await r.settled()
    assert (await r.http.post("/api/operator/reports/daily", headers=OPERATOR)).status_code == 200
    # another replica starts 25 hours later, with the jobs on, and every run fails (its reports volume is broken)
    broken = tmp_path / "not-a-directory"
    broken.write_text("")
    settings = ReportingSettings(namespace=r.namespace, reports_dir=broken, jobs_interval_seconds=0.1,
                                 operator_token="operator-dev-token", outbox_poll_seconds=0.05)
    app = build_reporting(settings, clock=ManualClock(NOW + timedelta(hours=25)))
    async with running(app) as other:
        metrics = await eventually(lambda: other.get("/metrics"),
                                   lambda m: 'reporting_report_failures_total{kind="daily"}' in m.text
                                   and "reporting_daily_reports_age_seconds 90000.0" in m.text)
    # what the alert used to read: set only by a run that succeeded in this process, so it has no value here
    assert 'reporting_last_generated_timestamp_seconds{kind="daily"}' not in metrics.text


async def test_a_run_while_another_holds_the_lease_is_refused(reporting: Reporting) -> None:
    r = reporting
    await r.publish(created("one.be", "h", "2026-09-01"), R1, at("2026-09-01"))
    await r.settled()
    # another replica's run holds the lease
    await r.ctx.db["leases"].insert_one({"_id": "reporting-run:daily", "owner": "replica-2:1:x",
                                         "expires_at": datetime.now(UTC) + timedelta(minutes=10)})
    refused = await r.http.post("/api/operator/reports/daily", headers=OPERATOR)
    assert refused.status_code == 409 and "in progress" in refused.json()["detail"]
    r.clock.set(at("2026-10-02", 3))
    assert await run_due(r.ctx) == {"quarterly": "2026-Q3"}  # the daily run is left to the next round
    assert await r.ctx.db["reports"].find_one({"_id": "daily"}) is None
    # two runs in one replica exclude each other too
    await r.ctx.db["leases"].delete_one({"_id": "reporting-run:daily"})
    reporting_service = r.ctx.extras["reporting"]
    outcomes = await asyncio.gather(reporting_service.generate_daily(), reporting_service.generate_daily(),
                                    return_exceptions=True)
    assert sorted(type(o).__name__ for o in outcomes) == ["DailyRun", "RunInProgress"]
    assert await r.ctx.db["leases"].find_one({"_id": "reporting-run:daily"}) is None, "released after the run"
    metrics = (await r.http.get("/metrics")).text
    assert 'reporting_report_failures_total{kind="daily"}' not in metrics


async def test_events_applied_out_of_order_make_the_same_read_models(reporting: Reporting) -> None:
    r = reporting
    # a requeued domain.created applied after the transfer that followed it
    await r.publish(DomainTransferred(name="moved.be", gaining_registrar_id=R2, losing_registrar_id=R1,
                                      old_registrant="r1-holder", new_registrant="r2-holder", from_quarantine=False,
                                      expires_at=at("2027-09-15")), R2, at("2026-09-15"))
    await r.publish(created("moved.be", "r1-holder", "2022-01-20"), R1, at("2022-01-20"))
    # the verification outcome before the contact it is about
    await r.publish(VerificationApproved(contact="r2-holder", domains=["moved.be"]), R2, at("2026-01-05"))
    await r.publish(contact("r2-holder", "REGISTRANT"), R2, at("2026-01-02"))
    # a reactivation before the quarantine and the delete it undid
    await r.publish(created("back.be", "r1-holder", "2023-07-10"), R1, at("2023-07-10"))
    await r.publish(DomainReactivated(name="back.be"), R1, at("2026-09-03"))
    await r.publish(DomainQuarantined(name="back.be", quarantined_at=at("2026-09-01", 0),
                                      available_on=at("2026-10-11", 0)), R1, at("2026-09-01", 0))
    await r.publish(DomainDeleted(name="back.be", delete_date=at("2026-09-01", 0)), R1, at("2026-08-20"))
    await r.settled()

    assert (await r.http.post("/api/operator/reports/daily", headers=OPERATOR)).status_code == 200
    table, _ = await get_report(r, r.user(R2), "registrations")
    assert table[1:] == [["moved.be", "2022-01-20", "2027-09", "r2-holder", "0", "", "REGISTERED"]]
    assert (await get_report(r, r.user(R2), "contacts"))[0][1:] == [["r2-holder", "REGISTRANT", "VERIFIED"]]
    table, _ = await get_report(r, r.user(R1), "registrations")
    assert table[1:] == [["back.be", "2023-07-10", "2024-07", "r1-holder", "0", "", "REGISTERED"]]
    portfolios = (await r.http.get("/api/portfolios", headers=OPERATOR)).json()
    assert {p["registrar_id"]: p["domains"] for p in portfolios} == {R1: 1, R2: 1}
    # moved.be's age: unknown while only the transfer was known, its 2022 cohort once the creation came
    cohorts = (await r.ctx.db["portfolios"].find_one({"_id": R2}) or {})["cohorts"]
    assert {c: n for c, n in cohorts.items() if n} == {"2022-01": 1}


async def read_models(r: Reporting) -> dict[str, list[dict]]:
    # a released name's tombstone may be purged by the TTL monitor at any moment: not compared
    return {name: await r.ctx.db[name].find({"status": {"$ne": "RELEASED"}}).sort("_id", 1).to_list()
            for name in READ_MODELS}


async def run_rebuild(namespace: str) -> tuple[int, str]:
    env = os.environ | {"NAMESPACE": namespace, "AMQP_URL": AMQP_URL, "MONGODB_URL": MONGODB_URL, "LOG_FORMAT": "text"}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "services.reporting.rebuild", cwd=ROOT, env=env, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT)
    output, _ = await asyncio.wait_for(process.communicate(), timeout=120)
    return process.returncode or 0, output.decode()


async def test_a_rebuild_replays_the_journal_into_the_same_read_models(namespace: str, tmp_path: Path) -> None:
    async with reporting_service(namespace, tmp_path / "before") as r:
        for registrar, name in ((R1, "Alpha"), (R2, "Beta")):
            await r.publish(RegistrarCreated(name=name, products=["be"], languages=["nl"], email="a@x.be"), registrar,
                            at("2026-01-01"))
        await r.publish(contact("r1-holder", "REGISTRANT"), R1, at("2026-01-02"))
        await r.publish(contact("r1-tech", "TECH"), R1, at("2026-01-02"))
        await r.publish(VerificationRequired(contact="r1-holder", domain="a.be", first=True), R1, at("2026-01-03"))
        await r.publish(VerificationApproved(contact="r1-holder", domains=["a.be"]), R1, at("2026-01-04"))
        for name in ("a.be", "b.be", "c.be", "d.be"):
            await r.publish(created(name, "r1-holder", "2025-09-10"), R1, at("2025-09-10"))
        await r.publish(DomainTransferred(name="b.be", gaining_registrar_id=R2, losing_registrar_id=R1,
                                          old_registrant="r1-holder", new_registrant="r2-holder", from_quarantine=False,
                                          expires_at=at("2027-08-03")), R2, at("2026-08-03"))
        await r.publish(DomainRenewed(name="a.be", registrar_id=R1, expires_at=at("2027-09-10")), R1,
                        at("2026-10-01", 0) + timedelta(minutes=5))
        await r.publish(DomainQuarantined(name="c.be", quarantined_at=at("2026-07-01", 0),
                                          available_on=at("2026-08-10", 0)), R1, at("2026-07-01", 0))
        await r.publish(DomainReleased(name="c.be"), R1, at("2026-08-10", 0))
        await r.publish(DomainQuarantined(name="d.be", quarantined_at=at("2026-09-01", 0),
                                          available_on=at("2026-10-11", 0)), R1, at("2026-09-01", 0))
        await r.publish(NameServerGroupChanged(name="ns-main", name_servers=["ns1.a.be"], created=True), R1, NOW)
        await r.publish(PayingTransactionRecorded(kind=TransactionKind.CREATE, object="a.be", amount_cents=500,
                                                  balance_cents=0, reference="x"), R1, at("2026-09-10"))
        for day in ("2026-07-01", "2026-07-20"):
            await r.publish(EmailBounced(recipient="h@example.be", message_type="registrant.transfer_code",
                                         audience="registrant", smtp_code=550, reason="no", detailed_code="5.1.1"),
                            R1, at(day))
        await r.publish(DomainRevoked(name="a.be", revoke_type="Phishing", revoked_at=at("2026-09-03")), R1,
                        at("2026-09-03"))
        await r.settled()
        before = await read_models(r)
        assert (await r.http.post("/api/operator/reports/daily", headers=OPERATOR)).status_code == 200
        reports_before = {p.relative_to(tmp_path / "before"): p.read_bytes()
                          for p in sorted((tmp_path / "before").rglob("*.csv"))}
        top_before = (await r.http.get("/api/reports/top100", headers=r.user(R1))).json()
        assert top_before["total"] == 2  # a.be (R1), b.be (R2); c.be released, d.be in quarantine

        # not while the service consumes: its events would land in half-built read models
        code, output = await run_rebuild(namespace)
        assert code == 1 and "stop the reporting service first" in output, output
        assert await read_models(r) == before

        # the read models go wrong (a bad handler, a manual edit): the journal still has every event
        await r.ctx.db["domains"].delete_many({})
        await r.ctx.db["portfolios"].update_one({"_id": R1}, {"$inc": {"domains": 7}})
        await r.ctx.db["facts"].insert_one({"_id": "stray", "registrar_id": R1, "month": "2026-09",
                                            "metric": "revoke", "key": "x", "count": 9})

    code, output = await run_rebuild(namespace)  # the service is stopped now
    assert code == 0 and "from 20 journaled events" in output, output

    async with reporting_service(namespace, tmp_path / "after") as r:
        assert await read_models(r) == before
        assert (await r.http.post("/api/operator/reports/daily", headers=OPERATOR)).status_code == 200
        reports_after = {p.relative_to(tmp_path / "after"): p.read_bytes()
                         for p in sorted((tmp_path / "after").rglob("*.csv"))}
        assert reports_after == reports_before and len(reports_after) == 8
        assert (await r.http.get("/api/reports/top100", headers=r.user(R1))).json() == top_before
