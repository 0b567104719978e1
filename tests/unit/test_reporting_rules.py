"""The reporting rules without broker or database: stars, rates, benchmark groups, rankings, the periods,
the daily report rows and files (the XML against daily.xsd), the domain record from events in any order,
what counts as a bounce, when the daily reports are due, registration ages and the category groups."""

import itertools
import re
import zipfile
from datetime import UTC, datetime, timedelta
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from services.reporting import ages, bounces, daily, lifecycle
from services.reporting.jobs import daily_due
from services.reporting.periods import compact, months_of, previous_quarter, quarter_of, renewal_month
from services.reporting.quarterly import (
    Fact,
    Facts,
    Metric,
    benchmark_groups,
    category_group,
    figures,
    groups_of,
    renewal_rate,
    stars,
)
from services.reporting.render import html, raw_data, zip_name
from services.reporting.toplists import rank
from shared.clock import BRUSSELS
from shared.events.domains import (
    DomainCreated,
    DomainDeleted,
    DomainQuarantined,
    DomainRenewed,
    DomainServiceChanged,
    DomainTransferred,
)
from shared.events.notifications import EmailBounced

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


def test_an_empty_portfolio_has_no_score_not_the_best() -> None:
    # revokes in the quarter, every domain gone by its end: no rate, no stars (not 0 per 100,000, three stars)
    facts = Facts.of([Fact("a", "2026-08", Metric.REVOKE, "Phishing", 2)], {"a": {"2026-08": -2}})
    own = figures(["a"], "a", "2026-Q3", months_of("2026-Q3"), facts, {"a": 0}, BOUNDS)
    assert own.domains == 0 and own.quarter_totals["revokes"] == 2
    assert own.rates["revokes"] is None and own.stars["revokes"] is None
    page = html(own, {}, "A", "2026-10-01")
    assert "no score" in page and "★★★" not in page


def test_month_end_portfolios_walk_back_from_today() -> None:
    # the portfolio counter's monthly changes walk back, whatever the facts say (a transfer out of quarantine
    # or a reactivation moves it in ways no metric does)
    facts = Facts.of([Fact("a", "2026-09", Metric.RENEWAL, "", 5), Fact("a", "2026-09", Metric.TRANSFER_OUT, "b", 1)],
                     {"a": {"2026-08": 3, "2026-09": -1, "2026-10": -2}})
    own = figures(["a"], "a", "2026-Q3", months_of("2026-Q3"), facts, {"a": 10}, BOUNDS)
    # today 10; October -2 -> September end 12; September -1 -> August end 13; August +3 -> July 10
    assert own.domains_month_end == [10, 13, 12]
    assert own.monthly["renewals"] == [0, 0, 5] and own.renewal_rate_quarter == 100.0


def test_benchmark_groups_rank_by_portfolio() -> None:
    groups = benchmark_groups({f"r{i:02d}": i for i in range(60)})
    assert groups["top10"][0] == "r59" and len(groups["top10"]) == 10 and len(groups["top50"]) == 50
    assert len(groups["all-registrars"]) == 60


def test_a_category_is_a_group_of_its_registrars_named_as_the_raw_data_files_write_it() -> None:
    groups = benchmark_groups({"a": 5, "b": 9, "c": 1, "d": 2},
                              {"a": "RETAIL_AND_HOSTING", "b": "RETAIL_AND_HOSTING", "c": "WHOLESALE", "d": None})
    assert groups["retail-and-hosting"] == ["b", "a"] and groups["wholesale"] == ["c"]
    assert set(groups) == {"top10", "top50", "all-registrars", "retail-and-hosting", "wholesale"}
    assert category_group("BRAND_PROTECTION") == "brand-protection"
    assert groups_of("WHOLESALE") == ("top10", "top50", "all-registrars", "wholesale")
    assert groups_of(None) == ("top10", "top50", "all-registrars")  # no category: no such group


def test_registration_ages() -> None:
    # whole years at a month's end, whatever the day of registration
    assert [ages.age_at("2025-09", m) for m in ("2025-08", "2025-09", "2026-08", "2026-09")] == [None, "0", "0", "1"]
    assert ages.age_at(ages.UNKNOWN, "2026-09") == ages.UNKNOWN
    # the anniversary decided: a renewal for the anniversary month, a delete before or in that month
    assert ages.anniversary("2025-09", "2026-09") == "1" and ages.anniversary("2023-09", "2026-09") == "3"
    assert [ages.anniversary("2025-09", m) for m in ("2025-09", "2025-12", "2026-09", "2026-10")] == ["1", "1", "1", "2"]
    assert ages.anniversary(None, "2026-09") == ages.UNKNOWN
    assert ages.ordered(["10", "unknown", "2", "1"]) == ["1", "2", "10", "unknown"]


def test_ages_growth_and_the_renewal_rate_per_age_of_a_quarter() -> None:
    facts = Facts.of(
        [Fact("a", "2026-09", Metric.RENEWAL, "1", 3), Fact("a", "2026-09", Metric.DELETE, "1", 1),
         Fact("a", "2026-08", Metric.DELETE, "3", 2), Fact("a", "2026-07", Metric.RENEWAL, "", 1),
         # after the quarter: a 2026-10 registration arrived, a 2024-05 one left; walked back
         Fact("a", "2026-10", Metric.ACTIVE, "2026-10", 1), Fact("a", "2026-10", Metric.ACTIVE, "2024-05", -1)],
        {"a": {"2025-09": 4, "2026-09": 1, "2026-10": 0}},
        {"a": {"2026-10": 1, "2025-09": 2, "2025-10": 1, "2024-05": 1, "unknown": 1}})
    own = figures(["a"], "a", "2026-Q3", months_of("2026-Q3"), facts, {"a": 6}, BOUNDS)
    assert own.registrations_by_age == [("0", 1), ("1", 2), ("2", 2), ("unknown", 1)]
    assert own.renewal_by_age == [("1", 3, 1, 75.0), ("3", 0, 2, 0.0), ("unknown", 1, 0, 100.0)]
    # 6 at the end of September 2026 (nothing changed since); 5 a year before (the 2025-09 +4 and later +1
    # walked back from 6 leave 5 at the end of September 2025)
    assert own.domains == 6 and own.domains_year_before == 5 and own.growth == 20.0
    # a registrar that had nothing a year before has no growth figure
    young = figures(["b"], "b", "2026-Q3", months_of("2026-Q3"), Facts.of([], {"b": {"2026-02": 3}}), {"b": 3}, BOUNDS)
    assert young.domains_year_before == 0 and young.growth is None


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
    assert (tmp_path / "contacts.csv").read_bytes() == (
        '\ufeffalias,type,status\n"c<1>&""x""",REGISTRANT,PENDING\n').encode()
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
    names = zipfile.ZipFile(BytesIO(raw_data(own, {"all-registrars": group, "wholesale": own}))).namelist()
    assert "2026Q3-revoke-a.csv" in names and "2026Q3-revoke-all-registrars.csv" in names
    assert "2026Q3-bounced-emails-wholesale.csv" in names
    for topic in ("registrations-per-age", "renewal-age", "delete-age"):
        assert f"2026Q3-{topic}-a.csv" in names and f"2026Q3-{topic}-all-registrars.csv" in names
    assert "2026Q3-registrant-verification-all-registrars.csv" not in names  # own registrar only


# -- the domain record from events in any order (lifecycle.py) -----------------------------------------------


def _t(day: str) -> datetime:
    return datetime.fromisoformat(f"{day}T12:00:00").replace(tzinfo=UTC)


def _apply(events: list[tuple[Any, ...]]) -> lifecycle.Record:
    record: lifecycle.Record | None = None
    for rule, *args in events:
        record = rule(record, *args)
    assert record is not None
    return record


ONE_LIFE: list[tuple[Any, ...]] = [
    (lifecycle.created, "r1", DomainCreated(name="a.be", tld="be", registrant="h1", registered_at=_t("2024-01-10")),
     _t("2024-01-10")),
    (lifecycle.renewed, DomainRenewed(name="a.be", registrar_id="r1", expires_at=_t("2026-01-10"))),
    (lifecycle.deleted, "r1", DomainDeleted(name="a.be", delete_date=_t("2025-06-01")), _t("2025-05-01")),
    (lifecycle.quarantined, "r1", DomainQuarantined(name="a.be", quarantined_at=_t("2025-06-01"),
                                                    available_on=_t("2025-07-11")), _t("2025-06-01")),
    (lifecycle.reactivated, "r1", _t("2025-06-03")),
    (lifecycle.transferred, DomainTransferred(name="a.be", gaining_registrar_id="r2", losing_registrar_id="r1",
                                              old_registrant="h1", new_registrant="h2", from_quarantine=False,
                                              expires_at=_t("2026-09-01")), _t("2025-09-01")),
]


def test_a_registrations_events_in_any_order_make_the_same_record() -> None:
    in_order = _apply(ONE_LIFE)
    assert in_order is not None and lifecycle.active_sponsor(in_order) == "r2"
    assert {k: in_order.get(k) for k in ("registrant", "status", "registered_at", "expires_at", "deletion_date")} == {
        "registrant": "h2", "status": "REGISTERED", "registered_at": _t("2024-01-10"), "expires_at": _t("2026-09-01"),
        "deletion_date": None}
    for order in itertools.permutations(ONE_LIFE):
        assert _apply(list(order)) == in_order, [rule.__name__ for rule, *_ in order]


def test_a_transfer_before_the_creation_keeps_the_gaining_registrar() -> None:
    create, *_, transfer = ONE_LIFE
    record = _apply([transfer, create])
    assert record["registrar_id"] == "r2" and record["registrant"] == "h2"
    assert record["registered_at"] == _t("2024-01-10")  # filled in by the late creation


def test_quarantine_leaves_the_portfolio_and_a_late_one_does_not_undo_a_reactivation() -> None:
    create, _, delete, quarantine, reactivate, _ = ONE_LIFE
    assert lifecycle.active_sponsor(_apply([create, delete, quarantine])) is None
    record = _apply([create, reactivate, quarantine, delete])
    assert lifecycle.active_sponsor(record) == "r1" and "deletion_date" not in record


def test_a_released_name_stays_gone_and_a_new_registration_replaces_it() -> None:
    create, _, delete, quarantine, _, _ = ONE_LIFE
    release = (lifecycle.released, _t("2025-07-11"))
    again = (lifecycle.created, "r3", DomainCreated(name="a.be", tld="be", registrant="h3",
                                                    registered_at=_t("2025-07-12")), _t("2025-07-12"))
    gone = _apply([create, delete, quarantine, release])
    assert gone["status"] == "RELEASED" and lifecycle.active_sponsor(gone) is None and "registrar_id" not in gone
    for order in itertools.permutations([create, delete, quarantine, release]):
        assert _apply(list(order)) == gone
    reborn = _apply([create, delete, quarantine, release, again])
    assert reborn["registrar_id"] == "r3" and reborn["registered_at"] == _t("2025-07-12") and "purge_at" not in reborn
    for order in itertools.permutations([create, delete, quarantine, release, again]):
        assert _apply(list(order)) == reborn, [rule.__name__ for rule, *_ in order]


def out_of_service(out: bool, day: str) -> tuple[Any, ...]:
    return (lifecycle.service_changed, "r1",
            DomainServiceChanged(name="a.be", out_of_service=out, since=_t(day) if out else None,
                                 expires_at=_t("2026-01-10")), _t(day))


def test_an_out_of_service_release_is_the_delete_no_quarantine_counted() -> None:
    create, renew, delete, quarantine, _, _ = ONE_LIFE
    unserved = _apply([create, renew, out_of_service(True, "2025-11-01")])
    # still a registration of its sponsor's portfolio until released
    assert lifecycle.active_sponsor(unserved) == "r1" and unserved["out_of_service_since"] == _t("2025-11-01")
    assert unserved == _apply([out_of_service(True, "2025-11-01"), renew, create])  # in any order
    release_at = _t("2026-04-01")
    assert lifecycle.release_is_delete(unserved, release_at)
    tombstone = lifecycle.released(unserved, release_at)
    assert tombstone["status"] == "RELEASED" and tombstone["release_deleted"] is True
    # it decides the anniversary of the expiry it was not renewed at (the events' newest expiry)
    assert lifecycle.deleted_anniversary_month(unserved, release_at) == "2026-01"
    assert ages.anniversary(lifecycle.registered_month(unserved), "2026-01") == "2"
    # back in service (a transfer to a registrar with a contract): a later release is not this rule's; an older
    # service event applied late changes nothing
    back = _apply([create, out_of_service(True, "2025-11-01"), out_of_service(False, "2025-12-01")])
    assert "out_of_service_since" not in back
    assert _apply([create, out_of_service(False, "2025-12-01"), out_of_service(True, "2025-11-01")]) == back
    assert not lifecycle.release_is_delete(back, release_at)


def test_a_quarantined_names_release_is_no_second_delete_in_any_order() -> None:
    create, _, delete, quarantine, _, _ = ONE_LIFE
    release_at = _t("2025-07-11")
    assert not lifecycle.release_is_delete(_apply([create, delete, quarantine]), release_at)
    # the release applied before its quarantine: the name is not out of service, the quarantine counts it
    assert not lifecycle.release_is_delete(_apply([create, delete]), release_at)
    assert not lifecycle.delete_counted_by_release(lifecycle.released(_apply([create, delete]), release_at),
                                                   _t("2025-06-01"))
    # an out-of-service name its registrar deleted: counted at its quarantine, not at its release ...
    unserved = _apply([create, out_of_service(True, "2025-05-15"), delete])
    assert not lifecycle.release_is_delete(lifecycle.quarantined(unserved, "r1", quarantine[2], quarantine[3]),
                                           release_at)
    # ... and when its release is applied first, the release counts it and the late quarantine does not
    assert lifecycle.release_is_delete(unserved, release_at)
    tombstone = lifecycle.released(unserved, release_at)
    assert lifecycle.delete_counted_by_release(tombstone, quarantine[3])
    # a service event after the release changes nothing; a release older than a new registration counts nothing
    assert lifecycle.service_changed(tombstone, "r1", out_of_service(True, "2025-08-01")[2], _t("2025-08-01")) \
        == tombstone
    assert not lifecycle.release_is_delete(unserved, _t("2025-01-01"))


def test_a_renewal_counts_for_its_anniversary_month() -> None:
    # the registry renews a September anniversary on 1 October; 1 January 00:30 Brussels is still 31 Dec UTC
    assert renewal_month(datetime(2027, 9, 15, tzinfo=BRUSSELS)) == "2026-09"
    assert renewal_month(datetime(2027, 12, 31, 23, 30, tzinfo=UTC)) == "2027-01"


def test_only_hard_bounces_of_registrant_mails_count_keyed_by_their_codes() -> None:
    def bounce(message: str, audience: str = "registrant", **kw) -> EmailBounced:
        return EmailBounced(recipient=" X@Example.be", message_type=message, audience=audience,
                            reason="mailbox unavailable: user x@example.be unknown", **kw)

    assert bounces.counts(bounce("registrant.transfer_code", smtp_code=550))
    assert not bounces.counts(bounce("registrar.quarterly_report", "registrar", smtp_code=550))
    assert not bounces.counts(bounce("unknown", smtp_code=550))
    assert not bounces.counts(bounce("registrant.transfer_code", permanent=False))
    assert bounces.error_key(bounce("m", smtp_code=550, detailed_code="5.1.1")) == "550 5.1.1"
    assert bounces.error_key(bounce("m", detailed_code="5.1.1")) == "5.1.1"
    assert bounces.error_key(bounce("m")) == "unknown"
    assert bounces.address(bounce("m")) == "x@example.be"
    assert [bounces.recurring(_t("2026-07-01"), _t(day), (14, 92)) for day in
            ("2026-07-04", "2026-07-20", "2026-09-30", "2026-10-05")] == [False, True, True, False]


# -- when the daily reports are due (jobs.py) --------------------------------------------------------------------


def test_daily_reports_are_due_by_age_and_once_a_day_from_the_daily_hour() -> None:
    def due(now: str, generated: str | None) -> bool:
        def at(s: str) -> datetime:
            return datetime.fromisoformat(s).replace(tzinfo=BRUSSELS)

        return daily_due(at(now), at(generated) if generated else None, timedelta(hours=23), 2)

    assert due("2026-10-02T01:00", None)  # never generated: at once, whatever the hour
    assert not due("2026-10-02T03:00", "2026-10-02T02:05")
    assert not due("2026-10-03T01:00", "2026-10-02T02:05")  # 22h55 old, before the hour
    assert due("2026-10-03T01:05", "2026-10-02T02:05")  # 23 hours old: before it can reach 24
    assert not due("2026-10-03T02:05", "2026-10-03T01:05")  # that run counts as the day's
    assert due("2026-10-03T02:00", "2026-10-02T23:00")  # the day's run at the hour
    assert due("2026-10-06T00:30", "2026-10-02T02:05")  # after downtime, at any hour


def test_two_writers_of_one_report_never_share_a_partial_file(tmp_path: Path) -> None:
    first = daily.ReportFiles(tmp_path, daily.NSGROUPS, "r1", datetime(2026, 1, 1, tzinfo=BRUSSELS))
    second = daily.ReportFiles(tmp_path, daily.NSGROUPS, "r1", datetime(2026, 1, 2, tzinfo=BRUSSELS))
    first.write(("ns-first",))
    second.write(("ns-second",))
    first.close()
    second.close()
    assert (tmp_path / "nsgroups.csv").read_text("utf-8-sig").splitlines() == [
        "name", "ns-second"]  # seed 000's columns only
    assert (tmp_path / "nsgroups.csv").stat().st_mtime == datetime(2026, 1, 2, tzinfo=BRUSSELS).timestamp()
    assert not list(tmp_path.glob(".*partial"))
