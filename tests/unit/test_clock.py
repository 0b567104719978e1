from datetime import UTC, datetime, timedelta

import pytest

from shared.clock import ManualClock, brussels_month, next_brussels_midnight, purge_after


@pytest.mark.parametrize(
    ("instant", "midnight"),
    [
        # winter (CET, UTC+1): Brussels midnight is 23:00 UTC
        (datetime(2026, 1, 15, 12, 0, tzinfo=UTC), datetime(2026, 1, 15, 23, 0, tzinfo=UTC)),
        # summer (CEST, UTC+2): 22:00 UTC
        (datetime(2026, 7, 1, 21, 59, tzinfo=UTC), datetime(2026, 7, 1, 22, 0, tzinfo=UTC)),
        # exactly at midnight: the next one
        (datetime(2026, 7, 1, 22, 0, tzinfo=UTC), datetime(2026, 7, 2, 22, 0, tzinfo=UTC)),
        # the day clocks go forward (29 March 2026) is 23 hours long
        (datetime(2026, 3, 29, 1, 0, tzinfo=UTC), datetime(2026, 3, 29, 22, 0, tzinfo=UTC)),
        # and the day they go back (25 October 2026) 25 hours
        (datetime(2026, 10, 25, 12, 0, tzinfo=UTC), datetime(2026, 10, 25, 23, 0, tzinfo=UTC)),
    ],
)
def test_next_brussels_midnight(instant: datetime, midnight: datetime) -> None:
    assert next_brussels_midnight(instant) == midnight


def test_the_calendar_month_is_brussels_time() -> None:
    # 31 January 23:30 UTC is already February in Brussels
    assert brussels_month(datetime(2026, 1, 31, 23, 30, tzinfo=UTC)) == "2026-02"
    assert brussels_month(datetime(2026, 1, 31, 22, 59, tzinfo=UTC)) == "2026-01"


def test_manual_clock_moves_only_when_told() -> None:
    clock = ManualClock(datetime(2026, 1, 1, tzinfo=UTC))
    assert clock.now() == clock.now()
    clock.advance(timedelta(hours=25))
    assert clock.now() == datetime(2026, 1, 2, 1, tzinfo=UTC)
    with pytest.raises(ValueError):
        clock.set(datetime(2026, 1, 1))


def test_a_record_is_purged_only_once_lapsed_on_both_the_service_and_the_wall_clock() -> None:
    hours = timedelta(hours=8)
    past = datetime(2025, 12, 10, 18, 0, tzinfo=UTC)  # a ManualClock set a year back
    assert purge_after(past, hours) > datetime.now(UTC) + hours - timedelta(minutes=1)
    future = datetime.now(UTC) + timedelta(days=400)
    assert purge_after(future, hours) == future
