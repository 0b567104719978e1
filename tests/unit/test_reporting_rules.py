"""The reporting rules without broker or database: stars, rates, benchmark groups, rankings, the periods,
the daily report rows and files (the XML against daily.xsd)."""

import re
import zipfile
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path

import pytest
from lxml import etree

from services.reporting import daily
from services.reporting.periods import compact, months_of, previous_quarter, quarter_of
from services.reporting.quarterly import Fact, Facts, Metric, benchmark_groups, figures, renewal_rate, stars
from services.reporting.render import html, raw_data, zip_name
from services.reporting.toplists import rank
from shared.clock import BRUSSELS

BOUNDS = {"revokes": (5, 20, 50), "bounces": (2, 10, 30), "infections": (5, 20, 50), "support": (5, 20, 50)}


def test_stars_fall_as_the_rate_crosses_each_boundary() -> None:
    assert [stars(r, (5, 20, 50)) for r in (0, 4.99, 5, 19.9, 20, 49, 50, 1e6)] == [3, 3, 2, 2, 1, 1, 0, 0]


def test_renewal_rate_is_renewals_over_renewals_and_deletes() -> None:
    assert renewal_rate(2, 1) == 66.67
    assert renewal_rate(0, 0) is None


def test_a_group_counts_as_one_virtual_registrar() -> None:
    # A: 1 revoke on 10 domains (10,000 per 100k); B: 0 on 990: the group is 1/1000, not the mean of ratios
    facts = Facts.of([Fact("a", "2026-09", Metric.REVOKE, "Phishing", 1)])
    group = figures(["a", "b"], "top10", "2026-Q3", months_of("2026-Q3"), facts, {"a": 10, "b": 990}, BOUNDS)
    assert group.rates["revokes"] == 100.0 and group.stars["revokes"] == 0
    assert group.domains == 1000


def test_month_end_portfolios_walk_back_from_today() -> None:
    facts = Facts.of([
        Fact("a", "2026-08", Metric.CREATE, "", 3), Fact("a", "2026-09", Metric.TRANSFER_OUT, "b", 1),
        Fact("a", "2026-10", Metric.RELEASE, "", 2), Fact("a", "2026-09", Metric.RENEWAL, "", 5),
    ])
    own = figures(["a"], "a", "2026-Q3", months_of("2026-Q3"), facts, {"a": 10}, BOUNDS)
    # today 10; October released 2 -> September end 12; September lost 1 -> August end 13; August +3 -> July 10
    assert own.domains_month_end == [10, 13, 12]
    assert own.monthly["renewals"] == [0, 0, 5] and own.renewal_rate_quarter == 100.0


def test_benchmark_groups_rank_by_portfolio() -> None:
    groups = benchmark_groups({f"r{i:02d}": i for i in range(60)})
    assert groups["top10"][0] == "r59" and len(groups["top10"]) == 10 and len(groups["top50"]) == 50
    assert len(groups["all-registrars"]) == 60


def test_rank_shares_positions_on_equal_counts() -> None:
    ranked = rank({"a": 5, "b": 3, "c": 3, "d": 1})
    assert [(r.position, r.registrar_id, r.share) for r in ranked] == [
        (1, "a", 41.667), (2, "b", 25.0), (2, "c", 25.0), (4, "d", 8.333)]
    assert rank({}) == []


def test_quarters() -> None:
    assert months_of("2026-Q1") == ["2026-01", "2026-02", "2026-03"]
    with pytest.raises(ValueError):
        months_of("2026-Q5")
    # 1 January 00:30 Brussels is still 31 December in UTC: the Brussels quarter counts
    new_year = datetime(2026, 12, 31, 23, 30, tzinfo=UTC)
    assert quarter_of(new_year) == "2027-Q1" and previous_quarter(new_year) == "2026-Q4"
    assert compact("2026-Q3") == "2026Q3" and zip_name("2026-Q3", "a100001") == "2026Q3-raw-data-a100001.zip"


def test_a_registration_row_uses_brussels_days_and_u_labels() -> None:
    row = daily.registration_row({
        "_id": "xn--caf-dma.be", "registered_at": datetime(2025, 12, 31, 23, 30, tzinfo=UTC),
        "expires_at": datetime(2026, 12, 31, 23, 30, tzinfo=UTC), "registrant": "h", "status": "REGISTERED"})
    assert row == ("café.be", "2026-01-01", "2027-01", "h", "0", "", "REGISTERED")
    assert daily.u_label("xn--zz.be") == "xn--zz.be"  # not a valid A-label: shown as registered


def test_report_files_are_valid_and_escape_what_xml_needs(tmp_path: Path) -> None:
    files = daily.ReportFiles(tmp_path, daily.CONTACTS, "a&b", datetime(2026, 1, 1, tzinfo=BRUSSELS))
    files.write(("c<1>&\"x\"", "REGISTRANT", "PENDING"))
    files.close()
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    schema = etree.XMLSchema(etree.parse(str(daily.XSD), parser))
    root = etree.parse(str(tmp_path / "contacts.xml"), parser).getroot()
    schema.assertValid(root)
    assert root.get("registrar") == "a&b"
    assert root[0][0].text == "c<1>&\"x\""
    assert (tmp_path / "contacts.csv").read_bytes() == '\ufeffalias,type,status\n"c<1>&""x""",REGISTRANT,PENDING\n'.encode()
    assert not list(tmp_path.glob(".*partial"))


def test_the_quarterly_page_is_self_contained_with_well_formed_charts() -> None:
    facts = Facts.of([Fact("a", "2026-07", Metric.REVOKE, "Fake <web> shop", 2),
                      Fact("a", "2026-08", Metric.SUPPORT_DAY, "2026-08-14", 3),
                      Fact("a", "2026-09", Metric.TRANSFER_OUT, "b", 1)])
    own = figures(["a"], "a", "2026-Q3", months_of("2026-Q3"), facts, {"a": 100, "b": 5}, BOUNDS)
    group = figures(["a", "b"], "all-registrars", "2026-Q3", months_of("2026-Q3"), facts, {"a": 100, "b": 5}, BOUNDS)
    page = html(own, {"all-registrars": group}, "A & Co", "2026-10-01T02:00+02:00")
    assert "<script" not in page and "Fake &lt;web&gt; shop" in page and "A &amp; Co" in page
    svgs = re.findall(r"<svg.*?</svg>", page, flags=re.DOTALL)
    assert len(svgs) >= 8
    for svg in svgs:
        etree.fromstring(svg.encode())  # well-formed
    assert "<title>2026-08-14: 3</title>" in page  # the heat map's day
    names = zipfile.ZipFile(BytesIO(raw_data(own, {"all-registrars": group}))).namelist()
    assert "2026Q3-revoke-a.csv" in names and "2026Q3-revoke-all-registrars.csv" in names
    assert "2026Q3-registrant-verification-all-registrars.csv" not in names  # own registrar only
