"""WHOIS, DAS and RDAP over real sockets, from the publication service running as a real process; its read
model is fed with the registry's events on the real broker. RDAP answers are validated against a JSON Schema
written from RFC 9083 (rdap_schema.json)."""

from __future__ import annotations

import asyncio
import ipaddress
import json
import struct
from collections.abc import AsyncIterator, Awaitable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import aio_pika
import httpx
import jsonschema
import pytest

from services.publication.proxyproto import V2_SIGNATURE
from shared.clock import ManualClock
from shared.events import EventPayload, new_event
from shared.events.contacts import ContactCreated
from shared.events.domains import (
    DomainCreated,
    DomainDeleted,
    DomainLocked,
    DomainOverrideChanged,
    DomainQuarantined,
    NameServerHost,
)
from shared.events.groups import DnsKey, KeyGroupChanged
from shared.events.registrars import RegistrarCreated
from tests.integration.infra import AMQP_USER, AMQP_URL, ServiceProcess, eventually, free_port

SCHEMA = jsonschema.Draft202012Validator(json.loads((Path(__file__).parent / "rdap_schema.json").read_text()),
                                         format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
KEY = DnsKey(flags=257, protocol=3, algorithm=13,
             public_key="mdsswUyr3DPW132mOi8V9xESWE8jTo0dxCjjnopKl+GqJxpVXckHAeF+KkxLbxILfDLUT0rAK9iUzy1L53eKGQ==")
NOW = datetime.now(UTC).replace(microsecond=0)
IDN, IDN_A = "café.be", "xn--caf-dma.be"
PRIVATE = ("Jan Peeters", "jan.peeters@example.be", "Kerkstraat 1", "+32.470000000")


async def publish(namespace: str, events: list[tuple[EventPayload, str | None]]) -> None:
    connection = await aio_pika.connect(AMQP_URL)
    async with connection:
        channel = await connection.channel()
        exchange = await channel.get_exchange(f"{namespace}.registry.events")
        for payload, registrar in events:
            event = new_event(payload, registrar_id=registrar, correlation_id=None, clock=ManualClock(NOW))
            # user_id: RabbitMQ checks it is the connection's user; the consumer checks that user may publish the type
            await exchange.publish(aio_pika.Message(event.to_json(), delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                                                    user_id=AMQP_USER),
                                   routing_key=event.event_type)


async def ask(port: int, data: bytes, timeout: float = 10, eof: bool = False) -> str:
    """One TCP exchange: send (then close the sending side when eof), read until the server closes."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(data)
    await writer.drain()
    if eof:
        writer.write_eof()
    answer = await asyncio.wait_for(reader.read(), timeout)
    writer.close()
    return answer.decode()


def proxy_v1(client: str, port: int = 50000) -> bytes:
    family = "TCP4" if ipaddress.ip_address(client).version == 4 else "TCP6"
    server = "192.0.2.1" if family == "TCP4" else "2001:db8::1"
    return f"PROXY {family} {client} {server} {port} 43\r\n".encode()


def proxy_v2(client: str, port: int = 50000, tlvs: bytes = b"") -> bytes:
    ip = ipaddress.ip_address(client)
    family, server = (0x11, ipaddress.ip_address("192.0.2.1")) if ip.version == 4 else \
        (0x21, ipaddress.ip_address("2001:db8::1"))
    body = ip.packed + server.packed + struct.pack("!HH", port, 43) + tlvs
    return V2_SIGNATURE + bytes([0x21, family]) + struct.pack("!H", len(body)) + body


class Public:
    def __init__(self, process: ServiceProcess, whois: int, das: int) -> None:
        self.process, self.whois_port, self.das_port = process, whois, das
        self.http = httpx.AsyncClient(base_url=process.url)

    async def whois(self, query: str) -> str:
        return await ask(self.whois_port, query.encode() + b"\r\n")

    async def das(self, query: str) -> str:
        return await ask(self.das_port, query.encode() + b"\r\n")

    async def rdap(self, path: str) -> httpx.Response:
        response = await self.http.get(f"/rdap/{path}")
        assert response.headers["content-type"].startswith("application/rdap+json"), response.headers
        assert response.headers["access-control-allow-origin"] == "*"
        SCHEMA.validate(response.json())
        return response


@pytest.fixture
async def public(namespace: str, knot_port: int, tmp_path: Path) -> AsyncIterator[Public]:
    whois_port, das_port = free_port(), free_port()
    process = ServiceProcess("publication", namespace, tmp_path, DNS_PORT=str(knot_port), WHOIS_PORT=str(whois_port),
                             DAS_PORT=str(das_port), WHOIS_RATE_PER_MINUTE="25", RDAP_RATE_PER_MINUTE="40",
                             CHECK_INTERVAL_SECONDS="0")
    process.env["RDAP_BASE_URL"] = f"{process.url}/rdap/"
    await process.start()
    public = Public(process, whois_port, das_port)
    try:
        await publish(namespace, [
            (RegistrarCreated(name="Demo Registrar", products=["be"], languages=["nl"], email="office@registrar.example",
                              website="https://registrar.example/", organisation=["Demo Registrar BV"]), "r1"),
            (ContactCreated(alias="c-private", type="REGISTRANT", name=PRIVATE[0], street=[PRIVATE[2]], city="Leuven",
                            postal_code="3000", country="BE", phone=PRIVATE[3], email=PRIVATE[1], language="nl"), "r1"),
            (KeyGroupChanged(name="k1", keys=[KEY], created=True), "r1"),
            (DomainCreated(name=IDN_A, tld="be", registrant="c-private", registered_at=NOW,
                           name_servers=[f"ns1.{IDN_A}", "ns.hoster.example"], keygroups=["k1"],
                           hosts=[NameServerHost(name=f"ns1.{IDN_A}", addresses=["192.0.2.10", "2001:db8::10"]),
                                  NameServerHost(name="ns.hoster.example")]), "r1"),
            (DomainLocked(name=IDN_A, status="clientTransferProhibited", by_operator=False), "r1"),
            (DomainDeleted(name=IDN_A, delete_date=NOW + timedelta(days=10)), "r1"),
            (DomainCreated(name="resting.be", tld="be", registrant="c-private", registered_at=NOW), "r1"),
            # out of order (a redelivery overtook them): the lock and the override before the registration
            (DomainLocked(name="early.be", status="clientTransferProhibited", by_operator=False), "r1"),
            (DomainOverrideChanged(name="early.be", overridden=True, reason="Registrant verification pending",
                                   published_name_servers=["ns1.landing.registry.invalid"]), "r1"),
            (DomainCreated(name="early.be", tld="be", registrant="c-private", registered_at=NOW,
                           name_servers=["ns.hoster.example"], hosts=[NameServerHost(name="ns.hoster.example")]),
             "r1"),
            (DomainQuarantined(name="resting.be", quarantined_at=NOW, available_on=NOW + timedelta(days=40)), "r1"),
        ])

        async def whois_of_quarantined() -> str:
            return await public.whois("resting.be")

        # readiness, not speed: the events' arrival under a loaded machine may take a while
        async def rdap_of_the_idn() -> httpx.Response:
            await asyncio.sleep(0.6)  # under RDAP_RATE_PER_MINUTE (120): a slow arrival must not end in 429s
            return await public.http.get(f"/rdap/domain/{IDN_A}")

        await eventually(rdap_of_the_idn, lambda r: r.status_code == 200,
                         timeout=60)
        await eventually(whois_of_quarantined, lambda text: "QUARANTINE" in text, timeout=60)
        yield public
    finally:
        await public.http.aclose()
        process.stop()


async def test_whois_das_and_rdap_over_real_sockets(public: Public) -> None:
    # WHOIS: U-label and A-label give the same answer; status, date, registrar, name servers, keys, flags
    by_unicode, by_ascii = await public.whois(IDN), await public.whois(IDN_A.upper())
    assert by_unicode == by_ascii
    for expected in (f"Domain:\t{IDN_A}", f"Unicode:\t{IDN}", "Status:\tNOT AVAILABLE",
                     f"Registered:\t{NOW:%a %b %d %Y}", "Name:\t Demo Registrar", "Website: https://registrar.example/",
                     f"ns1.{IDN_A} (192.0.2.10, 2001:db8::10)", "ns.hoster.example", "flags:257 protocol:3 algorithm:13",
                     "clientTransferProhibited"):
        assert expected.replace("\n", "\r\n") in by_unicode, (expected, by_unicode)
    assert not any(secret in by_unicode for secret in PRIVATE)
    assert "Status:\tAVAILABLE" in await public.whois("never-registered.be")
    assert "% Error:" in await public.whois("not a name")
    # an overlong or binary query: an error line, and the server goes on answering
    assert (await ask(public.whois_port, b"a" * 5000 + b"\r\n")).startswith("% Error: query longer than")
    assert (await ask(public.whois_port, b"\xff\xfe\x00\x01\r\n")).startswith("% Error:")
    assert (await ask(public.whois_port, b"caf\x00.be\r\n")).startswith("% Error:")
    assert "Status:\tNOT AVAILABLE" in await public.whois(IDN_A)
    # no WHOIS_TRUSTED_PROXIES (the default): a client cannot name the address it is counted under
    refused = "a PROXY protocol header is accepted only from a trusted proxy"
    assert (await ask(public.whois_port, proxy_v1("198.51.100.7") + b"free-name.be\r\n")) == f"% Error: {refused}\r\n"
    assert (await ask(public.whois_port, proxy_v2("198.51.100.7") + b"free-name.be\r\n")) == f"% Error: {refused}\r\n"
    assert f"RC: -1\r\nError: {refused}" in await ask(public.das_port, proxy_v2("198.51.100.7") + b"free-name.be\r\n")

    # DAS (digest 7.4)
    assert "RC: 0\r\nDomain: xn--caf-dma.be\r\nStatus: NOT AVAILABLE" in await public.das(IDN)
    assert "Status: NOT AVAILABLE" in await public.das("resting.be")
    assert "RC: 0\r\nDomain: free-name.be\r\nStatus: AVAILABLE" in await public.das("free-name.be")
    assert "Status: NOT ALLOWED" in await public.das("example.com")
    assert "Status: NOT ALLOWED" in await public.das("-bad-.be")

    # RDAP: the domain, by U-label and A-label
    for path in (f"domain/{quote(IDN)}", f"domain/{IDN_A}"):
        body = (await public.rdap(path)).json()
        assert body["ldhName"] == IDN_A and body["unicodeName"] == IDN
        assert {"client transfer prohibited", "pending delete"} <= set(body["status"])
        assert {e["eventAction"] for e in body["events"]} == {"registration", "expiration", "last changed", "deletion"}
        registrar = next(e for e in body["entities"] if e["roles"] == ["registrar"])
        assert ["fn", {}, "text", "Demo Registrar"] in registrar["vcardArray"][1]
        assert ["url", {}, "uri", "https://registrar.example/"] in registrar["vcardArray"][1]
        assert body["secureDNS"]["delegationSigned"] and len(body["secureDNS"]["dsData"]) == 1
        assert sorted(ns["ldhName"] for ns in body["nameservers"]) == ["ns.hoster.example", f"ns1.{IDN_A}"]
        assert {r["name"]["type"] for r in body["redacted"]} >= {"Registrant Name", "Registrant Email"}
        assert "rdap_level_0" in body["rdapConformance"] and "redacted" in body["rdapConformance"]
        assert not any(secret in json.dumps(body) for secret in PRIVATE)
    early = (await public.rdap("domain/early.be")).json()
    assert "client transfer prohibited" in early["status"]
    assert early["remarks"][0]["title"] == "Name servers overridden"
    assert [ns["ldhName"] for ns in early["nameservers"]] == ["ns1.landing.registry.invalid"]
    quarantined = (await public.rdap("domain/resting.be")).json()
    assert "redemption period" in quarantined["status"]

    registrar = (await public.rdap("entity/r1")).json()
    assert registrar["objectClassName"] == "entity" and registrar["roles"] == ["registrar"]
    contact = (await public.rdap("entity/c-private")).json()
    assert contact["roles"] == ["registrant"] and contact["redacted"]
    assert not any(secret in json.dumps(contact) for secret in PRIVATE)
    ns = (await public.rdap(f"nameserver/ns1.{IDN_A}")).json()
    assert ns["ipAddresses"] == {"v4": ["192.0.2.10"], "v6": ["2001:db8::10"]}
    assert (await public.rdap("help")).json()["notices"]

    for path, code in (("domain/never-registered.be", 404), ("entity/nobody", 404), ("nameserver/ns.nowhere.example", 404),
                       ("domain/example.com", 400), (f"domain/{quote('bad name!.be')}", 400), ("autnum/1", 400)):
        response = await public.rdap(path)
        assert response.status_code == code and response.json()["errorCode"] == code, (path, response.text)


async def test_rate_limits_answer_in_words_per_protocol(public: Public) -> None:
    # DAS: 50 a minute per address, then RC -2 for the rest of the minute
    answers = [await public.das(f"free-{i}.be") for i in range(52)]
    assert all("RC: 0" in a for a in answers[:48])  # the fixture's readiness probes used none of DAS's
    assert "RC: -2\r\nError: excessive querying" in answers[-1]

    # WHOIS: a clear line once the address is over its limit
    lines = [await public.whois("free-name.be") for _ in range(26)]
    assert "% Error: query limit exceeded: at most 25 queries a minute per address" in lines[-1]

    # RDAP: 429 with Retry-After
    statuses = [(await public.http.get("/rdap/help")) for _ in range(41)]
    limited = statuses[-1]
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1
    assert limited.headers["access-control-allow-origin"] == "*"
    SCHEMA.validate(limited.json())
    # no RDAP_TRUSTED_PROXIES: a client's own X-Forwarded-For does not buy it a fresh count (nor does uvicorn's)
    spoofed = await public.http.get("/rdap/help", headers={"X-Forwarded-For": "198.51.100.7"})
    assert spoofed.status_code == 429, spoofed.text


@pytest.fixture
async def balanced(namespace: str, knot_port: int, tmp_path: Path) -> AsyncIterator[Public]:
    """The service behind a TCP load balancer: the tests' own address (127.0.0.1) is the trusted proxy."""
    whois_port, das_port = free_port(), free_port()
    process = ServiceProcess("publication", namespace, tmp_path, DNS_PORT=str(knot_port), WHOIS_PORT=str(whois_port),
                             DAS_PORT=str(das_port), WHOIS_RATE_PER_MINUTE="3", DAS_RATE_PER_MINUTE="3",
                             WHOIS_TRUSTED_PROXIES='["127.0.0.0/8", "::1/128"]', CHECK_INTERVAL_SECONDS="0")
    await process.start()
    try:
        yield Public(process, whois_port, das_port)
    finally:
        process.stop()


async def test_behind_a_trusted_balancer_each_client_named_by_proxy_protocol_has_its_own_limit(
        balanced: Public) -> None:
    # the balancer dies in the middle of a header: the connection is dropped at the deadline, nothing answered
    stalled = asyncio.create_task(ask(balanced.whois_port, b"PROXY TCP4 198.51.100.", timeout=30))

    def whois_via(header: bytes) -> Awaitable[str]:
        return ask(balanced.whois_port, header + b"free-name.be\r\n")

    # client A through v1 and v2 alike: one count of 3 a minute
    a = [await whois_via(proxy_v1("198.51.100.7")), await whois_via(proxy_v2("198.51.100.7")),
         await whois_via(proxy_v1("198.51.100.7", port=50001))]
    assert all("Status:\tAVAILABLE" in answer for answer in a), a
    assert "% Error: query limit exceeded: at most 3 queries a minute" in await whois_via(proxy_v2("198.51.100.7"))
    # client B (IPv6, v2 with a TLV after the addresses, as cloud balancers add) and C (v1) have counts of their own
    b = [await whois_via(proxy_v2("2001:db8::7", tlvs=b"\x04\x00\x02ab")) for _ in range(3)]
    assert all("Status:\tAVAILABLE" in answer for answer in b), b
    assert "query limit exceeded" in await whois_via(proxy_v1("2001:db8::7"))
    assert "Status:\tAVAILABLE" in await whois_via(proxy_v1("203.0.113.5"))
    # the balancer's own health check (v2 LOCAL) counts under the balancer's address, not a client's
    local = bytearray(proxy_v2("198.51.100.7"))
    local[12] = 0x20
    assert "Status:\tAVAILABLE" in await whois_via(bytes(local))

    # DAS behind the same balancer: per client too, RC -2 for the rest of the minute
    das_a = [await ask(balanced.das_port, proxy_v2("198.51.100.7") + b"free-name.be\r\n") for _ in range(4)]
    assert all("RC: 0" in answer for answer in das_a[:3]) and "RC: -2" in das_a[3], das_a
    assert "RC: 0\r\nDomain: free-name.be\r\nStatus: AVAILABLE" in await ask(
        balanced.das_port, proxy_v1("198.51.100.8") + b"free-name.be\r\n")

    # from the trusted balancer, the header is required, and a malformed one is refused in words
    for data, reason in (
        (b"free-name.be\r\n", "a connection from a trusted proxy must start with a PROXY protocol header"),
        (b"PROXY TCP4 198.51.100.7 192.0.2.1 50000\r\nfree-name.be\r\n", "PROXY header: expected PROXY"),
        (b"PROXY TCP4 not-an-address 192.0.2.1 1 43\r\n", "is not an IP address"),
        (b"PROXY TCP4 " + b"9" * 5000 + b"\r\n", "PROXY header longer than 107 bytes"),
        (b"PROXY TCP4 \xff\xfe\x00\x01 192.0.2.1 1 43\r\n", "not ASCII text"),
        (V2_SIGNATURE + b"\x21\x11\xff\xff" + b"\x00" * 5000, "65535 bytes of addresses and TLVs"),
        (V2_SIGNATURE + b"\x21\x31\x00\x0c" + b"\x00" * 12, "is not TCP over IPv4 or IPv6"),
        (V2_SIGNATURE + b"\x31\x11\x00\x0c" + b"\x00" * 12, "version 3"),
        (V2_SIGNATURE + b"\x21\x11\x00\x0c\x00\x00", "closed inside the PROXY header"),  # and the balancer closes
    ):
        answer = await ask(balanced.whois_port, data, eof=True)
        assert answer.startswith("% Error: ") and reason in answer, (data[:40], answer)
    assert "RC: -1\r\nError: a connection from a trusted proxy must start" in await ask(
        balanced.das_port, b"free-name.be\r\n")
    # and the server goes on answering; the refusals are counted for the operator
    assert "Status:\tAVAILABLE" in await whois_via(proxy_v1("203.0.113.6"))
    async with httpx.AsyncClient(base_url=balanced.process.url) as http:
        metrics = (await http.get("/metrics")).text
    assert 'publication_queries_total{outcome="refused",protocol="whois"} 9.0' in metrics, metrics
    assert 'publication_queries_total{outcome="refused",protocol="das"} 1.0' in metrics
    assert await asyncio.wait_for(stalled, 30) == ""
