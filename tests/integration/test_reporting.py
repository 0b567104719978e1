"""The reporting service through the real broker and database: events published on the platform's
exchange build the read models; the daily reports (CSV and XML, the XML valid against daily.xsd), the
top lists and the quarterly report (HTML and raw-data ZIP) are checked against what was published."""

import csv
import io
import json
import re
import zipfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from lxml import etree

from services.reporting.app import build as build_reporting
from services.reporting.daily import XSD
from services.reporting.jobs import run_due
from services.reporting.settings import ReportingSettings
from shared.auth import SessionTokens
from shared.clock import BRUSSELS, ManualClock
from shared.events import EventPayload, new_event
from shared.events.contacts import ContactCreated, ContactDeleted
from shared.events.domains import (
    DomainCreated,
    DomainDeleted,
    DomainQuarantined,
    DomainReleased,
    DomainRenewed,
    DomainTransferred,
)
from shared.events.feeds import DomainRevoked, InfectionReported, SupportCaseOpened, SupportTopic
from shared.events.groups import KeyGroupChanged, NameServerGroupChanged, NameServerGroupDeleted
from shared.events.money import PayingTransactionRecorded, TransactionKind
from shared.events.notifications import EmailBounced
from shared.events.registrars import RegistrarCreated
from shared.events.verification import VerificationApproved, VerificationRequired
from shared.runtime import ServiceContext
from tests.integration.infra import OPERATOR, EventTap, eventually, queue_depth, running

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
        processed = self.ctx.db["processed_events"]
        await eventually(lambda: processed.count_documents({}), lambda n: n >= self.published, timeout=30)

    def user(self, registrar_id: str, permissions: tuple[str, ...] = ("MY_REGISTRATIONS",)) -> dict[str, str]:
        token = SessionTokens(self.ctx.settings.internal_secret).issue(
            user_id=f"{registrar_id}-u", registrar_id=registrar_id, permissions=permissions,
            expires_at=self.clock.now() + timedelta(hours=8))
        return {"Authorization": f"Bearer {token}"}


@pytest.fixture
async def reporting(namespace: str, tmp_path: Path) -> AsyncIterator[Reporting]:
    clock = ManualClock(NOW)
    settings = ReportingSettings(namespace=namespace, reports_dir=tmp_path / "reports", jobs_enabled=False,
                                 operator_token="operator-dev-token", outbox_poll_seconds=0.05,
                                 public_url="https://reports.example")
    app = build_reporting(settings, clock=clock)
    async with running(app) as http:
        yield Reporting(http, app.state.ctx, clock, namespace)


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
    csv_response = await r.http.get(f"/api/reports/daily/{name}.csv", headers=headers)
    xml_response = await r.http.get(f"/api/reports/daily/{name}.xml", headers=headers)
    assert csv_response.status_code == xml_response.status_code == 200, (csv_response.text, xml_response.text)
    assert csv_response.headers["content-type"].startswith("text/csv")
    table = read_csv(csv_response.content)
    root = read_xml(xml_response.content)
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
    await r.publish(DomainRenewed(name="alpha.be", registrar_id=R1, expires_at=at("2027-03-15")), R1, at("2026-03-31"))
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

    # Top 100: portfolios after the transfer (1 out of R1, into R2) and the release (R2)
    top = (await r.http.get("/api/reports/top100", headers=beta)).json()
    assert [(e["position"], e["registrar_id"], e["name"], e["count"], e["share_percent"]) for e in top["entries"]] == [
        (1, R1, "Alpha Hosting", 4, 66.667), (2, R2, "Beta & Co", 2, 33.333), (3, R3, "Gamma", 0, 0.0)]
    assert top["total"] == 6 and top["own"]["position"] == 2 and top["own"]["registrar_id"] == R2


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
    for i in range(4):
        await r.publish(created(f"a{i}.be", "h", "2026-06-01"), R1, at("2026-06-01"))
    await r.publish(created("b0.be", "h", "2026-06-01"), R2, at("2026-06-01"))
    await r.publish(created("q3.be", "h", "2026-07-20"), R1, at("2026-07-20"))
    await r.publish(DomainTransferred(name="a0.be", gaining_registrar_id=R2, losing_registrar_id=R1,
                                      old_registrant="h", new_registrant="h2", from_quarantine=False,
                                      expires_at=at("2027-08-03")), R2, at("2026-08-03"))
    await r.publish(DomainRenewed(name="a1.be", registrar_id=R1, expires_at=at("2027-09-30")), R1, at("2026-09-30"))
    await r.publish(DomainRenewed(name="a2.be", registrar_id=R1, expires_at=at("2027-09-30")), R1, at("2026-09-30"))
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
    # the same address bounces three times: after 3 days (not recurring), then 20 days later (recurring)
    for day in ("2026-07-01", "2026-07-04", "2026-07-24"):
        await r.publish(EmailBounced(recipient="Holder@Example.be", message_type="verification.required",
                                     audience="registrant", smtp_code=550, reason="mailbox unavailable",
                                     detailed_code="5.1.1"), R1, at(day))
    await r.publish(EmailBounced(recipient="x@example.be", message_type="m", audience="registrant",
                                 reason="soft", permanent=False), R1, at("2026-07-02"))
    await r.settled()

    # not before the quarter ends; not a quarter at all
    assert (await r.http.post("/api/operator/reports/quarterly/2026-Q4", headers=OPERATOR)).status_code == 409
    assert (await r.http.post("/api/operator/reports/quarterly/2026-Q5", headers=OPERATOR)).status_code == 422
    async with EventTap(r.namespace, "report.#") as tap:
        run = await r.http.post("/api/operator/reports/quarterly/2026-Q3", headers=OPERATOR)
        assert run.status_code == 200, run.text
        ready = await tap.wait_for("report.quarterly_ready", count=2)
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
    assert "Fake web shop" in html and "5.1.1 mailbox unavailable" in html and "Transfer" in html
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

    # R1: 4 in June, +1 July, -1 transferred out in August; the quarantined one stays until released
    assert table("2026Q3-total-domains-r100001.csv")[1:] == [["2026-07", "5"], ["2026-08", "4"], ["2026-09", "4"]]
    assert table("2026Q3-revoke-r100001.csv")[1:] == [["2026-07", "1", "5", "20000.0"], ["2026-08", "0", "4", "0.0"],
                                                      ["2026-09", "1", "4", "25000.0"]]
    assert table("2026Q3-bounced-emails-r100001.csv")[1:] == [["2026-07", "3", "1"], ["2026-08", "0", "0"],
                                                              ["2026-09", "0", "0"]]
    assert table("2026Q3-transfer-r100001.csv")[1:] == [["2026-07", "0", "0"], ["2026-08", "0", "1"],
                                                        ["2026-09", "0", "0"]]
    # the registrar it lost a domain to, in the top 5 of the page
    assert "<th>lost to (top 5)</th><th>domains</th></tr><tr><td>r100002</td><td>1</td>" in html
    assert table("2026Q3-delete-r100001.csv")[1:] == [["2026-07", "0", "0", ""], ["2026-08", "0", "0", ""],
                                                      ["2026-09", "1", "2", "66.67"]]
    assert table("2026Q3-support-cases-r100001.csv")[1][:2] == ["2026-07", "2"]
    assert table("2026Q3-infections-r100001.csv")[2][:2] == ["2026-08", "1"]
    # the all-registrars group is one virtual registrar: its revokes over all domains (4 + 2)
    assert table("2026Q3-revoke-all-registrars.csv")[3] == ["2026-09", "1", "6", "16666.67"]

    metrics = (await r.http.get("/metrics")).text
    assert 'reporting_reports_generated_total{kind="quarterly"} 1.0' in metrics


async def test_a_malformed_feed_event_is_dead_lettered_and_changes_nothing(reporting: Reporting) -> None:
    r = reporting
    bad = new_event(SupportCaseOpened(case_id="c1", topic=SupportTopic.ABUSE, opened_at=NOW), registrar_id=R1,
                    correlation_id=None, clock=ManualClock(NOW)).model_dump(mode="json")
    bad["payload"]["topic"] = "Not a topic"
    await r.ctx.broker.publish(json.dumps(bad).encode(), exchange=r.ctx.topology.events_exchange,
                               routing_key="feed.support_case_opened", persist=True)
    await eventually(lambda: queue_depth(f"{r.ctx.settings.queue_name}.dlq"), lambda n: n == 1)
    assert await r.ctx.db["facts"].count_documents({}) == 0


async def test_the_jobs_run_the_daily_reports_once_a_day_and_the_quarter_once(reporting: Reporting) -> None:
    r = reporting
    await r.publish(created("one.be", "h", "2026-09-01"), R1, at("2026-09-01"))
    await r.settled()
    r.clock.set(at("2026-10-02", 1))  # before DAILY_HOUR (2): only the finished quarter is due
    assert await run_due(r.ctx) == {"quarterly": "2026-Q3"}
    r.clock.set(at("2026-10-02", 3))
    assert await run_due(r.ctx) == {"daily": "2026-10-02"}
    assert await run_due(r.ctx) == {}
    r.clock.set(at("2026-10-03", 2))
    assert await run_due(r.ctx) == {"daily": "2026-10-03"}
    listing = (await r.http.get("/api/reports/daily", headers=r.user(R1))).json()
    assert datetime.fromisoformat(listing["generated_at"]) == at("2026-10-03", 2)
    metrics = (await r.http.get("/metrics")).text
    assert 'reporting_reports_generated_total{kind="daily"} 2.0' in metrics
    assert "reporting_read_model_lag_seconds" in metrics
