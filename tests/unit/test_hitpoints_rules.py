"""The hitpoint rules as pure functions: scoring, the limit formula and warning levels, blocks, the
portfolio, and the Brussels day and month boundaries they count in."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from services.hitpoints.blocks import Block, tally
from services.hitpoints.limits import LimitFormula, crossed, level
from services.hitpoints.periods import day_of, day_start, month_end, month_of, next_day_start
from services.hitpoints.portfolio import portfolio_changes
from services.hitpoints.scoring import (
    TRANSFORM_COMMANDS,
    Creation,
    Failure,
    Rule,
    ScoringRules,
    needs_last_creation,
    needs_revoked,
    score,
)
from services.hitpoints.settings import HitpointsSettings
from services.registry.users.model import Permission
from shared.events import CommandType, EventEnvelope
from shared.events.domains import (
    DomainCreated,
    DomainQuarantined,
    DomainReactivated,
    DomainReleased,
    DomainTransferred,
)

T0 = datetime(2026, 11, 5, 14, 0, tzinfo=UTC)
RULES = ScoringRules()


def failure(command: CommandType, code: int = 2005, *, cause: str | None = None, message: str = "bad",
            registrar: str = "a100001", at: datetime = T0, obj: str = "x.be") -> Failure:
    return Failure(registrar, command, code, message, cause, obj, at)


# -- scoring ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("command", sorted(TRANSFORM_COMMANDS))
def test_a_failed_transform_command_scores_one(command: CommandType) -> None:
    assert score(failure(command, 2303), RULES).points == 1


def test_the_digest_lists_fifteen_transform_commands() -> None:
    assert len(TRANSFORM_COMMANDS) == 15
    assert {CommandType.INFO_DOMAIN, CommandType.CHECK_DOMAIN, CommandType.LOCK_DOMAIN} & TRANSFORM_COMMANDS == set()


@pytest.mark.parametrize("command", [CommandType.INFO_DOMAIN, CommandType.CHECK_CONTACT, CommandType.INFO_NSGROUP,
                                     CommandType.UPD_REGISTRAR, CommandType.NEW_USER])
def test_queries_and_account_commands_score_nothing(command: CommandType) -> None:
    assert score(failure(command), RULES) == score(failure(command), RULES)
    assert score(failure(command), RULES).points == 0
    assert score(failure(command), RULES).rule is Rule.NOT_A_TRANSFORM


def test_a_create_of_an_existing_name_scores_ten() -> None:
    result = score(failure(CommandType.NEW_DOMAIN, 2302), RULES)
    assert (result.points, result.rule) == (10, Rule.NAME_EXISTS)
    assert score(failure(CommandType.NEW_DOMAIN, 2005), RULES).points == 1
    assert score(failure(CommandType.UPD_DOMAIN, 2302), RULES).points == 1  # 10 only for a create


def test_no_hitpoint_for_a_create_within_ten_seconds_of_another_registrars_registration() -> None:
    other = Creation("b200002", T0 - timedelta(seconds=10))
    assert score(failure(CommandType.NEW_DOMAIN, 2302), RULES, last_creation=other).rule is Rule.LOST_CREATE_RACE
    late = Creation("b200002", T0 - timedelta(seconds=10, milliseconds=1))
    assert score(failure(CommandType.NEW_DOMAIN, 2302), RULES, last_creation=late).points == 10
    mine = Creation("a100001", T0 - timedelta(seconds=1))  # the registrar's own registration is no race
    assert score(failure(CommandType.NEW_DOMAIN, 2302), RULES, last_creation=mine).points == 10


def test_no_hitpoint_for_transferring_a_name_whose_name_servers_the_revoke_removed() -> None:
    result = score(failure(CommandType.TRANSFER_DOMAIN, 2202), RULES, name_servers_revoked=True)
    assert (result.points, result.rule) == (0, Rule.REVOKED_NAME_SERVERS)
    assert score(failure(CommandType.TRANSFER_DOMAIN, 2202), RULES).points == 1
    assert score(failure(CommandType.UPD_DOMAIN), RULES, name_servers_revoked=True).points == 1


def test_refusals_because_the_registrar_is_blocked_never_score() -> None:
    blocked = failure(CommandType.NEW_DOMAIN, 2308, cause="registrar_blocked")
    assert score(blocked, RULES).rule is Rule.UNSCORED_CAUSE and score(blocked, RULES).points == 0
    assert score(failure(CommandType.NEW_DOMAIN, 2201, cause="permission"), RULES).points == 1


@pytest.mark.parametrize("command", sorted(CommandType))
@pytest.mark.parametrize("cause", [None, "registrar_blocked", "permission"])
def test_the_facts_are_read_only_for_failures_whose_score_they_can_change(command: CommandType,
                                                                          cause: str | None) -> None:
    f = failure(command, 2302, cause=cause)
    race = Creation("b200002", T0 - timedelta(seconds=1))
    if not needs_last_creation(f, RULES):
        assert score(f, RULES, last_creation=race) == score(f, RULES)
    if not needs_revoked(f, RULES):
        assert score(f, RULES, name_servers_revoked=True) == score(f, RULES)
    # and where a rule can use them, they are read
    assert needs_last_creation(f, RULES) == (command is CommandType.NEW_DOMAIN and cause != "registrar_blocked")
    assert needs_revoked(f, RULES) == (command is CommandType.TRANSFER_DOMAIN and cause != "registrar_blocked")


def test_auth_code_requests_score_the_errors_the_documentation_tags() -> None:
    assert score(failure(CommandType.REQUEST_AUTHCODE, 2306, message="URL is too long"), RULES).points == 1
    assert score(failure(CommandType.REQUEST_AUTHCODE, 2308, message="domain [x.be] has invalid status"), RULES).points == 1
    limit = "there were already 4 e-mails sent to this registrant for this authorisation code"
    assert score(failure(CommandType.REQUEST_AUTHCODE, 2308, message=limit), RULES).points == 0
    assert score(failure(CommandType.REQUEST_AUTHCODE, 2001), RULES).points == 0


def test_scoring_points_are_settings() -> None:
    rules = ScoringRules(faulty_command=2, name_exists=25, unscored_causes=frozenset())
    assert score(failure(CommandType.DEL_CONTACT), rules).points == 2
    assert score(failure(CommandType.NEW_DOMAIN, 2302), rules).points == 25
    assert score(failure(CommandType.DEL_CONTACT, cause="registrar_blocked"), rules).points == 2


# -- the limit -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("domains", "limit"), [(0, 100), (9, 100), (10, 101), (1_000, 200), (5_000, 600),
                                                (9_000, 1000), (250_000, 1000), (-3, 100)])
def test_the_default_limit_grows_with_the_portfolio_between_100_and_1000(domains: int, limit: int) -> None:
    assert LimitFormula().limit(domains) == limit


def test_the_limit_formula_follows_its_settings() -> None:
    s = HitpointsSettings(limit_base=50, limit_domains_per_hitpoint=100, limit_min=120, limit_max=300)
    formula = LimitFormula(s.limit_base, s.limit_domains_per_hitpoint, s.limit_min, s.limit_max)
    assert [formula.limit(d) for d in (0, 10_000, 100_000)] == [120, 150, 300]
    with pytest.raises(ValueError):
        HitpointsSettings(limit_min=500, limit_max=400)
    with pytest.raises(ValueError):
        HitpointsSettings(warning_percentages=(80,))


def test_warning_levels_are_reached_once_on_the_way_up() -> None:
    assert level(100, 80) == 80 and level(101, 80) == 81
    assert crossed(0, 79, 100, (80, 100)) == []
    assert crossed(79, 80, 100, (80, 100)) == [80]
    assert crossed(70, 130, 100, (80, 100)) == [80, 100]
    assert crossed(80, 99, 100, (80, 100)) == []
    assert crossed(99, 100, 100, (80, 100)) == [100]
    assert crossed(100, 150, 100, (80, 100)) == []


# -- blocks ----------------------------------------------------------------------------------------------------

def test_reaching_the_limit_blocks_until_24_hours_after_the_command() -> None:
    result = tally(95, [(T0, 1), (T0 + timedelta(seconds=1), 10)], 100, (80, 100), 24, None)
    assert result.started and result.block == Block(T0 + timedelta(seconds=1, hours=24), T0 + timedelta(seconds=1))
    assert [(w.percent, w.hitpoints) for w in result.warnings] == [(100, 106)]


def test_faulty_commands_scored_during_a_block_push_its_end_out() -> None:
    first = tally(99, [(T0, 1), (T0 + timedelta(minutes=5), 1)], 100, (80, 100), 24, None)
    assert first.started and first.block == Block(T0 + timedelta(minutes=5, hours=24), T0)
    running = Block(T0 + timedelta(hours=24), T0)
    later = tally(100, [(T0 + timedelta(hours=2), 1)], 100, (80, 100), 24, running)
    assert later.extended and not later.started and later.block == Block(T0 + timedelta(hours=26), T0)
    earlier = tally(100, [(T0 - timedelta(seconds=1), 1)], 100, (80, 100), 24, running)
    assert not earlier.block_changed and earlier.block == running


def test_below_the_limit_nothing_blocks_and_an_ended_block_does_not_extend() -> None:
    assert not tally(0, [(T0, 10)] * 7, 100, (80, 100), 24, None).block_changed
    ended = Block(T0 - timedelta(seconds=1), T0 - timedelta(hours=24))
    assert not tally(10, [(T0, 1)], 100, (80, 100), 24, ended).block_changed
    again = tally(99, [(T0, 1)], 100, (80, 100), 24, ended)
    assert again.started and again.block == Block(T0 + timedelta(hours=24), T0)


def test_a_run_gives_the_same_outcome_as_its_commands_one_by_one() -> None:
    scored = [(T0 + timedelta(seconds=i), p) for i, p in enumerate([10, 1, 10, 10, 1, 10, 1])]
    whole = tally(60, scored, 100, (80, 100), 24, None)
    total, block, warnings = 60, None, []
    for at, points in scored:
        step = tally(total, [(at, points)], 100, (80, 100), 24, block)
        total, block = total + points, step.block
        warnings += step.warnings
    assert whole.block == block and whole.warnings == warnings
    assert [w.percent for w in warnings] == [80, 100]


# -- the portfolio ---------------------------------------------------------------------------------------------

def envelope(payload, registrar: str = "a100001") -> EventEnvelope:
    return EventEnvelope(event_id=uuid.uuid4(), event_type=payload.event_type, event_version=1, occurred_at=T0,
                         producer="registry", registrar_id=registrar, correlation_id="c", payload=payload)


def test_the_portfolio_counts_registered_names_outside_quarantine() -> None:
    assert portfolio_changes(envelope(DomainCreated(name="a.be", tld="be", registered_at=T0))) == [("a100001", 1)]
    assert portfolio_changes(envelope(DomainQuarantined(name="a.be", quarantined_at=T0, available_on=T0))) == [("a100001", -1)]
    assert portfolio_changes(envelope(DomainReactivated(name="a.be"))) == [("a100001", 1)]
    assert portfolio_changes(envelope(DomainReleased(name="a.be"))) == []
    moved = {"name": "a.be", "gaining_registrar_id": "b200002", "losing_registrar_id": "a100001",
             "old_registrant": "r1", "new_registrant": "r2", "expires_at": T0}
    assert portfolio_changes(envelope(DomainTransferred(**moved, from_quarantine=False), "b200002")) == [
        ("b200002", 1), ("a100001", -1)]
    assert portfolio_changes(envelope(DomainTransferred(**moved, from_quarantine=True), "b200002")) == [("b200002", 1)]


# -- Brussels days and months ----------------------------------------------------------------------------------

def test_a_day_is_the_brussels_calendar_day_in_winter_and_summer() -> None:
    assert day_of(datetime(2026, 11, 5, 22, 59, 59, tzinfo=UTC)) == "2026-11-05"  # 23:59:59 CET
    assert day_of(datetime(2026, 11, 5, 23, 0, tzinfo=UTC)) == "2026-11-06"  # 00:00 CET
    assert day_of(datetime(2026, 7, 1, 21, 59, 59, tzinfo=UTC)) == "2026-07-01"  # 23:59:59 CEST
    assert day_of(datetime(2026, 7, 1, 22, 0, tzinfo=UTC)) == "2026-07-02"
    assert day_start("2026-11-06") == datetime(2026, 11, 5, 23, 0, tzinfo=UTC)
    assert day_start("2026-07-02") == datetime(2026, 7, 1, 22, 0, tzinfo=UTC)


def test_daylight_saving_days_are_23_and_25_hours_long() -> None:
    assert next_day_start("2026-03-29") - day_start("2026-03-29") == timedelta(hours=23)
    assert next_day_start("2026-10-25") - day_start("2026-10-25") == timedelta(hours=25)


def test_a_calendar_month_ends_at_midnight_brussels_on_its_last_day() -> None:
    assert month_of(datetime(2026, 11, 30, 22, 59, 59, tzinfo=UTC)) == "2026-11"  # 23:59:59 CET on the 30th
    assert month_of(datetime(2026, 11, 30, 23, 0, tzinfo=UTC)) == "2026-12"
    assert month_of(datetime(2026, 12, 31, 23, 0, tzinfo=UTC)) == "2027-01"
    assert month_of(datetime(2026, 3, 31, 21, 59, tzinfo=UTC)) == "2026-03"  # CEST by then
    assert month_end("2026-11") == datetime(2026, 11, 30, 23, 0, tzinfo=UTC)
    assert month_end("2026-12") == datetime(2026, 12, 31, 23, 0, tzinfo=UTC)
    assert month_end("2026-03") == datetime(2026, 3, 31, 22, 0, tzinfo=UTC)


def test_the_api_names_permissions_the_registry_grants() -> None:
    from services.hitpoints.api import SCREEN_PERMISSION, UNBLOCK_PERMISSION

    assert Permission(SCREEN_PERMISSION) is Permission.MY_REGISTRATIONS
    assert Permission(UNBLOCK_PERMISSION) is Permission.TRANSACTIONS
