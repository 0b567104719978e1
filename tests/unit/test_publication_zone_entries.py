"""The zone entries (services/publication/zone_entries.py): the read model laid out for a rebuild. An entry is
what delegation.records says of the domain, rendered ahead when that depends on the domain alone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import cast

from services.publication import delegation, zone_entries

NOW = datetime(2026, 6, 15, 12, tzinfo=UTC)
LANDING = ["ns1.landing.test"]
GROUPS = {"g": ["a.dns.net", "b.dns.net"]}


def domain(**fields: object) -> dict:
    return {"_id": "example.be", "tld": "be", "status": "REGISTERED", "registrar_id": "r1",
            "hosts": [{"name": "ns1.example.be", "addresses": ["192.0.2.1", "2001:db8::1"]},
                      {"name": "ns.hoster.net", "addresses": []}], "nsgroups": [], "keygroups": [],
            "expires_at": NOW + timedelta(days=200)} | fields


def test_a_domain_whose_records_are_its_own_has_them_as_master_file_lines() -> None:
    for doc in (domain(), domain(override={"reason": "pending", "name_servers": ["ns9.landing.test"]}),
                domain(keygroups=["k"], override={"reason": "pending", "name_servers": ["ns9.landing.test"]})):
        value = zone_entries.entry(doc)
        assert isinstance(value, str)
        assert zone_entries.parse(value) == delegation.records(doc, GROUPS, {}, LANDING, NOW)
    assert zone_entries.entry(domain()) == ("example.be. IN NS ns.hoster.net.\nexample.be. IN NS ns1.example.be.\n"
                                            "ns1.example.be. IN A 192.0.2.1\nns1.example.be. IN AAAA 2001:db8::1\n")


def test_a_domain_whose_records_depend_on_more_keeps_its_zone_fields() -> None:
    # its registrar's groups (a group's change must not rewrite every domain using it)
    grouped = domain(nsgroups=["g"], keygroups=["k"])
    assert zone_entries.entry(grouped) == {"registrar_id": "r1", "status": "REGISTERED", "hosts": grouped["hosts"],
                                           "nsgroups": ["g"], "keygroups": ["k"]}
    # what says nothing (an empty list) is left out: a rebuild reads less
    assert zone_entries.entry(domain(hosts=[], nsgroups=["g"])) == {"registrar_id": "r1", "status": "REGISTERED",
                                                                     "nsgroups": ["g"]}
    # the landing name servers of the settings
    landing = domain(override={"reason": "pending", "name_servers": []})
    assert isinstance(zone_entries.entry(landing), dict)
    # the clock: out of service, it leaves at the end of its expiry month
    out = domain(out_of_service_since=NOW)
    kept = zone_entries.entry(out)
    assert isinstance(kept, dict) and kept["expires_at"] == out["expires_at"] and "out_of_service_since" in kept
    for doc in (grouped, domain(hosts=[], nsgroups=["g"]), landing, out):
        value = zone_entries.entry(doc)
        assert isinstance(value, dict)
        assert delegation.records({**value, "_id": doc["_id"]}, GROUPS, {}, LANDING, NOW) == \
            delegation.records(doc, GROUPS, {}, LANDING, NOW)


def test_a_domain_out_of_the_zone_has_no_entry() -> None:
    assert zone_entries.entry(domain(status="QUARANTINE")) is None
    assert zone_entries.entry(domain(status="RELEASED")) is None
    assert zone_entries.entry({"_id": "early.be"}) is None  # an event that overtook its domain.created
    assert zone_entries.entry(domain(hosts=[])) is None  # no name server: nothing is published


def test_buckets_are_stable_and_names_are_keys_without_dots() -> None:
    # the bucket is part of the stored layout: the same in every process and version (not Python's hash())
    assert zone_entries.bucket_id("be", "example.be") == "be:11307"
    ids = {zone_entries.bucket_id("be", f"d{i}.be") for i in range(20_000)}
    assert all(i.startswith("be:") and 0 <= int(i[3:]) < zone_entries.BUCKETS for i in ids)
    assert len(ids) > zone_entries.BUCKETS * 0.6  # spread, not piled up
    key = zone_entries.key_of("xn--caf-dma.be")
    assert "." not in key and not key.startswith("$") and zone_entries.name_of(key) == "xn--caf-dma.be"


def test_one_update_per_bucket_sets_or_unsets_each_entry() -> None:
    a, gone = domain(), domain(_id="gone.be", status="QUARANTINE")
    same = next(f"n{i}.be" for i in range(100_000) if zone_entries.bucket_id("be", f"n{i}.be")
                == zone_entries.bucket_id("be", "example.be") and f"n{i}.be" != "example.be")
    b = domain(_id=same, hosts=[{"name": "ns.hoster.net", "addresses": []}])
    updates = {cast(dict, u._filter)["_id"]: cast(dict, u._doc) for u in zone_entries.writes([a, b, gone])}
    together = updates[zone_entries.bucket_id("be", "example.be")]
    assert together["$set"] == {"tld": "be", "names.example_be": zone_entries.entry(a),
                                f"names.{zone_entries.key_of(same)}": zone_entries.entry(b)}
    assert updates[zone_entries.bucket_id("be", "gone.be")] == {"$set": {"tld": "be"},
                                                               "$unset": {"names.gone_be": ""}}
