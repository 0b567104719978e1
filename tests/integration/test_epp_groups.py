"""Name-server groups, key groups and secDNS over EPP: real TLS sockets, the real broker and database, frames
written by the test (tests/integration/epp_client.py), independently of the server's code."""

from __future__ import annotations

from tests.integration import test_epp
from tests.integration.infra import EventTap
from tests.integration.test_epp import DNSBE, DOMAIN, Platform, create_domain

platform = test_epp.platform  # the fixture: registry with its EPP server, demo registrars a100001 and b200002

NSG = 'xmlns:nsgroup="http://www.dns.be/xml/epp/nsgroup-1.0"'
KEYG = 'xmlns:keygroup="http://www.dns.be/xml/epp/keygroup-1.0"'
SECDNS = 'xmlns:secDNS="urn:ietf:params:xml:ns:secDNS-1.1"'
PUBKEY = "mdsswUyr3DPW132mOi8V9xESWE8jTo0dxCjjnopKl+GqJxpVXckHAeF+KkxLbxILfDLUT0rAK9iUzy1L53eKGQ=="


def nsgroup(verb: str, name: str, *hosts: str) -> str:
    ns = "".join(f"<nsgroup:ns>{h}</nsgroup:ns>" for h in hosts)
    return f"<{verb}><nsgroup:{verb} {NSG}><nsgroup:name>{name}</nsgroup:name>{ns}</nsgroup:{verb}></{verb}>"


def key(flags: int = 257, alg: int = 13, pub: str = PUBKEY) -> str:
    return (f"<keygroup:key><keygroup:flags>{flags}</keygroup:flags><keygroup:protocol>3</keygroup:protocol>"
            f"<keygroup:alg>{alg}</keygroup:alg><keygroup:pubKey>{pub}</keygroup:pubKey></keygroup:key>")


def keygroup(verb: str, name: str, *keys: str) -> str:
    return f"<{verb}><keygroup:{verb} {KEYG}><keygroup:name>{name}</keygroup:name>{''.join(keys)}</keygroup:{verb}></{verb}>"


def groups_ext(*tags: str) -> str:
    return f"<dnsbe:ext {DNSBE}><dnsbe:create><dnsbe:domain>{''.join(tags)}</dnsbe:domain></dnsbe:create></dnsbe:ext>"


INFO_V2 = f"<dnsbe:ext {DNSBE}><dnsbe:info><dnsbe:domain version=\"2.0\"/></dnsbe:info></dnsbe:ext>"


async def test_group_objects_and_domains_that_use_them(platform: Platform, namespace: str) -> None:
    client = await platform.client()
    greeting = await client.send('<?xml version="1.0" encoding="UTF-8"?><epp xmlns="urn:ietf:params:xml:ns:epp-1.0">'
                                 "<hello/></epp>")
    offered = [e.text for e in greeting.all("epp:greeting/epp:svcMenu/epp:objURI")]
    assert "http://www.dns.be/xml/epp/nsgroup-1.0" in offered and "http://www.dns.be/xml/epp/keygroup-1.0" in offered
    assert "urn:ietf:params:xml:ns:secDNS-1.1" in [
        e.text for e in greeting.all("epp:greeting/epp:svcMenu/epp:svcExtension/epp:extURI")]

    async with EventTap(namespace) as tap:
        created = await client.command(nsgroup("create", "hosting-1", "NS1.Host.example", "ns2.host.example"))
        assert created.code == 1000, created.xml
        assert (await client.command(keygroup("create", "keys-1", key()))).code == 1000
        changed = (await tap.wait_for("nsgroup.changed"))[0]["payload"]
        assert changed["name_servers"] == ["ns1.host.example", "ns2.host.example"]
        assert (await tap.wait_for("keygroup.changed"))[0]["payload"]["keys"][0]["algorithm"] == 13

    check = await client.command(f"<check><nsgroup:check {NSG}><nsgroup:name>hosting-1</nsgroup:name>"
                                 "<nsgroup:name>free-1</nsgroup:name></nsgroup:check></check>")
    assert {cd.text: cd.get("avail") for cd in check.all("epp:response/epp:resData/nsgroup:chkData/nsgroup:cd/"
                                                          "nsgroup:name")} == {"hosting-1": "0", "free-1": "1"}
    info = await client.command(f"<info><keygroup:info {KEYG}><keygroup:name>keys-1</keygroup:name></keygroup:info></info>")
    assert info.code == 1000, info.xml
    k = "epp:response/epp:resData/keygroup:infData/keygroup:key"
    assert (info.text(f"{k}/keygroup:flags"), info.text(f"{k}/keygroup:alg"), info.text(f"{k}/keygroup:pubKey")) == (
        "257", "13", PUBKEY)

    domain = await client.command(create_domain("grouped-epp.be"),
                                  groups_ext("<dnsbe:nsgroup>hosting-1</dnsbe:nsgroup>",
                                             "<dnsbe:keygroup>keys-1</dnsbe:keygroup>"))
    assert domain.code == 1000, domain.xml
    info = await client.command(f"<info><domain:info {DOMAIN}><domain:name>grouped-epp.be</domain:name>"
                                "</domain:info></info>", INFO_V2)
    d = "epp:response/epp:extension/dnsbe:ext/dnsbe:infData/dnsbe:domain"
    assert (info.text(f"{d}/dnsbe:nsgroup"), info.text(f"{d}/dnsbe:keygroup")) == ("hosting-1", "keys-1")
    keydata = "epp:response/epp:extension/secDNS:infData/secDNS:keyData"
    assert (info.text(f"{keydata}/secDNS:flags"), info.text(f"{keydata}/secDNS:pubKey")) == ("257", PUBKEY)

    linked = await client.command(nsgroup("delete", "hosting-1"))
    assert linked.code == 2305, linked.xml
    upd = await client.command(nsgroup("update", "hosting-1", "ns3.host.example"))
    assert upd.code == 1000, upd.xml
    info = await client.command(f"<info><nsgroup:info {NSG}><nsgroup:name>hosting-1</nsgroup:name></nsgroup:info></info>")
    assert [e.text for e in info.all("epp:response/epp:resData/nsgroup:infData/nsgroup:ns")] == ["ns3.host.example"]

    removed = await client.command(
        f"<update><domain:update {DOMAIN}><domain:name>grouped-epp.be</domain:name></domain:update></update>",
        f"<dnsbe:ext {DNSBE}><dnsbe:update><dnsbe:domain><dnsbe:rem><dnsbe:nsgroup>hosting-1</dnsbe:nsgroup>"
        "<dnsbe:keygroup>keys-1</dnsbe:keygroup></dnsbe:rem></dnsbe:domain></dnsbe:update></dnsbe:ext>")
    assert removed.code == 1000, removed.xml
    info = await client.command(f"<info><domain:info {DOMAIN}><domain:name>grouped-epp.be</domain:name>"
                                "</domain:info></info>", INFO_V2)
    assert info.find(f"{d}/dnsbe:nsgroup") is None and info.find("epp:response/epp:extension/secDNS:infData") is None
    async with EventTap(namespace, "nsgroup.deleted") as tap:
        assert (await client.command(nsgroup("delete", "hosting-1"))).code == 1000
        assert (await tap.wait_for("nsgroup.deleted"))[0]["payload"] == {"name": "hosting-1"}
    gone = await client.command(f"<info><nsgroup:info {NSG}><nsgroup:name>hosting-1</nsgroup:name></nsgroup:info></info>")
    assert gone.code == 2303
    await client.close()


async def test_bad_group_input_is_refused_and_changes_nothing(platform: Platform, namespace: str) -> None:
    mine = await platform.client()
    other = await platform.client("b200002")
    assert (await other.command(keygroup("create", "theirs", key()))).code == 1000
    assert (await other.command(nsgroup("create", "their-ns", "ns.their.example"))).code == 1000
    db = platform.ctx.db

    async with EventTap(namespace, "command.failed") as tap:
        # the other registrar's groups do not exist for this one
        foreign = await mine.command(f"<info><keygroup:info {KEYG}><keygroup:name>theirs</keygroup:name>"
                                     "</keygroup:info></info>")
        assert foreign.code == 2303
        assert (await mine.command(nsgroup("update", "their-ns", "ns.mine.example"))).code == 2303
        assert (await mine.command(nsgroup("delete", "their-ns"))).code == 2303
        unknown = await mine.command(create_domain("no-such-group.be"), groups_ext("<dnsbe:keygroup>theirs</dnsbe:keygroup>"))
        assert unknown.code == 2303, unknown.xml
        missing = await mine.command(create_domain("no-such-group.be"), groups_ext("<dnsbe:nsgroup>nope</dnsbe:nsgroup>"))
        assert missing.code == 2303
        # malformed or refused keys: policy (flags, algorithm) or syntax (not base64, caught by the schema)
        assert (await mine.command(keygroup("create", "bad-flags", key(flags=256)))).code == 2306
        assert (await mine.command(keygroup("create", "bad-alg", key(alg=3)))).code == 2306
        assert (await mine.command(keygroup("create", "bad-key", key(pub="not*base64")))).code == 2001
        assert (await mine.command(keygroup("create", "five", *[key()] * 5))).code == 2001
        assert (await mine.command(nsgroup("create", "bad-host", "not a host"))).code == 2005
        assert (await mine.command(nsgroup("create", "ten", *[f"ns{i}.x.example" for i in range(10)]))).code == 2001
        assert (await mine.command(nsgroup("create", "bad-host", "-x.example"))).code == 2005
        assert (await mine.command(nsgroup("create", "their-ns"))).code == 2001  # no ns
        failed = await tap.wait_for("command.failed", count=8)
        assert {f["payload"]["command"] for f in failed} >= {"INFO_KEYGROUP", "UPD_NSGROUP", "DEL_NSGROUP",
                                                              "NEW_DOMAIN", "NEW_KEYGROUP", "NEW_NSGROUP"}

    # the same name is free for this registrar: names are per registrar
    check = await mine.command(f"<check><keygroup:check {KEYG}><keygroup:name>theirs</keygroup:name></keygroup:check></check>")
    assert check.find("epp:response/epp:resData/keygroup:chkData/keygroup:cd/keygroup:name").get("avail") == "1"  # type: ignore[union-attr]
    assert await db["keygroups"].count_documents({"registrar_id": "a100001"}) == 0
    assert await db["nsgroups"].count_documents({"registrar_id": "a100001"}) == 0
    assert await db["domains"].count_documents({"_id": "no-such-group.be"}) == 0
    theirs = await db["nsgroups"].find_one({"registrar_id": "b200002", "name": "their-ns"})
    assert theirs is not None and theirs["name_servers"] == ["ns.their.example"]
    await mine.close()
    await other.close()


async def test_secdns_on_domain_create_and_update(platform: Platform) -> None:
    client = await platform.client()
    keydata = (f"<secDNS:create {SECDNS}><secDNS:keyData><secDNS:flags>257</secDNS:flags><secDNS:protocol>3"
               f"</secDNS:protocol><secDNS:alg>13</secDNS:alg><secDNS:pubKey>{PUBKEY}</secDNS:pubKey>"
               "</secDNS:keyData></secDNS:create>")
    refused = await client.command(create_domain("signed-epp.be"), keydata)
    assert refused.code == 2102 and "key group" in refused.message, refused.xml
    ds = (f"<secDNS:create {SECDNS}><secDNS:dsData><secDNS:keyTag>12345</secDNS:keyTag><secDNS:alg>13</secDNS:alg>"
          "<secDNS:digestType>2</secDNS:digestType><secDNS:digest>49FD46E6C4B45C55D4AC</secDNS:digest>"
          "</secDNS:dsData></secDNS:create>")
    refused = await client.command(create_domain("signed-epp.be"), ds)
    assert refused.code == 2102 and "dsData" in refused.message
    malformed = await client.command(create_domain("signed-epp.be"), keydata.replace(PUBKEY, "*"))
    assert malformed.code == 2001
    assert await platform.ctx.db["domains"].count_documents({"_id": "signed-epp.be"}) == 0

    assert (await client.command(create_domain("signed-epp.be"))).code == 1000
    rem_all = await client.command(
        f"<update><domain:update {DOMAIN}><domain:name>signed-epp.be</domain:name></domain:update></update>",
        f"<secDNS:update {SECDNS}><secDNS:rem><secDNS:all>true</secDNS:all></secDNS:rem></secDNS:update>")
    assert rem_all.code == 2102
    await client.close()
