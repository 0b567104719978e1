"""EPP conformance with RFC 5730/5731/5733 and DNS Belgium's result codes (issue 14), over real TLS against
the real broker and database: login services and language, result codes and their <value>, statuses, and
the login brute-force pause across connections (issue 15)."""

from __future__ import annotations

import asyncio
import ssl
from datetime import UTC, datetime
from pathlib import Path

from tests.integration import test_epp
from tests.integration.epp_client import EPP_OPEN, HEAD, NS, Answer, EppClient
from tests.integration.test_epp import CONTACT, DNSBE, DOMAIN, Platform, create_domain

platform = test_epp.platform  # the same fixture: the demo registrars a100001 and b200002 with EPP on a free port

HOST = "urn:ietf:params:xml:ns:host-1.0"


def login_frame(services: str, lang: str = "en", client_id: str = "a100001", password: str = "Demo-Epp-2026") -> str:
    return (f"<login><clID>{client_id}</clID><pw>{password}</pw><options><version>1.0</version><lang>{lang}</lang>"
            f"</options><svcs>{services}</svcs></login>")


DEFAULT_SERVICES = ("<objURI>urn:ietf:params:xml:ns:domain-1.0</objURI>"
                    "<objURI>urn:ietf:params:xml:ns:contact-1.0</objURI>")


def info_domain(name: str, pw: str | None = None) -> str:
    auth = f"<domain:authInfo><domain:pw>{pw}</domain:pw></domain:authInfo>" if pw else ""
    return f"<info><domain:info {DOMAIN}><domain:name>{name}</domain:name>{auth}</domain:info></info>"


def dnsbe_command(verb: str, name: str) -> str:
    return (f"{HEAD}{EPP_OPEN}<extension><dnsbe:ext {DNSBE}><dnsbe:command><dnsbe:{verb}>"
            f"<dnsbe:domainName>{name}</dnsbe:domainName></dnsbe:{verb}><dnsbe:clTRID>C-1</dnsbe:clTRID>"
            "</dnsbe:command></dnsbe:ext></extension></epp>")


def offending(answer: Answer) -> list[str]:
    """The elements a result's <value>/<extValue> name, as prefix:localname."""
    prefixes = {uri: prefix for prefix, uri in NS.items()}
    found = []
    for holder in answer.all("epp:response/epp:result/epp:value") + answer.all(
            "epp:response/epp:result/epp:extValue/epp:value"):
        for child in holder:
            uri, local = child.tag[1:].split("}")
            found.append(f"{prefixes.get(uri, uri)}:{local}")
    return found


async def test_a_login_announcing_services_the_server_lacks_is_accepted(platform: Platform) -> None:
    client = await platform.client(login_as=None)
    services = (f"{DEFAULT_SERVICES}<objURI>{HOST}</objURI><svcExtension>"
                "<extURI>urn:ietf:params:xml:ns:secDNS-1.0</extURI><extURI>urn:ietf:params:xml:ns:rgp-1.0</extURI>"
                "</svcExtension>")
    answer = await client.command(login_frame(services))
    assert answer.code == 1000, answer.xml
    # a command on the object the server does not offer is what is refused
    host = await client.command(f'<check><host:check xmlns:host="{HOST}"><host:name>ns1.x.be</host:name>'
                                "</host:check></check>")
    assert host.code == 2307, host.xml


async def test_a_login_language_the_greeting_does_not_offer_is_2102(platform: Platform) -> None:
    client = await platform.client(login_as=None)
    answer = await client.command(login_frame(DEFAULT_SERVICES, lang="fr"))
    assert answer.code == 2102 and "fr" in answer.message, answer.xml
    assert (await client.command(login_frame(DEFAULT_SERVICES))).code == 1000


async def test_another_registrars_domain_is_not_yours_2304(platform: Platform) -> None:
    owner, other = await platform.client(), await platform.client("b200002")
    assert (await owner.command(create_domain("epp-theirs.be"))).code == 1000
    update = await other.command(f"<update><domain:update {DOMAIN}><domain:name>epp-theirs.be</domain:name>"
                                 "<domain:add><domain:contact type=\"tech\">b200002-tech</domain:contact></domain:add>"
                                 "</domain:update></update>")
    assert update.code == 2304 and "does not belong to you" in update.message, update.xml
    for verb in ("undelete", "reactivate"):
        answer = await other.send(dnsbe_command(verb, "epp-theirs.be"))
        assert answer.code == 2304 and "does not belong to you" in answer.message, (verb, answer.xml)
    # a name nobody holds still does not exist, and says which element named it
    missing = await other.command(f"<update><domain:update {DOMAIN}><domain:name>epp-nobody.be</domain:name>"
                                  "</domain:update></update>")
    assert missing.code == 2303 and offending(missing) == ["domain:name"], missing.xml


async def test_a_missing_element_is_2003_and_named_as_in_epp(platform: Platform) -> None:
    client = await platform.client()
    body = ("<create><contact:create {ns}><contact:id>epp-novoice</contact:id><contact:postalInfo type=\"loc\">"
            "<contact:name>Jan Peeters</contact:name><contact:addr><contact:street>Kerkstraat 1</contact:street>"
            "<contact:city>Leuven</contact:city><contact:pc>3000</contact:pc><contact:cc>BE</contact:cc></contact:addr>"
            "</contact:postalInfo>{voice}<contact:email>jan@peeters.example</contact:email>"
            "<contact:authInfo><contact:pw>unused</contact:pw></contact:authInfo></contact:create></create>")
    ext = (f"<dnsbe:ext {DNSBE}><dnsbe:create><dnsbe:contact><dnsbe:type>licensee</dnsbe:type>"
           "</dnsbe:contact></dnsbe:create></dnsbe:ext>")
    answer = await client.command(body.format(ns=CONTACT, voice=""), ext)
    assert answer.code == 2003, answer.xml
    assert "contact:voice" in answer.message and "phone" not in answer.message, answer.xml
    assert offending(answer) == ["contact:voice"], answer.xml
    bad = await client.command(body.format(ns=CONTACT, voice="<contact:voice>+32.123</contact:voice>"), ext)
    assert bad.code == 2005 and "contact:voice" in bad.message and "+32.16284971" in bad.message, bad.xml
    assert offending(bad) == ["contact:voice"], bad.xml
    update = await client.command(f"<update><contact:update {CONTACT}><contact:id>a100001-demo</contact:id><contact:chg>"
                                  "<contact:voice>+32.123</contact:voice></contact:chg></contact:update></update>")
    assert update.code == 2005 and "+32.16284971" in update.message and offending(update) == ["contact:voice"], \
        update.xml
    no_registrant = await client.command(create_domain("epp-nobody.be").replace(
        "<domain:registrant>a100001-demo</domain:registrant>", ""))
    assert no_registrant.code == 2003 and offending(no_registrant) == ["domain:registrant"], no_registrant.xml
    unknown = await client.command(f"<info><contact:info {CONTACT}><contact:id>epp-none</contact:id></contact:info></info>")
    assert unknown.code == 2303 and offending(unknown) == ["contact:id"], unknown.xml


async def test_request_auth_code_for_a_malformed_name_is_2306(platform: Platform) -> None:
    client = await platform.client()
    answer = await client.send(dnsbe_command("requestAuthCode", "-bad-.be"))
    assert answer.code == 2306 and "invalid domain name" in answer.message, answer.xml


async def test_a_domain_on_its_way_out_is_pending_delete(platform: Platform) -> None:
    client = await platform.client()
    assert (await client.command(create_domain("epp-leaving.be"))).code == 1000
    assert (await client.command(create_domain("epp-quarantined.be"))).code == 1000
    delete = await client.command(
        f"<delete><domain:delete {DOMAIN}><domain:name>epp-leaving.be</domain:name></domain:delete></delete>",
        f"<dnsbe:ext {DNSBE}><dnsbe:delete><dnsbe:domain><dnsbe:deleteDate>2030-01-01T00:00:00.000Z"
        "</dnsbe:deleteDate></dnsbe:domain></dnsbe:delete></dnsbe:ext>")
    assert delete.code == 1000, delete.xml
    await platform.ctx.db["domains"].update_one(  # as the lifecycle job leaves it on the delete date
        {"_id": "epp-quarantined.be"}, {"$set": {"status": "QUARANTINE", "delete_date": datetime(2026, 1, 1, tzinfo=UTC)}})
    v2 = f"<dnsbe:ext {DNSBE}><dnsbe:info><dnsbe:domain version=\"2.0\"/></dnsbe:info></dnsbe:ext>"
    for name in ("epp-leaving.be", "epp-quarantined.be"):
        info = await client.command(info_domain(name), v2)
        assert info.code == 1000, info.xml
        statuses = [s.get("s") for s in info.all("epp:response/epp:resData/domain:infData/domain:status")]
        assert statuses == ["pendingDelete"], (name, info.xml)
    fresh = await client.command(create_domain("epp-staying.be"))
    assert fresh.code == 1000
    info = await client.command(info_domain("epp-staying.be"))
    assert [s.get("s") for s in info.all("epp:response/epp:resData/domain:infData/domain:status")] == ["ok"]


async def test_an_admin_contact_on_create_is_refused(platform: Platform) -> None:
    client = await platform.client()
    frame = create_domain("epp-admin.be").replace(
        "</domain:registrant>", '</domain:registrant><domain:contact type="admin">a100001-tech</domain:contact>')
    answer = await client.command(frame)
    assert answer.code == 2306 and "admin" in answer.message, answer.xml
    info = await client.command(info_domain("epp-admin.be"))
    assert info.code == 2303  # nothing was created


async def test_the_sponsor_may_give_its_own_auth_info_on_info(platform: Platform) -> None:
    client = await platform.client()
    assert (await client.command(create_domain("epp-mine.be"))).code == 1000
    answer = await client.command(info_domain("epp-mine.be", pw="anything-at-all"))
    assert answer.code == 1000, answer.xml
    assert answer.text("epp:response/epp:resData/domain:infData/domain:clID") == "a100001"


async def test_a_wrong_and_a_right_password_get_the_same_answer_from_an_unlisted_address(platform: Platform) -> None:
    await platform.ctx.db["registrars"].update_one({"_id": "b200002"},
                                                   {"$set": {"epp_settings.ip_addresses": ["192.0.2.10"]}})
    answers = []
    for password in ("Demo-Epp-2026", "Wrong-Pass-1"):
        client = await platform.client(login_as=None)
        answers.append(await client.login("b200002", password))
        await client.close()
    assert [a.code for a in answers] == [2200, 2200]
    assert answers[0].message == answers[1].message, [a.xml for a in answers]


async def test_failed_logins_are_paused_across_connections(platform: Platform) -> None:
    """5 failures from one address in 15 minutes pause that registrar's EPP login from there, whichever
    connection they came over (the count is in the database, so replicas share it)."""
    codes = []
    for _ in range(5):
        client = await platform.client(login_as=None)
        codes.append((await client.login("a100001", "Wrong-Pass-1")).code)
        await client.close()
    assert codes == [2200] * 5
    client = EppClient(platform.port)
    await client.connect()
    paused = await client.login("a100001", "Demo-Epp-2026")
    assert paused.code == 2502 and "try again" in paused.message, paused.xml
    assert await client.closed_by_server()
    # another registrar from the same address is not paused
    other = await platform.client(login_as=None)
    assert (await other.login("b200002", "Demo-Epp-2026")).code == 1000
    # the pause ends 15 minutes after the last failure
    await platform.ctx.db["login_attempts"].update_many({"user_id": "a100001"},
                                                        {"$set": {"at": datetime(2020, 1, 1, tzinfo=UTC)}})
    again = await platform.client(login_as=None)
    assert (await again.login()).code == 1000


async def test_a_verifying_client_trusts_the_development_certificate(platform: Platform) -> None:
    """As the README says: the certificate file as CA file, and one of the names it carries."""
    cafile = Path(platform.ctx.settings.epp_cert_dir) / "epp-dev-cert.pem"  # type: ignore[attr-defined]
    for host in ("127.0.0.1", "localhost"):
        context = ssl.create_default_context(cafile=str(cafile))
        reader, writer = await asyncio.open_connection("127.0.0.1", platform.port, ssl=context, server_hostname=host)
        length = int.from_bytes(await asyncio.wait_for(reader.readexactly(4), 10), "big")
        assert b"<greeting>" in await reader.readexactly(length - 4)
        writer.close()
    strict = ssl.create_default_context()  # without the file the self-signed certificate is not trusted
    try:
        await asyncio.open_connection("127.0.0.1", platform.port, ssl=strict)
    except ssl.SSLCertVerificationError:
        pass
    else:
        raise AssertionError("an unverified certificate was accepted")
