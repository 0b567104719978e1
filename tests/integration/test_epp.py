"""The EPP server over real TLS sockets, with frames and XML built by the test (tests/integration/
epp_client.py), against the real broker and database."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest

from services.registry.app import build
from services.registry.registrars.demo import seed_demo_registrar
from services.registry.settings import RegistrySettings
from shared.runtime import ServiceContext
from tests.integration.epp_client import EPP_OPEN, HEAD, EppClient
from tests.integration.infra import EventTap, login, running

DNSBE = 'xmlns:dnsbe="http://www.dns.be/xml/epp/dnsbe-1.0"'
DOMAIN = 'xmlns:domain="urn:ietf:params:xml:ns:domain-1.0"'
CONTACT = 'xmlns:contact="urn:ietf:params:xml:ns:contact-1.0"'


@dataclass
class Platform:
    http: httpx.AsyncClient
    ctx: ServiceContext
    port: int

    async def client(self, login_as: str | None = "a100001", password: str = "Demo-Epp-2026") -> EppClient:
        client = EppClient(self.port)
        greeting = await client.connect()
        assert greeting.find("epp:greeting/epp:svID") is not None
        if login_as:
            answer = await client.login(login_as, password)
            assert answer.code == 1000, answer.xml
        return client


def epp_settings(namespace: str, **extra: object) -> RegistrySettings:
    return RegistrySettings(namespace=namespace, seed_demo_registrar=True, outbox_poll_seconds=0.05,
                            operator_token="operator-dev-token", epp_port=0, **extra)  # type: ignore[arg-type]


@pytest.fixture
async def platform(namespace: str, request: pytest.FixtureRequest) -> AsyncIterator[Platform]:
    extra = getattr(request, "param", {})
    settings = epp_settings(namespace, **extra)
    async with running(build(settings)) as http:
        ctx = http._transport.app.state.ctx  # type: ignore[attr-defined]
        await seed_demo_registrar(ctx, settings, "b200002")
        yield Platform(http, ctx, ctx.extras["epp_port"])


def create_domain(name: str, registrant: str = "a100001-demo", ns: str = "") -> str:
    return (f"<create><domain:create {DOMAIN}><domain:name>{name}</domain:name>"
            f"<domain:period unit=\"y\">1</domain:period>{ns}<domain:registrant>{registrant}</domain:registrant>"
            "<domain:contact type=\"tech\">a100001-tech</domain:contact>"
            "<domain:authInfo><domain:pw>unused</domain:pw></domain:authInfo></domain:create></create>")


async def test_session_basics(platform: Platform) -> None:
    client = await platform.client(login_as=None)
    hello = await client.send(f"{HEAD}{EPP_OPEN}<hello/></epp>")
    assert hello.find("epp:greeting/epp:svcMenu/epp:objURI") is not None
    early = await client.command(f"<info><domain:info {DOMAIN}><domain:name>x.be</domain:name></domain:info></info>")
    assert early.code == 2002
    wrong = await client.login("a100001", "Wrong-Pass-1")
    assert wrong.code == 2200
    ok = await client.login()
    assert ok.code == 1000
    assert ok.text("epp:response/epp:trID/epp:clTRID") == f"TEST-{client.counter:05d}"
    ids = set()
    for _ in range(3):
        answer = await client.send(f"{HEAD}{EPP_OPEN}<command><check><domain:check {DOMAIN}><domain:name>free.be"
                                   "</domain:name></domain:check></check></command></epp>")
        assert answer.code == 1000
        ids.add(answer.text("epp:response/epp:trID/epp:svTRID"))
    assert len(ids) == 3 and None not in ids
    bye = await client.logout()
    assert bye.code == 1500
    assert await client.closed_by_server()
    attempts = await platform.ctx.db["login_attempts"].find({"user_id": "a100001", "channel": "EPP"}).to_list()
    assert sorted(a["success"] for a in attempts) == [False, True]


async def test_domain_commands(platform: Platform, namespace: str) -> None:
    client = await platform.client()
    ns = ("<domain:ns><domain:hostAttr><domain:hostName>ns1.epp-one.be</domain:hostName>"
          "<domain:hostAddr ip=\"v4\">192.0.2.1</domain:hostAddr></domain:hostAttr>"
          "<domain:hostAttr><domain:hostName>ns.example.net</domain:hostName></domain:hostAttr></domain:ns>")
    async with EventTap(namespace) as tap:
        created = await client.command(create_domain("epp-one.be", ns=ns))
        assert created.code == 1000, created.xml
        assert created.text("epp:response/epp:resData/domain:creData/domain:name") == "epp-one.be"
        again = await client.command(create_domain("epp-one.be"))
        assert again.code == 2302
        failed = (await tap.wait_for("command.failed"))[0]
        assert failed["payload"]["channel"] == "EPP" and failed["payload"]["command"] == "NEW_DOMAIN"
        assert failed["payload"]["reference"] == again.text("epp:response/epp:trID/epp:svTRID")

    check = await client.command(f"<check><domain:check {DOMAIN}><domain:name>epp-one.be</domain:name>"
                                 "<domain:name>epp-free.be</domain:name><domain:name>-bad.be</domain:name>"
                                 "</domain:check></check>")
    avail = {cd.find("domain:name", {"domain": "urn:ietf:params:xml:ns:domain-1.0"}).text:  # type: ignore[union-attr]
             cd.find("domain:name", {"domain": "urn:ietf:params:xml:ns:domain-1.0"}).get("avail")  # type: ignore[union-attr]
             for cd in check.all("epp:response/epp:resData/domain:chkData/domain:cd")}
    assert avail == {"epp-one.be": "0", "epp-free.be": "1", "-bad.be": "0"}

    info = await client.command(f"<info><domain:info {DOMAIN}><domain:name>epp-one.be</domain:name></domain:info></info>",
                                f"<dnsbe:ext {DNSBE}><dnsbe:info><dnsbe:domain version=\"2.0\"/></dnsbe:info></dnsbe:ext>")
    assert info.code == 1000, info.xml
    data = "epp:response/epp:resData/domain:infData"
    assert info.text(f"{data}/domain:registrant") == "a100001-demo"
    assert info.text(f"{data}/domain:clID") == "a100001"
    assert [h.text for h in info.all(f"{data}/domain:ns/domain:hostAttr/domain:hostName")] == ["ns1.epp-one.be", "ns.example.net"]
    assert info.text("epp:response/epp:extension/dnsbe:ext/dnsbe:infData/dnsbe:domain/dnsbe:quarantined") == "false"

    update = await client.command(
        f"<update><domain:update {DOMAIN}><domain:name>epp-one.be</domain:name>"
        "<domain:add><domain:status s=\"clientTransferProhibited\">holder's mail of 2026-11-20</domain:status></domain:add>"
        "<domain:rem><domain:ns><domain:hostAttr><domain:hostName>ns.example.net</domain:hostName></domain:hostAttr>"
        "</domain:ns></domain:rem></domain:update></update>")
    assert update.code == 1000, update.xml
    info = await client.command(f"<info><domain:info {DOMAIN}><domain:name>epp-one.be</domain:name></domain:info></info>")
    assert [s.get("s") for s in info.all(f"{data}/domain:status")] == ["clientTransferProhibited"]
    assert len(info.all(f"{data}/domain:ns/domain:hostAttr")) == 1
    registrant = await client.command(f"<update><domain:update {DOMAIN}><domain:name>epp-one.be</domain:name>"
                                      "<domain:chg><domain:registrant>a100001-demo</domain:registrant></domain:chg>"
                                      "</domain:update></update>")
    assert registrant.code == 2306

    delete = await client.command(f"<delete><domain:delete {DOMAIN}><domain:name>epp-one.be</domain:name></domain:delete></delete>",
                                  f"<dnsbe:ext {DNSBE}><dnsbe:delete><dnsbe:domain><dnsbe:deleteDate>2030-01-01T00:00:00.000Z"
                                  "</dnsbe:deleteDate></dnsbe:domain></dnsbe:delete></dnsbe:ext>")
    assert delete.code == 1000, delete.xml
    info = await client.command(f"<info><domain:info {DOMAIN}><domain:name>epp-one.be</domain:name></domain:info></info>",
                                f"<dnsbe:ext {DNSBE}><dnsbe:info><dnsbe:domain version=\"2.0\"/></dnsbe:info></dnsbe:ext>")
    assert (info.text("epp:response/epp:extension/dnsbe:ext/dnsbe:infData/dnsbe:domain/dnsbe:deletionDate") or "").startswith(
        "2030-01-01")
    undelete = await client.send(f"{HEAD}{EPP_OPEN}<extension><dnsbe:ext {DNSBE}><dnsbe:command><dnsbe:undelete>"
                                 "<dnsbe:domainName>epp-one.be</dnsbe:domainName></dnsbe:undelete>"
                                 "<dnsbe:clTRID>UNDEL-1</dnsbe:clTRID></dnsbe:command></dnsbe:ext></extension></epp>")
    assert undelete.code == 1000, undelete.xml
    assert undelete.text("epp:response/epp:trID/epp:clTRID") == "UNDEL-1"
    renew = await client.command(f"<renew><domain:renew {DOMAIN}><domain:name>epp-one.be</domain:name>"
                                 "<domain:curExpDate>2027-11-23</domain:curExpDate></domain:renew></renew>")
    assert renew.code == 2101


async def test_transfer_over_epp(platform: Platform, namespace: str) -> None:
    losing, gaining = await platform.client(), await platform.client("b200002")
    assert (await losing.command(create_domain("epp-move.be"))).code == 1000
    async with EventTap(namespace, "domain.transfer_code_sent") as tap:
        asked = await gaining.send(f"{HEAD}{EPP_OPEN}<extension><dnsbe:ext {DNSBE}><dnsbe:command><dnsbe:requestAuthCode>"
                                   "<dnsbe:domainName>epp-move.be</dnsbe:domainName><dnsbe:url>https://gaining.example/t"
                                   "</dnsbe:url></dnsbe:requestAuthCode><dnsbe:clTRID>AC-1</dnsbe:clTRID></dnsbe:command>"
                                   "</dnsbe:ext></extension></epp>")
        assert asked.code == 1000, asked.xml
        sealed = (await tap.wait_for("domain.transfer_code_sent"))[0]["payload"]["sealed_code"]
    from services.registry.domains.transfer import sealer

    code = sealer(platform.ctx).open(sealed)
    body = (f"<transfer op=\"request\"><domain:transfer {DOMAIN}><domain:name>epp-move.be</domain:name>"
            f"<domain:authInfo><domain:pw>{code}</domain:pw></domain:authInfo></domain:transfer></transfer>")
    ext = f"<dnsbe:ext {DNSBE}><dnsbe:transfer><dnsbe:domain><dnsbe:registrant>#AUTO#</dnsbe:registrant></dnsbe:domain></dnsbe:transfer></dnsbe:ext>"
    query = await gaining.command(body.replace('op="request"', 'op="query"'), ext)
    assert query.code == 2102
    done = await gaining.command(body, ext)
    assert done.code == 1000, done.xml
    assert done.text("epp:response/epp:resData/domain:trnData/domain:acID") == "a100001"
    gone = await losing.command(f"<info><domain:info {DOMAIN}><domain:name>epp-move.be</domain:name></domain:info></info>")
    assert gone.code == 2303


async def test_contact_commands(platform: Platform) -> None:
    client = await platform.client()
    create = await client.command(
        f"<create><contact:create {CONTACT}><contact:id>epp-holder</contact:id><contact:postalInfo type=\"loc\">"
        "<contact:name>Jan Peeters</contact:name><contact:addr><contact:street>Kerkstraat 1</contact:street>"
        "<contact:city>Leuven</contact:city><contact:pc>3000</contact:pc><contact:cc>BE</contact:cc></contact:addr>"
        "</contact:postalInfo><contact:voice>+32.16123456</contact:voice><contact:email>jan@peeters.example</contact:email>"
        "<contact:authInfo><contact:pw>unused</contact:pw></contact:authInfo></contact:create></create>",
        f"<dnsbe:ext {DNSBE}><dnsbe:create><dnsbe:contact><dnsbe:type>licensee</dnsbe:type><dnsbe:lang>nl</dnsbe:lang>"
        "</dnsbe:contact></dnsbe:create></dnsbe:ext>")
    assert create.code == 1000, create.xml
    info = await client.command(f"<info><contact:info {CONTACT}><contact:id>epp-holder</contact:id></contact:info></info>",
                                f"<dnsbe:ext {DNSBE}><dnsbe:info><dnsbe:contact version=\"2.0\"/></dnsbe:info></dnsbe:ext>")
    assert info.code == 1000, info.xml
    ext = "epp:response/epp:extension/dnsbe:ext/dnsbe:infData/dnsbe:contact"
    assert (info.text(f"{ext}/dnsbe:type"), info.text(f"{ext}/dnsbe:lang"), info.text(f"{ext}/dnsbe:verification")) == (
        "licensee", "nl", "unverified")
    assert info.text(f"{ext}/dnsbe:onhold") == "false"  # as in the seed's info-contact v2.0 answer
    update = await client.command(f"<update><contact:update {CONTACT}><contact:id>epp-holder</contact:id><contact:chg>"
                                  "<contact:voice>+32.16999999</contact:voice></contact:chg></contact:update></update>")
    assert update.code == 1000, update.xml
    assert (await client.command(create_domain("epp-linked.be", "epp-holder"))).code == 1000
    linked = await client.command(f"<delete><contact:delete {CONTACT}><contact:id>epp-holder</contact:id></contact:delete></delete>")
    assert linked.code == 2305
    other = await platform.client("b200002")
    hidden = await other.command(f"<info><contact:info {CONTACT}><contact:id>epp-holder</contact:id></contact:info></info>")
    assert hidden.code == 2303


async def test_hostile_input_is_refused_and_the_session_survives(platform: Platform) -> None:
    client = await platform.client()
    laughs = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;">'
              '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;">]><epp xmlns="urn:ietf:params:xml:ns:epp-1.0"><hello/>&lol3;</epp>')
    external = ('<?xml version="1.0"?><!DOCTYPE epp [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
                '<epp xmlns="urn:ietf:params:xml:ns:epp-1.0"><command><info><domain:info '
                f'{DOMAIN}><domain:name>&xxe;</domain:name></domain:info></info></command></epp>')
    for payload, code in ((laughs, 2001), (external, 2001), ("<epp><unclosed>", 2001),
                          ('<epp xmlns="urn:example:wrong"><hello/></epp>', 2001),
                          (f"{HEAD}{EPP_OPEN}<command><frobnicate/></command></epp>", 2000)):
        answer = await client.send(payload)
        assert answer.code == code, (payload, answer.xml)
        assert "root:" not in answer.xml
    still = await client.command(f"<check><domain:check {DOMAIN}><domain:name>alive.be</domain:name></domain:check></check>")
    assert still.code == 1000
    # a frame announced larger than the limit: answered once, then the connection is closed
    client.writer.write((10_000_000).to_bytes(4, "big"))
    await client.writer.drain()
    assert (await client.read()).code == 2001
    assert await client.closed_by_server()


async def test_refusals_of_the_epp_layer_count_like_any_other(platform: Platform, namespace: str) -> None:
    """The EPP layer's own checks (policy, schema, unimplemented extension) publish command.failed under the
    command's type and svTRID, so hitpoints scores them as it scores the web's refusals."""
    client = await platform.client()
    update = (f"<update><domain:update {DOMAIN}><domain:name>epp-any.be</domain:name>{{}}</domain:update></update>")
    frames = [
        ("NEW_DOMAIN", 2306, create_domain("epp-period.be").replace('unit="y">1<', 'unit="y">3<'), None),
        ("UPD_DOMAIN", 2001, update.format("<domain:frobnicate/>"), None),
        ("UPD_DOMAIN", 2103, update.format(""), ('<rgp:update xmlns:rgp="urn:ietf:params:xml:ns:rgp-1.0">'
                                                 '<rgp:restore op="request"/></rgp:update>')),
    ]
    async with EventTap(namespace) as tap:
        references = []
        for command, code, frame, extension in frames:
            answer = await client.command(frame, extension or "")
            assert answer.code == code, answer.xml
            references.append((command, code, answer.text("epp:response/epp:trID/epp:svTRID")))
        failed = await tap.wait_for("command.failed", count=len(frames))
    assert sorted((e["payload"]["command"], e["payload"]["result_code"], e["payload"]["reference"]) for e in failed) \
        == sorted(references)
    assert all(e["payload"]["channel"] == "EPP" and e["registrar_id"] == "a100001" for e in failed)


async def test_a_blocked_registrars_bad_input_is_refused_as_blocked(platform: Platform, namespace: str) -> None:
    """The standing comes first, as in the command layer: while blocked, bad input costs no hitpoint."""
    from datetime import UTC, datetime, timedelta

    client = await platform.client()
    await platform.ctx.db["registrars"].update_one(
        {"_id": "a100001"}, {"$set": {"blocked_until": datetime.now(UTC) + timedelta(hours=1)}})
    async with EventTap(namespace) as tap:
        answer = await client.command(create_domain("epp-blocked.be").replace('unit="y">1<', 'unit="y">3<'))
        assert answer.code == 2308 and "blocked" in answer.message, answer.xml
        [failed] = await tap.wait_for("command.failed")
    assert (failed["payload"]["command"], failed["payload"]["cause"]) == ("NEW_DOMAIN", "registrar_blocked")


async def test_an_unexpected_failure_is_answered_2400_and_the_session_lives(
        platform: Platform, monkeypatch: pytest.MonkeyPatch) -> None:
    from services.registry.epp import dispatch
    from services.registry.epp.reply import Reply

    async def broken(*_: object) -> Reply:
        raise RuntimeError("the database went away")

    monkeypatch.setitem(dispatch.ROUTES, ("info", "urn:ietf:params:xml:ns:domain-1.0", None), dispatch.Route(broken))
    client = await platform.client()
    answer = await client.command(f"<info><domain:info {DOMAIN}><domain:name>x.be</domain:name></domain:info></info>")
    assert answer.code == 2400 and "database" not in answer.xml  # no internals leak to the client
    still = await client.command(f"<check><domain:check {DOMAIN}><domain:name>alive.be</domain:name></domain:check></check>")
    assert still.code == 1000


async def test_login_rules(platform: Platform) -> None:
    # the registrar's IP list decides: take 127.0.0.1 off it
    await platform.ctx.db["registrars"].update_one({"_id": "b200002"}, {"$set": {"epp_settings.ip_addresses": ["192.0.2.10"]}})
    client = await platform.client(login_as=None)
    refused = await client.login("b200002")
    assert refused.code == 2200 and "not allowed from 127.0.0.1" in refused.message
    # password change at login, then the new one works and the old one does not
    changed = await client.login("a100001", "Demo-Epp-2026", new_password="New-Epp-2026")
    assert changed.code == 1000
    fresh = EppClient(platform.port)
    await fresh.connect()
    assert (await fresh.login("a100001", "Demo-Epp-2026")).code == 2200
    assert (await fresh.login("a100001", "New-Epp-2026")).code == 1000
    # three wrong passwords in one connection close it
    third = EppClient(platform.port)
    await third.connect()
    codes = [(await third.login("a100001", "Bad-Pass-99")).code for _ in range(3)]
    assert codes == [2200, 2200, 2501]
    assert await third.closed_by_server()


@pytest.mark.parametrize("platform", [{"epp_max_sessions_per_registrar": 2,
                                       "epp_rate_limits": {"info": 3, "check": 5, "check-v2": 2}}], indirect=True)
async def test_session_cap_and_rate_limit(platform: Platform) -> None:
    first, second = await platform.client(), await platform.client()
    third = EppClient(platform.port)
    await third.connect()
    over = await third.login(new_password="Never-Set-2026")
    assert over.code == 2502
    assert await third.closed_by_server()
    await second.logout()
    await asyncio.sleep(0.1)
    # a slot came free; the refused login changed no password, and a too-weak new one keeps no slot
    late = await platform.client(login_as=None)
    assert (await late.login(new_password="alllowercase")).code == 2306
    assert (await late.login()).code == 1000

    info = f"<info><domain:info {DOMAIN}><domain:name>limited.be</domain:name></domain:info></info>"
    codes = [(await first.command(info)).code for _ in range(4)]
    assert codes == [2303, 2303, 2303, 2502]
    # check-domain v2.0 has its own, lower limit (digest 7.4); a plain check still has room after it
    check = f"<check><domain:check {DOMAIN}><domain:name>limited.be</domain:name></domain:check></check>"
    v2 = f"<dnsbe:ext {DNSBE}><dnsbe:check><dnsbe:domain version=\"2.0\"/></dnsbe:check></dnsbe:ext>"
    fresh = await platform.client()
    assert [(await fresh.command(check, v2)).code for _ in range(3)] == [1000, 1000, 2502]
    assert (await late.command(check)).code == 1000  # (a 2502 closed the other sessions)


@pytest.mark.parametrize("platform", [{"epp_idle_timeout_seconds": 0.5}], indirect=True)
async def test_idle_sessions_are_closed(platform: Platform) -> None:
    client = await platform.client()
    assert await client.closed_by_server(timeout=5)


async def test_poll_switched_off_is_an_authorization_error(platform: Platform) -> None:
    me = await login(platform.http)
    r = await platform.http.put("/api/registrar/epp-settings", headers=me,
                                json={"poll": False, "ip_addresses": ["127.0.0.1", "::1"]})
    assert r.status_code == 200, r.text
    client = await platform.client()
    answer = await client.send(f"{HEAD}{EPP_OPEN}<command><poll op=\"req\"/><clTRID>P-1</clTRID></command></epp>")
    assert answer.code == 2201 and "switched off" in answer.message


async def test_tls_handshake_failures_are_counted(platform: Platform) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", platform.port)
    writer.write(b"GET / HTTP/1.0\r\n\r\n")  # not TLS
    await writer.drain()
    try:
        await asyncio.wait_for(reader.read(), 15)
    except (ConnectionError, ssl.SSLError, TimeoutError):
        pass
    writer.close()

    async def metric() -> float:
        text = (await platform.http.get("/metrics")).text
        lines = [ln for ln in text.splitlines() if ln.startswith("epp_tls_handshake_failures_total")]
        return float(lines[0].split()[-1]) if lines else 0.0

    for _ in range(50):
        if await metric() >= 1:
            break
        await asyncio.sleep(0.1)
    assert await metric() >= 1


@pytest.mark.parametrize("platform", [{"epp_writes_in_flight": 1}], indirect=True)
async def test_reads_do_not_wait_for_the_turn_of_writes(platform: Platform) -> None:
    """With the one write turn taken, a create waits for it, while check and info of another session are answered;
    the create runs once the turn comes back (epp/admission.py)."""
    reader, writer = await platform.client(), await platform.client()
    assert (await writer.command(create_domain("turns-first.be"))).code == 1000
    turns = platform.ctx.extras["epp_server"].dispatcher.write_turns
    async with turns.turn("create"):  # the turn of a write that takes long
        waiting = asyncio.create_task(writer.command(create_domain("turns-second.be")))
        for _ in range(100):
            if turns.waiting:
                break
            await asyncio.sleep(0.01)
        assert turns.waiting == 1
        info = await reader.command(f"<info><domain:info {DOMAIN}><domain:name>turns-first.be</domain:name>"
                                    "</domain:info></info>")
        check = await reader.command(f"<check><domain:check {DOMAIN}><domain:name>turns-second.be</domain:name>"
                                     "</domain:check></check>")
        assert (info.code, check.code) == (1000, 1000)
        available = check.find("epp:response/epp:resData/domain:chkData/domain:cd/domain:name")
        assert available is not None and available.get("avail") == "1"
        assert not waiting.done()
    assert (await asyncio.wait_for(waiting, 10)).code == 1000
    for client in (reader, writer):
        await client.close()
