import json
from datetime import UTC, datetime

import pytest

from shared.clock import ManualClock
from shared.events import (
    CATALOGUE,
    Channel,
    CommandFailed,
    CommandType,
    DomainCreated,
    UndecodableEvent,
    decode_event,
    describe,
    new_event,
)

CLOCK = ManualClock(datetime(2026, 3, 29, 0, 30, tzinfo=UTC))


def created() -> dict:
    event = new_event(
        DomainCreated(name="example.be", tld="be", registered_at=CLOCK.now()),
        registrar_id="a100001",
        correlation_id="req-1",
        clock=CLOCK,
    )
    return json.loads(event.to_json())


def test_an_event_survives_the_wire_unchanged() -> None:
    wire = created()
    event = decode_event(json.dumps(wire).encode())
    assert isinstance(event.payload, DomainCreated)
    assert event.payload.name == "example.be"
    assert (event.event_type, event.event_version, event.registrar_id) == ("domain.created", 1, "a100001")
    assert event.occurred_at == CLOCK.now()
    assert json.loads(event.to_json()) == wire


def test_an_event_without_a_cause_correlates_to_itself() -> None:
    event = new_event(
        DomainCreated(name="x1.be", tld="be", registered_at=CLOCK.now()), registrar_id=None, correlation_id=None,
        clock=CLOCK,
    )
    assert event.correlation_id == str(event.event_id)


def test_unknown_fields_are_ignored_so_producers_can_add_optional_ones() -> None:
    wire = created()
    wire["payload"]["added_later"] = 1
    wire["new_envelope_field"] = "x"
    assert decode_event(wire).payload.name == "example.be"


def test_registrar_created_keeps_version_1_with_its_optional_category() -> None:
    from shared.events.registrars import RegistrarCategory, RegistrarCreated

    payload = RegistrarCreated(name="R", products=["be"], languages=["nl"], email="r@x.be",
                               category=RegistrarCategory.RETAIL_AND_HOSTING)
    wire = json.loads(new_event(payload, registrar_id="a100001", correlation_id=None, clock=CLOCK).to_json())
    assert wire["event_version"] == 1 and wire["payload"]["category"] == "RETAIL_AND_HOSTING"
    assert decode_event(wire).payload == payload
    wire["payload"].pop("category")  # as published before categories existed
    assert decode_event(wire).payload.category is None


@pytest.mark.parametrize(
    "mutate",
    [
        lambda w: w.update(event_type="domain.exploded"),
        lambda w: w.update(event_version=99),
        lambda w: w["payload"].pop("name"),
        lambda w: w.update(occurred_at="2026-01-01T00:00:00"),  # naive time: refused
        lambda w: w.pop("event_id"),
    ],
)
def test_malformed_or_unknown_events_are_undecodable(mutate) -> None:
    wire = created()
    mutate(wire)
    with pytest.raises(UndecodableEvent):
        decode_event(wire)


@pytest.mark.parametrize("raw", [b"", b"not json", b"[]", b'{"event_type": 1}', b"\xff\xfe"])
def test_garbage_is_undecodable(raw: bytes) -> None:
    with pytest.raises(UndecodableEvent):
        decode_event(raw)


def test_command_failed_carries_what_the_hitpoints_screen_shows() -> None:
    payload = CommandFailed(
        user_id="a100001", channel=Channel.EPP, command=CommandType.NEW_DOMAIN, object="x.be",
        reference="epp-1", result_code=2302, message="Object exists",
    )
    event = decode_event(new_event(payload, registrar_id="a100001", correlation_id="c", clock=CLOCK).to_json())
    assert event.payload == payload
    with pytest.raises(ValueError):
        CommandFailed(**(payload.model_dump() | {"result_code": 999}))


def test_the_catalogue_describes_every_event_with_a_schema() -> None:
    described = describe()
    assert {(d["event_type"], d["event_version"]) for d in described} == set(CATALOGUE)
    for entry in described:
        assert entry["producer"] and entry["description"]
        assert "payload" in entry["schema"]["properties"]


def test_the_readme_lists_every_event_of_the_catalogue() -> None:
    """The README's catalogue table is what subscribers read first: it must not fall behind the code."""
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    table = readme.split("## The event catalogue", 1)[1].split("\n## ", 1)[0]
    assert [t for t, _ in sorted(CATALOGUE) if f"`{t}`" not in table] == []
