"""The publication service's pure rules: what the zone says about a domain, names as typed by the public, the
rate limit, the WHOIS, DAS and RDAP answers, the landing page, and the update message sent to Knot."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import dns.rdatatype
import pytest

import asyncio
import ipaddress
import struct

from services.publication import das, delegation, landing, proxyproto, rdap, whois
from services.publication.knot import Change, Knot
from services.publication.names import InvalidName, host_name, to_a_label
from services.publication.ratelimit import RateLimit, client_address
from services.publication.proxyproto import ProxyHeaderError, Source, parse_v1, parse_v2, v2_body_length
from services.publication.settings import PublicationSettings
from services.publication.tcp import Incoming, Refused, client_and_query
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
    assert das.refusal(das.INTERNAL_ERROR, "a PROXY protocol header is accepted only from a trusted proxy").endswith(
        "RC: -1\nError: a PROXY protocol header is accepted only from a trusted proxy\n")


def v2(source: str, port: int, command: int = 1, tlvs: bytes = b"") -> bytes:
    """A PROXY v2 header as a balancer writes it (TCP over IPv4 or IPv6, to 192.0.2.1 / 2001:db8::1 port 43)."""
    ip = ipaddress.ip_address(source)
    family, destination = (0x11, ipaddress.ip_address("192.0.2.1")) if ip.version == 4 else \
        (0x21, ipaddress.ip_address("2001:db8::1"))
    body = ip.packed + destination.packed + struct.pack("!HH", port, 43) + tlvs
    return proxyproto.V2_SIGNATURE + bytes([0x20 | command, family]) + struct.pack("!H", len(body)) + body


def test_proxy_v1_names_the_client() -> None:
    assert parse_v1(b"PROXY TCP4 198.51.100.7 192.0.2.1 56324 43\r\n") == Source("198.51.100.7", 56324)
    assert parse_v1(b"PROXY TCP6 2001:db8::7 2001:db8::1 56324 43\r\n") == Source("2001:db8::7", 56324)
    # an IPv4 client through a dual-stack balancer is the same client as over IPv4
    assert parse_v1(b"PROXY TCP6 ::ffff:198.51.100.7 2001:db8::1 1 43\r\n").address == "198.51.100.7"
    # UNKNOWN (whatever follows): no client named, the connection's peer counts
    assert parse_v1(b"PROXY UNKNOWN\r\n") == Source(None)
    assert parse_v1(b"PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n") == Source(None)


@pytest.mark.parametrize(("line", "reason"), [
    (b"PROXY TCP4 198.51.100.7 192.0.2.1 56324 43\n", "CRLF"),
    (b"PROXY TCP4 198.51.100.7 192.0.2.1 56324\r\n", "two ports"),
    (b"PROXY TCP4  198.51.100.7 192.0.2.1 1 43\r\n", "two ports"),
    (b"PROXY UDP4 198.51.100.7 192.0.2.1 1 43\r\n", "unknown protocol"),
    (b"PROXY TCP4 2001:db8::7 192.0.2.1 1 43\r\n", "not an IPv4 address"),
    (b"PROXY TCP6 198.51.100.7 2001:db8::1 1 43\r\n", "not an IPv6 address"),
    (b"PROXY TCP4 example.be 192.0.2.1 1 43\r\n", "not an IP address"),
    (b"PROXY TCP4 198.51.100.7 192.0.2.1 65536 43\r\n", "not a port"),
    (b"PROXY TCP4 198.51.100.7 192.0.2.1 0443 43\r\n", "not a port"),
    (b"PROXY TCP4 198.51.100.7 192.0.2.1 -1 43\r\n", "not a port"),
    (b"PROXY TCP4 198.51.100.\xff 192.0.2.1 1 43\r\n", "not ASCII"),
    (b"PROXY TCP4 198.51.100.7\t192.0.2.1 1 43\r\n", "control characters"),
    (b"PROXY TCP4 " + b"1" * 100 + b"\r\n", "longer than 107"),
])
def test_a_malformed_proxy_v1_line_is_refused_in_words(line: bytes, reason: str) -> None:
    with pytest.raises(ProxyHeaderError, match=reason):
        parse_v1(line)


def test_proxy_v2_names_the_client_and_skips_tlvs() -> None:
    header = v2("198.51.100.7", 56324, tlvs=b"\x04\x00\x03abc")  # a TLV (NOOP) after the addresses
    assert v2_body_length(header[:16]) == len(header) - 16
    assert parse_v2(header[:16], header[16:]) == Source("198.51.100.7", 56324)
    six = v2("2001:db8::7", 1)
    assert parse_v2(six[:16], six[16:]) == Source("2001:db8::7", 1)
    # LOCAL (the balancer's health check) and UNSPEC name no client
    local = v2("198.51.100.7", 1, command=0)
    assert parse_v2(local[:16], local[16:]) == Source(None)
    unspec = proxyproto.V2_SIGNATURE + b"\x21\x00\x00\x00"
    assert parse_v2(unspec, b"") == Source(None)


@pytest.mark.parametrize(("fixed", "body", "reason"), [
    (b"\r\n\r\n\x00\r\nQUIT\n\x11\x11\x00\x0c", b"\x00" * 12, "version 1"),
    (b"\r\n\r\n\x00\r\nQUIT\n\x22\x11\x00\x0c", b"\x00" * 12, "unknown command 2"),
    (b"\r\n\r\n\x00\r\nQUIT\n\x21\x12\x00\x0c", b"\x00" * 12, "not TCP"),  # UDP
    (b"\r\n\r\n\x00\r\nQUIT\n\x21\x31\x00\xd8", b"\x00" * 216, "not TCP"),  # AF_UNIX
    (b"\r\n\r\n\x00\r\nQUIT\n\x21\x11\x00\x08", b"\x00" * 8, "too short for its addresses"),
    (b"\r\n\r\n\x00\r\nQUIT\n\x21\x21\x00\x0c", b"\x00" * 12, "too short for its addresses"),
    (b"\r\n\r\n\x00\r\nQUIT\n\x21\x11\xff\xff", b"", "65535 bytes"),
    (b"\r\n\r\n\x00\r\nQUIT\n\x21\x11\x00\x0c", b"\x00" * 4, "shorter than its length"),
    (b"\r\n\r\n\x00\r\nQUIx\n\x21\x11\x00\x0c", b"\x00" * 12, "not a version 2 header"),
])
def test_a_malformed_proxy_v2_header_is_refused_in_words(fixed: bytes, body: bytes, reason: str) -> None:
    with pytest.raises(ProxyHeaderError, match=reason):
        parse_v2(fixed, body)


def test_what_a_connection_starts_with() -> None:
    assert proxyproto.kind(b"PROXY TCP4") == "v1" and proxyproto.kind(v2("192.0.2.7", 1)) == "v2"
    assert proxyproto.kind(b"PROX") == "more" and proxyproto.kind(b"\r\n\r") == "more"
    assert proxyproto.kind(b"proximus.be") is None and proxyproto.kind(b"PROXYX") is None


def read(data: bytes, peer: str, proxies: tuple[str, ...]) -> tuple[str, bytes]:
    """What tcp.py makes of a connection's bytes (a real StreamReader, fed and closed)."""
    async def run() -> tuple[str, bytes]:
        reader = asyncio.StreamReader()
        reader.feed_data(data)
        reader.feed_eof()
        networks = PublicationSettings(whois_trusted_proxies=list(proxies)).whois_trusted_proxies
        return await client_and_query(Incoming(reader), peer, networks)

    return asyncio.run(run())


def test_the_header_is_believed_and_required_only_from_a_trusted_proxy() -> None:
    trusted = ("10.0.0.0/8",)
    line = b"PROXY TCP4 198.51.100.7 192.0.2.1 1 43\r\nexample.be\r\n"
    assert read(line, "10.1.1.1", trusted) == ("198.51.100.7", b"example.be\r\n")
    assert read(v2("2001:db8::7", 1) + b"example.be\r\n", "10.1.1.1", trusted) == ("2001:db8::7", b"example.be\r\n")
    assert read(b"PROXY UNKNOWN\r\nexample.be\n", "10.1.1.1", trusted) == ("10.1.1.1", b"example.be\n")
    # no proxy trusted (the default): queries as ever, even one that looks like the start of a header
    assert read(b"PROXYS.be\r\n", "10.1.1.1", ()) == ("10.1.1.1", b"PROXYS.be\r\n")
    assert read(b"\r\n", "192.0.2.9", ()) == ("192.0.2.9", b"\r\n")
    assert read(b"", "192.0.2.9", ()) == ("192.0.2.9", b"")
    assert read(b"", "10.1.1.1", trusted) == ("10.1.1.1", b"")  # the balancer's TCP health check: no error
    for data, peer, proxies, reason in (
        (line, "192.0.2.9", trusted, "accepted only from a trusted proxy"),
        (line, "10.1.1.1", (), "accepted only from a trusted proxy"),
        (v2("198.51.100.7", 1), "192.0.2.9", trusted, "accepted only from a trusted proxy"),
        (b"example.be\r\n", "10.1.1.1", trusted, "must start with a PROXY protocol header"),
        (b"PROXY TCP4 198.51.100.7 192.0.2.1 1 43" + b" " * 200, "10.1.1.1", trusted, "longer than 107"),
        (b"PROXY TCP4 198.51.100.7", "10.1.1.1", trusted, "closed inside the PROXY header"),
        (v2("198.51.100.7", 1)[:20], "10.1.1.1", trusted, "closed inside the PROXY header"),
        (b"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n" + b"a" * 600, "10.1.1.1", trusted, "query longer than 512"),
    ):
        with pytest.raises(Refused, match=reason):
            read(data, peer, proxies)
    # a dual-stack socket's IPv4 peer is the trusted IPv4 proxy it is
    assert read(line, "::ffff:10.1.1.1", trusted)[0] == "198.51.100.7"


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
