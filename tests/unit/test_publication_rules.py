"""The publication service's pure rules: what the zone says about a domain, names as typed by the public, the
rate limit, the WHOIS, DAS and RDAP answers, the landing page, and the update message sent to Knot."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import dns.rdatatype
import pytest

from services.publication import das, delegation, landing, rdap, whois
from services.publication.knot import Change, Knot
from services.publication.names import InvalidName, host_name, to_a_label
from services.publication.ratelimit import RateLimit, client_address
from services.publication.settings import PublicationSettings
from services.publication.view import public_domain

NOW = datetime(2026, 6, 15, 12, tzinfo=UTC)
TLDS = ("be", "vlaanderen", "brussels")
KSK = {"flags": 257, "protocol": 3, "algorithm": 13,
       "public_key": "mdsswUyr3DPW132mOi8V9xESWE8jTo0dxCjjnopKl+GqJxpVXckHAeF+KkxLbxILfDLUT0rAK9iUzy1L53eKGQ=="}
ZSK = KSK | {"flags": 256}
LANDING = ["ns1.landing.test"]


def domain(**fields: object) -> dict:
    return {"_id": "example.be", "tld": "be", "status": "REGISTERED", "registrar_id": "r1",
            "hosts": [{"name": "ns1.example.be", "addresses": ["192.0.2.1", "2001:db8::1"]},
                      {"name": "ns.hoster.net", "addresses": []}], "nsgroups": [], "keygroups": []} | fields


def test_a_registered_domain_is_delegated_with_glue_only_inside_it() -> None:
    records = delegation.records(domain(), {}, {}, LANDING, NOW)
    assert records == [("example.be.", "NS", "ns.hoster.net."), ("example.be.", "NS", "ns1.example.be."),
                       ("ns1.example.be.", "A", "192.0.2.1"), ("ns1.example.be.", "AAAA", "2001:db8::1")]
    # glue given for a host outside the domain is never published
    outside = domain(hosts=[{"name": "ns.other.be", "addresses": ["192.0.2.9"]}])
    assert delegation.records(outside, {}, {}, LANDING, NOW) == [("example.be.", "NS", "ns.other.be.")]


def test_name_server_groups_add_their_servers_and_no_server_means_no_records() -> None:
    grouped = domain(hosts=[], nsgroups=["g"], keygroups=["k"])
    assert delegation.records(grouped, {"g": ["a.dns.net", "b.dns.net."]}, {}, LANDING, NOW) == [
        ("example.be.", "NS", "a.dns.net."), ("example.be.", "NS", "b.dns.net.")]
    # no name server: not delegated, and no DS either
    assert delegation.records(grouped, {}, {"k": [KSK]}, LANDING, NOW) == []


def test_ds_records_come_from_the_key_signing_keys_of_the_key_groups() -> None:
    records = delegation.records(domain(keygroups=["k"]), {}, {"k": [KSK, ZSK]}, LANDING, NOW)
    ds = [r for r in records if r[1] == "DS"]
    assert ds == [("example.be.", "DS", "2371 13 2 37789d4068ce23342cd8fcfe6c7aac9c8cbad79fc90a9983cc0ddda103c08fde")]
    # a group of zone keys only: DS for each; a key DNS cannot read is left out, not fatal
    broken = ZSK | {"public_key": "not base64!"}
    assert len(delegation.ds_records("example.be.", [ZSK, broken])) == 1


def test_an_override_delegates_to_the_landing_servers_without_ds_or_glue() -> None:
    overridden = domain(keygroups=["k"], override={"reason": "pending", "name_servers": ["ns9.landing.test"]})
    assert delegation.records(overridden, {}, {"k": [KSK]}, LANDING, NOW) == [
        ("example.be.", "NS", "ns9.landing.test.")]
    no_servers_named = domain(override={"reason": "pending", "name_servers": []})
    assert delegation.records(no_servers_named, {}, {}, LANDING, NOW) == [("example.be.", "NS", "ns1.landing.test.")]


@pytest.mark.parametrize("status", ["QUARANTINE", "RELEASED"])
def test_quarantined_and_released_names_leave_the_zone(status: str) -> None:
    assert delegation.records(domain(status=status), {}, {}, LANDING, NOW) == []


def test_on_hold_stays_and_out_of_service_leaves_at_the_end_of_its_expiry_month() -> None:
    assert delegation.records(domain(on_hold=True), {}, {}, LANDING, NOW)
    expiring = domain(out_of_service_since=NOW - timedelta(days=60), expires_at=datetime(2026, 6, 3, tzinfo=UTC))
    assert delegation.in_zone(expiring, datetime(2026, 6, 30, 21, 59, tzinfo=UTC))  # 23:59 in Brussels
    assert not delegation.in_zone(expiring, datetime(2026, 6, 30, 22, 0, tzinfo=UTC))  # July 1st in Brussels
    assert delegation.in_zone(domain(expires_at=datetime(2026, 1, 1, tzinfo=UTC)), NOW)  # not out of service


@pytest.mark.parametrize(("query", "expected"), [
    ("example.be", "example.be"), ("EXAMPLE.BE.", "example.be"), (" café.be\t", "xn--caf-dma.be"),
    ("xn--caf-dma.be", "xn--caf-dma.be"), ("brussel.vlaanderen", "brussel.vlaanderen"),
])
def test_names_in_u_or_a_label(query: str, expected: str) -> None:
    assert to_a_label(query, TLDS) == expected


@pytest.mark.parametrize("query", ["", "a.be", "-x.be", "x-.be", "ab--cd.be", "example.com", "www.example.be",
                                   "exa mple.be", "x" * 64 + ".be", "a\x00b.be", "é" * 300])
def test_what_is_not_a_name_here_is_refused_with_a_reason(query: str) -> None:
    with pytest.raises(InvalidName) as refused:
        to_a_label(query, TLDS)
    assert str(refused.value)
    with pytest.raises(InvalidName):
        host_name("not a host")


def test_the_rate_limit_counts_per_address_per_minute() -> None:
    limit = RateLimit(3)
    assert [limit.allow("a", 0.0)[0] for _ in range(4)] == [True, True, True, False]
    assert limit.allow("b", 1.0)[0]  # another address has its own count
    allowed, retry = limit.allow("a", 30.0)
    assert not allowed and retry == pytest.approx(30.0)  # blocked for the rest of its minute
    assert limit.allow("a", 60.0)[0]  # a new minute


def test_x_forwarded_for_counts_only_from_a_trusted_proxy_and_only_its_right_most_untrusted_address() -> None:
    proxies = PublicationSettings(rdap_trusted_proxies=["10.0.0.0/8", "2001:db8:1::/48"]).rdap_trusted_proxies
    # nothing trusted (the default) or a peer outside the list: the peer, whatever the header says
    assert client_address("10.1.2.3", ["198.51.100.7"], ()) == "10.1.2.3"
    assert client_address("192.0.2.9", ["198.51.100.7"], proxies) == "192.0.2.9"
    # from the ingress: the address it appended; what the client wrote on the left is not believed
    assert client_address("10.1.2.3", ["203.0.113.66, 198.51.100.7"], proxies) == "198.51.100.7"
    # proxies chained inside the trusted range are skipped, across header lines and in IPv6
    assert client_address("10.1.2.3", ["198.51.100.7", "10.9.9.9,10.8.8.8"], proxies) == "198.51.100.7"
    assert client_address("2001:db8:1::5", ["2001:db8:2::7, 2001:db8:1::9"], proxies) == "2001:db8:2::7"
    # no header, or only proxies in it
    assert client_address("10.1.2.3", [], proxies) == "10.1.2.3"
    assert client_address("10.1.2.3", ["10.4.4.4, 10.5.5.5"], proxies) == "10.4.4.4"
    # a value that is not an address is not a trusted proxy: counted as given
    assert client_address("10.1.2.3", ["unknown"], proxies) == "unknown"


def test_a_trusted_proxy_setting_that_is_not_a_network_is_refused_in_words() -> None:
    with pytest.raises(ValueError, match="rdap_trusted_proxies"):
        PublicationSettings(rdap_trusted_proxies=["10.0.0.0/33"])


def test_the_landing_page_speaks_three_languages_and_escapes_what_it_shows() -> None:
    page = landing.page("example.be", "<script>alert(1)</script>")
    assert all(f'lang="{lang}"' in page for lang in ("nl", "fr", "en"))
    assert "niet gedelegeerd" in page and "pas délégué" in page and "not delegated" in page
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert landing.notice("de", "example.be")[0] == landing.TITLES["en"]


def view(**fields: object):  # type: ignore[no-untyped-def]
    registrar = {"_id": "r1", "name": "Demo Registrar", "website": "https://registrar.example/"}
    return public_domain(domain(registered_at=NOW, expires_at=NOW + timedelta(days=365), changed_at=NOW,
                                registrant="c1", **fields), {}, {"k": [KSK]}, registrar, LANDING)


def test_whois_shows_what_the_public_may_know() -> None:
    text = whois.answer("example.be", view(keygroups=["k"], statuses=["clientTransferProhibited"]), False)
    for expected in ("Status:\tNOT AVAILABLE", "Registered:\tMon Jun 15 2026", "Name:\t Demo Registrar",
                     "Website: https://registrar.example/", "ns1.example.be (192.0.2.1, 2001:db8::1)",
                     "flags:257 protocol:3 algorithm:13", "clientTransferProhibited"):
        assert expected in text
    assert "c1" not in text  # not even the registrant's handle
    overridden = whois.answer("example.be", view(override={"reason": "pending", "name_servers": []}), False)
    assert "ns1.landing.test" in overridden and "nameservers overridden: pending" in overridden
    assert "Status:\tAVAILABLE" in whois.answer("free.be", None, True)


def test_das_answers_and_refusals() -> None:
    assert das.answer("free.be", "AVAILABLE").endswith("RC: 0\nDomain: free.be\nStatus: AVAILABLE\n")
    assert "RC: -2" in das.refusal(das.EXCESSIVE) and "RC: -3" in das.refusal(das.BLOCKED)


def test_rdap_maps_epp_statuses_per_rfc_8056() -> None:
    assert rdap.statuses(view()) == ["active"]
    assert rdap.statuses(view(statuses=["clientTransferProhibited"], delete_date=NOW)) == [
        "client transfer prohibited", "pending delete"]
    assert rdap.statuses(view(status="QUARANTINE")) == ["inactive", "redemption period"]
    assert rdap.statuses(view(hosts=[])) == ["inactive"]
    body = rdap.domain(view(keygroups=["k"]), "https://rdap.example/")
    assert body["secureDNS"]["dsData"] == [{"keyTag": 2371, "algorithm": 13, "digestType": 2, "digest":
                                            "37789D4068CE23342CD8FCFE6C7AAC9C8CBAD79FC90A9983CC0DDDA103C08FDE"}]
    registrant = body["entities"][1]
    assert registrant["roles"] == ["registrant"] and registrant["vcardArray"][1][1] == ["fn", {}, "text", ""]
    assert body["redacted"][0]["postPath"].startswith("$.entities[1]")


def test_the_update_replaces_what_a_domain_published() -> None:
    knot = Knot(PublicationSettings())
    message = knot.update_message("be", [Change(["example.be.", "old-ns.example.be."], [
        ("example.be.", "NS", "ns1.example.be."), ("ns1.example.be.", "A", "192.0.2.1")])])
    deletes = {(str(r.name), dns.rdatatype.to_text(r.rdtype)) for r in message.update if r.deleting}
    adds = {(str(r.name), dns.rdatatype.to_text(r.rdtype)) for r in message.update if not r.deleting}
    for owner in ("example.be.", "old-ns.example.be.", "ns1.example.be."):
        assert {(owner, t) for t in ("NS", "DS", "A", "AAAA")} <= deletes
    assert adds == {("example.be.", "NS"), ("ns1.example.be.", "A")}
    assert message.keyring is not None  # signed with TSIG
