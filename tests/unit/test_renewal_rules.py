"""The month-end renewal's rules on Brussels time: which domains a run at a given instant renews."""

from datetime import UTC, datetime, timedelta

import pytest

from services.registry.domains.renewal import is_due
from services.registry.domains.special import release_at, release_due
from shared.clock import brussels_month_start, brussels_month_start_after, one_year_after


@pytest.mark.parametrize(
    ("instant", "start"),
    [
        # winter (CET): the month starts at 23:00 UTC the day before
        (datetime(2027, 1, 15, 12, 0, tzinfo=UTC), datetime(2026, 12, 31, 23, 0, tzinfo=UTC)),
        (datetime(2026, 12, 31, 23, 30, tzinfo=UTC), datetime(2026, 12, 31, 23, 0, tzinfo=UTC)),  # already January
        (datetime(2026, 12, 31, 22, 59, tzinfo=UTC), datetime(2026, 11, 30, 23, 0, tzinfo=UTC)),  # still December
        # summer (CEST): 22:00 UTC
        (datetime(2026, 7, 1, 0, 0, tzinfo=UTC), datetime(2026, 6, 30, 22, 0, tzinfo=UTC)),
        # April starts in summer time though March started in winter time
        (datetime(2026, 4, 10, tzinfo=UTC), datetime(2026, 3, 31, 22, 0, tzinfo=UTC)),
    ],
)
def test_the_month_starts_at_brussels_midnight(instant: datetime, start: datetime) -> None:
    assert brussels_month_start(instant) == start


def test_a_registration_period_is_a_year() -> None:
    assert one_year_after(datetime(2026, 3, 5, 10, tzinfo=UTC)) == datetime(2027, 3, 5, 10, tzinfo=UTC)
    assert one_year_after(datetime(2028, 2, 29, 10, tzinfo=UTC)) == datetime(2029, 2, 28, 10, tzinfo=UTC)


NEW_YEAR = datetime(2026, 12, 31, 23, 30, tzinfo=UTC)  # 00:30 on 1 January 2027 in Brussels


def domain(expires_at: datetime | None, **extra: object) -> dict:
    return {"_id": "x1.be", "status": "REGISTERED", "expires_at": expires_at} | extra


@pytest.mark.parametrize(
    ("doc", "due"),
    [
        (domain(datetime(2026, 12, 15, tzinfo=UTC)), True),
        (domain(datetime(2026, 12, 31, 22, 59, tzinfo=UTC)), True),  # 23:59 on 31 December in Brussels
        (domain(datetime(2026, 12, 31, 23, 0, tzinfo=UTC)), False),  # 00:00 on 1 January: next month's
        (domain(datetime(2025, 6, 1, tzinfo=UTC)), True),  # overdue (the job did not run): renewed now
        (domain(datetime(2026, 12, 15, tzinfo=UTC), renewed_month="2027-01"), False),  # already this month
        (domain(datetime(2026, 12, 15, tzinfo=UTC), renewed_month="2026-12"), True),
        (domain(datetime(2026, 12, 15, tzinfo=UTC), status="QUARANTINE"), False),
        (domain(datetime(2026, 12, 15, tzinfo=UTC), delete_date=NEW_YEAR + timedelta(days=3)), True),
        (domain(datetime(2026, 12, 15, tzinfo=UTC), delete_date=NEW_YEAR - timedelta(hours=1)), False),
        (domain(None), False),  # a document from before expiry dates
        # its registrar's contract ended: no one renews it (digest 4.1)
        (domain(datetime(2026, 12, 15, tzinfo=UTC), out_of_service_since=datetime(2026, 9, 1, tzinfo=UTC)), False),
    ],
)
def test_which_domains_a_run_renews(doc: dict, due: bool) -> None:
    assert is_due(doc, NEW_YEAR) is due


def test_months_after_in_brussels_time() -> None:
    assert brussels_month_start_after(datetime(2026, 12, 15, tzinfo=UTC), 3) == datetime(2027, 2, 28, 23, tzinfo=UTC)
    assert brussels_month_start_after(datetime(2027, 2, 10, tzinfo=UTC), -2) == datetime(2026, 11, 30, 23, tzinfo=UTC)
    assert brussels_month_start_after(datetime(2026, 5, 31, 22, 30, tzinfo=UTC), 0) == datetime(2026, 5, 31, 22, tzinfo=UTC)


OUT = datetime(2026, 9, 1, tzinfo=UTC)


def test_an_out_of_service_domain_is_released_two_months_after_the_end_of_its_expiry_month() -> None:
    expiring = domain(datetime(2026, 12, 31, 22, 59, tzinfo=UTC), out_of_service_since=OUT)  # December in Brussels
    assert release_at(expiring["expires_at"]) == datetime(2027, 2, 28, 23, 0, tzinfo=UTC)  # 1 March, Brussels
    assert not release_due(expiring, datetime(2027, 2, 28, 22, 59, tzinfo=UTC))
    assert release_due(expiring, datetime(2027, 2, 28, 23, 0, tzinfo=UTC))
    later = datetime(2027, 6, 1, tzinfo=UTC)
    assert not release_due(expiring | {"on_hold": True}, later)  # a pending case keeps it
    assert not release_due(expiring | {"out_of_service_since": None}, later)  # back in service
    assert not release_due(expiring | {"status": "QUARANTINE"}, later)
