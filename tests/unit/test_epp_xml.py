"""The EPP XML layer: RFC 5730-5733/5910 examples and DNS Belgium's extension validate, hostile documents are
refused with 2001 without expansion or file access, and the responses and greeting the server builds validate."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from lxml import etree

from services.registry.epp import xml
from services.registry.epp.xml import (
    DNSBE_NS,
    EPP_NS,
    RESULT_TEXT,
    EppXmlError,
    command_of,
    greeting,
    parse_frame,
    require_implemented,
    response,
)

DOMAIN = "urn:ietf:params:xml:ns:domain-1.0"
CONTACT = "urn:ietf:params:xml:ns:contact-1.0"
HOST = "urn:ietf:params:xml:ns:host-1.0"
SECDNS = "urn:ietf:params:xml:ns:secDNS-1.1"
NS = (f'xmlns="{EPP_NS}" xmlns:domain="{DOMAIN}" xmlns:contact="{CONTACT}" xmlns:host="{HOST}" '
      f'xmlns:secDNS="{SECDNS}" xmlns:dnsbe="{DNSBE_NS}"')
HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="no"?>'


def epp(body: str) -> bytes:
    return f"{HEAD}<epp {NS}>{body}</epp>".encode()


def command(verb: str, extension: str = "", cl_trid: str = "ABC-12345") -> bytes:
    ext = f"<extension>{extension}</extension>" if extension else ""
    return epp(f"<command>{verb}{ext}<clTRID>{cl_trid}</clTRID></command>")


def refused(data: bytes) -> EppXmlError:
    with pytest.raises(EppXmlError) as caught:
        parse_frame(data)
    return caught.value


# -- requests that must validate ------------------------------------------------------------------------------------

CONTACT_CREATE = (
    "<create><contact:create><contact:id>sh8013</contact:id>"
    '<contact:postalInfo type="int"><contact:name>John Doe</contact:name><contact:org>Example Inc.</contact:org>'
    "<contact:addr><contact:street>123 Example Dr.</contact:street><contact:street>Suite 100</contact:street>"
    "<contact:city>Dulles</contact:city><contact:sp>VA</contact:sp><contact:pc>20166-6503</contact:pc>"
    "<contact:cc>US</contact:cc></contact:addr></contact:postalInfo>"
    '<contact:voice x="1234">+1.7035555555</contact:voice><contact:fax>+1.7035555556</contact:fax>'
    "<contact:email>jdoe@example.com</contact:email><contact:authInfo><contact:pw>2fooBAR</contact:pw>"
    '</contact:authInfo><contact:disclose flag="0"><contact:voice/><contact:email/></contact:disclose>'
    "</contact:create></create>")
HOST_ATTR_NS = ("<domain:ns><domain:hostAttr><domain:hostName>ns1.example.be</domain:hostName>"
                '<domain:hostAddr ip="v4">192.0.2.2</domain:hostAddr><domain:hostAddr ip="v6">2001:db8::1</domain:hostAddr>'
                "</domain:hostAttr><domain:hostAttr><domain:hostName>ns.example.net</domain:hostName></domain:hostAttr>"
                "</domain:ns>")
DOMAIN_CREATE = (
    "<create><domain:create><domain:name>example.be</domain:name>"
    f'<domain:period unit="y">1</domain:period>{HOST_ATTR_NS}<domain:registrant>jd1234</domain:registrant>'
    '<domain:contact type="billing">c20</domain:contact><domain:contact type="tech">sh8013</domain:contact>'
    '<domain:contact type="onsite">c339</domain:contact>'
    "<domain:authInfo><domain:pw>2fooBAR</domain:pw></domain:authInfo></domain:create></create>")
DS_DATA = ("<secDNS:dsData><secDNS:keyTag>12345</secDNS:keyTag><secDNS:alg>3</secDNS:alg>"
           "<secDNS:digestType>1</secDNS:digestType><secDNS:digest>49FD46E6C4B45C55D4AC</secDNS:digest>"
           "</secDNS:dsData>")
KEY_DATA = ("<secDNS:keyData><secDNS:flags>257</secDNS:flags><secDNS:protocol>3</secDNS:protocol>"
            "<secDNS:alg>13</secDNS:alg><secDNS:pubKey>AQPJ////4Q==</secDNS:pubKey></secDNS:keyData>")

VALID_REQUESTS: dict[str, bytes] = {
    "hello": epp("<hello/>"),
    "login with newPW": command(
        "<login><clID>ClientX</clID><pw>foo-BAR2</pw><newPW>bar-FOO2</newPW>"
        "<options><version>1.0</version><lang>en</lang></options>"
        f"<svcs><objURI>{DOMAIN}</objURI><objURI>{CONTACT}</objURI>"
        f"<svcExtension><extURI>{SECDNS}</extURI><extURI>{DNSBE_NS}</extURI></svcExtension></svcs></login>"),
    "logout": command("<logout/>"),
    "poll req": command('<poll op="req"/>'),
    "poll ack": command('<poll op="ack" msgID="12345"/>'),
    "domain check": command("<check><domain:check><domain:name>example.be</domain:name>"
                            "<domain:name>example.net</domain:name></domain:check></check>"),
    "domain check v2.0": command("<check><domain:check><domain:name>example.be</domain:name></domain:check></check>",
                                 '<dnsbe:ext><dnsbe:check><dnsbe:domain version="2.0"/></dnsbe:check></dnsbe:ext>'),
    "domain info": command('<info><domain:info><domain:name hosts="all">example.be</domain:name>'
                           "<domain:authInfo><domain:pw>123-456-789-012-345</domain:pw></domain:authInfo>"
                           "</domain:info></info>"),
    "domain info v2.0": command("<info><domain:info><domain:name>example.be</domain:name></domain:info></info>",
                                '<dnsbe:ext><dnsbe:info><dnsbe:domain version="2.0"/></dnsbe:info></dnsbe:ext>'),
    "domain create with hostAttr": command(DOMAIN_CREATE),
    "domain create with hostObj": command(
        "<create><domain:create><domain:name>example.com</domain:name><domain:period unit=\"y\">2</domain:period>"
        "<domain:ns><domain:hostObj>ns1.example.net</domain:hostObj><domain:hostObj>ns2.example.net</domain:hostObj>"
        "</domain:ns><domain:registrant>jd1234</domain:registrant><domain:contact type=\"admin\">sh8013</domain:contact>"
        "<domain:authInfo><domain:pw>2fooBAR</domain:pw></domain:authInfo></domain:create></create>"),
    "domain create with secDNS dsData and nsgroup": command(
        DOMAIN_CREATE,
        f"<secDNS:create><secDNS:maxSigLife>604800</secDNS:maxSigLife>{DS_DATA}</secDNS:create>"
        "<dnsbe:ext><dnsbe:create><dnsbe:domain><dnsbe:nsgroup>nsg-1</dnsbe:nsgroup>"
        "<dnsbe:keygroup>kg-1</dnsbe:keygroup></dnsbe:domain></dnsbe:create></dnsbe:ext>"),
    "domain create with secDNS keyData": command(DOMAIN_CREATE, f"<secDNS:create>{KEY_DATA}</secDNS:create>"),
    "domain update": command(
        "<update><domain:update><domain:name>example.be</domain:name>"
        f"<domain:add>{HOST_ATTR_NS}<domain:contact type=\"onsite\">c18</domain:contact>"
        '<domain:status s="clientTransferProhibited" lang="en">holder asked on 2026-11-20</domain:status></domain:add>'
        "<domain:rem><domain:ns><domain:hostAttr><domain:hostName>ns.old.be</domain:hostName></domain:hostAttr>"
        "</domain:ns></domain:rem><domain:chg><domain:authInfo><domain:null/></domain:authInfo></domain:chg>"
        "</domain:update></update>",
        f'<secDNS:update urgent="true"><secDNS:rem><secDNS:all>true</secDNS:all></secDNS:rem>'
        f"<secDNS:add>{DS_DATA}</secDNS:add></secDNS:update>"
        "<dnsbe:ext><dnsbe:update><dnsbe:domain><dnsbe:add><dnsbe:nsgroup>newnsgroup1</dnsbe:nsgroup></dnsbe:add>"
        "<dnsbe:rem><dnsbe:nsgroup>mynsgroup1</dnsbe:nsgroup></dnsbe:rem></dnsbe:domain></dnsbe:update></dnsbe:ext>"),
    "domain update, extension only": command(
        "<update><domain:update><domain:name>example.be</domain:name></domain:update></update>",
        "<dnsbe:ext><dnsbe:update><dnsbe:domain><dnsbe:add><dnsbe:keygroup>kg-2</dnsbe:keygroup></dnsbe:add>"
        "</dnsbe:domain></dnsbe:update></dnsbe:ext>"),
    "domain delete with deleteDate": command(
        "<delete><domain:delete><domain:name>example.be</domain:name></domain:delete></delete>",
        "<dnsbe:ext><dnsbe:delete><dnsbe:domain><dnsbe:deleteDate>2010-10-10T10:10:10.0Z</dnsbe:deleteDate>"
        "<dnsbe:overwriteDeleteDate>true</dnsbe:overwriteDeleteDate></dnsbe:domain></dnsbe:delete></dnsbe:ext>"),
    "domain transfer request, #AUTO#": command(
        '<transfer op="request"><domain:transfer><domain:name>example.be</domain:name>'
        '<domain:period unit="m">12</domain:period>'
        "<domain:authInfo><domain:pw>123-456-789-012-345</domain:pw></domain:authInfo></domain:transfer></transfer>",
        "<dnsbe:ext><dnsbe:transfer><dnsbe:domain><dnsbe:registrant>#AUTO#</dnsbe:registrant>"
        "</dnsbe:domain></dnsbe:transfer></dnsbe:ext>"),
    "domain transfer request with contacts and ns": command(
        '<transfer op="request"><domain:transfer><domain:name>example.be</domain:name>'
        "<domain:authInfo><domain:pw>123-456-789-012-345</domain:pw></domain:authInfo></domain:transfer></transfer>",
        "<dnsbe:ext><dnsbe:transfer><dnsbe:domain><dnsbe:registrant>c25</dnsbe:registrant>"
        "<dnsbe:billing>c20</dnsbe:billing><dnsbe:tech>c21</dnsbe:tech><dnsbe:onsite>c22</dnsbe:onsite>"
        "<dnsbe:ns><domain:hostAttr><domain:hostName>ns1.superdomain.be</domain:hostName></domain:hostAttr>"
        "</dnsbe:ns><dnsbe:nsgroup>nsg-1</dnsbe:nsgroup></dnsbe:domain></dnsbe:transfer></dnsbe:ext>"),
    "domain transfer query": command('<transfer op="query"><domain:transfer><domain:name>example.com</domain:name>'
                                     "</domain:transfer></transfer>"),
    "domain renew": command("<renew><domain:renew><domain:name>example.com</domain:name>"
                            '<domain:curExpDate>2000-04-03</domain:curExpDate><domain:period unit="y">5</domain:period>'
                            "</domain:renew></renew>"),
    "domain undelete (command form)": command(
        "<undelete><domain:undelete><domain:name>test-domain.be</domain:name></domain:undelete></undelete>"),
    "domain reactivate (command form)": command(
        "<reactivate><domain:reactivate><domain:name>greatdomain.be</domain:name></domain:reactivate></reactivate>"),
    "contact check": command("<check><contact:check><contact:id>sh8013</contact:id><contact:id>sah8013</contact:id>"
                             "</contact:check></check>"),
    "contact info v2.0": command("<info><contact:info><contact:id>sh8013</contact:id></contact:info></info>",
                                 '<dnsbe:ext><dnsbe:info><dnsbe:contact version="2.0"/></dnsbe:info></dnsbe:ext>'),
    "contact create": command(CONTACT_CREATE, "<dnsbe:ext><dnsbe:create><dnsbe:contact><dnsbe:type>licensee</dnsbe:type>"
                              "<dnsbe:vat>BE 123 4576 5645</dnsbe:vat><dnsbe:lang>nl</dnsbe:lang></dnsbe:contact>"
                              "</dnsbe:create></dnsbe:ext>"),
    "contact update": command(
        "<update><contact:update><contact:id>sh8013</contact:id>"
        '<contact:add><contact:status s="clientDeleteProhibited"/></contact:add>'
        '<contact:chg><contact:postalInfo type="int"><contact:org/><contact:addr>'
        "<contact:street>124 Example Dr.</contact:street><contact:city>Dulles</contact:city><contact:cc>US</contact:cc>"
        "</contact:addr></contact:postalInfo><contact:voice>+1.7034444444</contact:voice><contact:fax/>"
        "</contact:chg></contact:update></update>",
        "<dnsbe:ext><dnsbe:update><dnsbe:contact><dnsbe:chg><dnsbe:vat>GB12345678</dnsbe:vat><dnsbe:lang>en</dnsbe:lang>"
        "</dnsbe:chg></dnsbe:contact></dnsbe:update></dnsbe:ext>"),
    "contact delete": command("<delete><contact:delete><contact:id>sh8013</contact:id></contact:delete></delete>"),
    "contact transfer query": command('<transfer op="query"><contact:transfer><contact:id>sh8013</contact:id>'
                                      "<contact:authInfo><contact:pw>2fooBAR</contact:pw></contact:authInfo>"
                                      "</contact:transfer></transfer>"),
    "host create": command("<create><host:create><host:name>ns1.example.com</host:name>"
                           '<host:addr ip="v4">192.0.2.2</host:addr></host:create></create>'),
    "dnsbe requestAuthCode": epp(
        "<extension><dnsbe:ext><dnsbe:command><dnsbe:requestAuthCode><dnsbe:domainName>test.be</dnsbe:domainName>"
        "<dnsbe:url>http://www.agent-website.be/transfer?name=test</dnsbe:url></dnsbe:requestAuthCode>"
        "<dnsbe:clTRID>request-code-test</dnsbe:clTRID></dnsbe:command></dnsbe:ext></extension>"),
    "dnsbe undelete": epp("<extension><dnsbe:ext><dnsbe:command><dnsbe:undelete><dnsbe:domainName>a.be</dnsbe:domainName>"
                          "</dnsbe:undelete><dnsbe:clTRID>UNDEL-1</dnsbe:clTRID></dnsbe:command></dnsbe:ext></extension>"),
    "dnsbe reactivate": epp("<extension><dnsbe:ext><dnsbe:command><dnsbe:reactivate><dnsbe:domainName>a.be"
                            "</dnsbe:domainName></dnsbe:reactivate></dnsbe:command></dnsbe:ext></extension>"),
    "namespaces declared where used, xsi:schemaLocation ignored": (
        f'{HEAD}<epp xmlns="{EPP_NS}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        f'xsi:schemaLocation="{EPP_NS} http://example.invalid/epp-1.0.xsd"><command><info>'
        f'<domain:info xmlns:domain="{DOMAIN}"><domain:name>x.be</domain:name></domain:info></info>'
        "<clTRID>ABC-1</clTRID></command></epp>").encode(),
}


@pytest.mark.parametrize("name", list(VALID_REQUESTS))
def test_supported_requests_validate(name: str) -> None:
    root = parse_frame(VALID_REQUESTS[name])
    assert root.tag == f"{{{EPP_NS}}}epp"


def test_blank_text_comments_and_pis_are_dropped() -> None:
    root = parse_frame(epp("\n  <!-- client v1.2 --><?trace on?><hello/>\n"))
    assert root.text is None and len(root) == 1 and root[0].tag == f"{{{EPP_NS}}}hello" and root[0].tail is None
    cmd = command_of(parse_frame(epp("<command><!-- x --><logout/><clTRID>ABC-1</clTRID></command>")))
    assert cmd is not None and cmd.verb == "logout"


# -- what the command is, and what the server cannot serve -----------------------------------------------------------

IMPLEMENTED = {"login", "logout", "poll", "check", "info", "create", "update", "delete", "transfer",
               "requestAuthCode", "undelete", "reactivate"}


def implemented(data: bytes):
    return require_implemented(parse_frame(data), IMPLEMENTED, [DOMAIN, CONTACT], [SECDNS, DNSBE_NS])


def test_command_of_names_verb_object_extensions_and_trid() -> None:
    cmd = command_of(parse_frame(VALID_REQUESTS["domain create with secDNS dsData and nsgroup"]))
    assert cmd is not None
    assert (cmd.verb, cmd.object_ns, cmd.extensions, cmd.cl_trid, cmd.dnsbe) == (
        "create", DOMAIN, (SECDNS, DNSBE_NS), "ABC-12345", False)
    dnsbe = command_of(parse_frame(VALID_REQUESTS["dnsbe requestAuthCode"]))
    assert dnsbe is not None
    assert (dnsbe.verb, dnsbe.object_ns, dnsbe.cl_trid, dnsbe.dnsbe) == ("requestAuthCode", None, "request-code-test", True)
    assert dnsbe.element.findtext(f"{{{DNSBE_NS}}}domainName") == "test.be"
    poll = command_of(parse_frame(VALID_REQUESTS["poll ack"]))
    assert poll is not None and (poll.verb, poll.object_ns, poll.element.get("msgID")) == ("poll", None, "12345")
    assert command_of(parse_frame(VALID_REQUESTS["hello"])) is None


def test_implemented_commands_pass() -> None:
    for name in ("login with newPW", "domain create with hostAttr", "contact create", "dnsbe undelete", "poll req"):
        assert implemented(VALID_REQUESTS[name]) is not None


def test_known_but_unimplemented_command_is_2101() -> None:
    with pytest.raises(EppXmlError) as caught:
        implemented(VALID_REQUESTS["domain renew"])
    assert caught.value.code == 2101 and "renew" in caught.value.message and caught.value.cl_trid == "ABC-12345"


def test_object_service_not_offered_is_2307() -> None:
    with pytest.raises(EppXmlError) as caught:
        implemented(VALID_REQUESTS["host create"])
    assert caught.value.code == 2307 and HOST in caught.value.message


def test_unknown_object_namespace_is_2307_not_2001() -> None:
    data = command('<create><widget:create xmlns:widget="http://example.invalid/widget-1.0">'
                   "<widget:name>w-1</widget:name></widget:create></create>")
    with pytest.raises(EppXmlError) as caught:
        implemented(data)
    assert caught.value.code == 2307


def test_extension_not_offered_is_2103() -> None:
    data = command("<info><domain:info><domain:name>x.be</domain:name></domain:info></info>",
                   '<x:ext xmlns:x="urn:example:ext-1.0"><x:flag/></x:ext>')
    with pytest.raises(EppXmlError) as caught:
        implemented(data)
    assert caught.value.code == 2103 and "urn:example:ext-1.0" in caught.value.message


def test_unknown_command_element_is_2000() -> None:
    error = refused(command("<frobnicate><domain:name>x.be</domain:name></frobnicate>"))
    assert error.code == 2000 and "frobnicate" in error.message and error.cl_trid == "ABC-12345"


def test_unknown_dnsbe_command_is_2000() -> None:
    error = refused(epp("<extension><dnsbe:ext><dnsbe:command><dnsbe:explode><dnsbe:domainName>a.be</dnsbe:domainName>"
                        "</dnsbe:explode></dnsbe:command></dnsbe:ext></extension>"))
    assert error.code == 2000 and "explode" in error.message


def test_protocol_extension_that_is_not_a_dnsbe_command_is_2000() -> None:
    assert refused(epp('<extension><x:ext xmlns:x="urn:example:ext-1.0"/></extension>')).code == 2000


# -- refused with 2001 ------------------------------------------------------------------------------------------------

def test_malformed_xml_is_2001() -> None:
    error = refused(epp("<command><info><domain:info><domain:name>x.be</domain:info></info></command>"))
    assert error.code == 2001 and error.message.startswith("Command syntax error: ") and "line 1" in error.message


def test_not_xml_at_all_is_2001() -> None:
    assert refused(b"").code == 2001
    assert refused(b"hello there").code == 2001
    assert refused(b"\xff\xfe\x00garbage").code == 2001


def test_wrong_root_namespace_is_2001() -> None:
    error = refused(b'<epp xmlns="urn:ietf:params:xml:ns:epp-0.4"><hello/></epp>')
    assert error.code == 2001 and "root element" in error.message
    assert refused(f'<greeting xmlns="{EPP_NS}"/>'.encode()).code == 2001
    assert refused(b"<epp><hello/></epp>").code == 2001


def test_unknown_element_in_object_command_is_2001() -> None:
    error = refused(command("<create><domain:create><domain:name>x.be</domain:name><domain:colour>red</domain:colour>"
                            "<domain:authInfo><domain:pw>x</domain:pw></domain:authInfo></domain:create></create>"))
    assert error.code == 2001 and "domain:colour" in error.message and "line 1" in error.message
    assert error.cl_trid == "ABC-12345"  # echoed in the error response


def test_unknown_element_after_cltrid_and_in_dnsbe_ext_are_2001() -> None:
    assert refused(epp("<command><logout/><clTRID>ABC-1</clTRID><junk/></command>")).code == 2001
    assert refused(command("<info><domain:info><domain:name>x.be</domain:name></domain:info></info>",
                           "<dnsbe:ext><dnsbe:info><dnsbe:colour/></dnsbe:info></dnsbe:ext>")).code == 2001


def test_schema_facets_are_enforced() -> None:
    assert refused(command('<poll op="peek"/>')).code == 2001
    assert refused(command("<logout/>", cl_trid="AB")).code == 2001  # trIDStringType minLength 3
    assert refused(command("<create><domain:create><domain:name>x.be</domain:name>"
                           "</domain:create></create>")).code == 2001  # authInfo missing
    assert refused(command("<create><contact:create><contact:id>c1x</contact:id></contact:create></create>",
                           "")).code == 2001
    assert refused(command(CONTACT_CREATE, "<dnsbe:ext><dnsbe:create><dnsbe:contact><dnsbe:type>owner</dnsbe:type>"
                           "</dnsbe:contact></dnsbe:create></dnsbe:ext>")).code == 2001
    assert refused(command(CONTACT_CREATE, "<dnsbe:ext><dnsbe:create><dnsbe:contact><dnsbe:type>tech</dnsbe:type>"
                           "<dnsbe:lang>es</dnsbe:lang></dnsbe:contact></dnsbe:create></dnsbe:ext>")).code == 2001
    assert refused(command("<delete><domain:delete><domain:name>x.be</domain:name></domain:delete></delete>",
                           "<dnsbe:ext><dnsbe:delete><dnsbe:domain><dnsbe:deleteDate>tomorrow</dnsbe:deleteDate>"
                           "</dnsbe:domain></dnsbe:delete></dnsbe:ext>")).code == 2001
    assert refused(command(DOMAIN_CREATE, "<secDNS:create><secDNS:dsData><secDNS:keyTag>70000</secDNS:keyTag>"
                           "</secDNS:dsData></secDNS:create>")).code == 2001


def test_the_error_detail_does_not_echo_huge_input() -> None:
    error = refused(command(f"<check><domain:check><domain:name>{'a' * 50_000}.be</domain:name></domain:check></check>"))
    assert error.code == 2001 and len(error.message) < 260


BILLION_LAUGHS = ('<?xml version="1.0"?><!DOCTYPE epp [<!ENTITY lol "lol">'
                  + "".join(f'<!ENTITY lol{i} "{("&lol%s;" % (i - 1 if i > 1 else "")) * 10}">' for i in range(1, 10))
                  + f']><epp xmlns="{EPP_NS}"><command><info><domain:info xmlns:domain="{DOMAIN}">'
                  "<domain:name>&lol9;</domain:name></domain:info></info></command></epp>")


def xxe(target: str) -> str:
    return (f'<?xml version="1.0"?><!DOCTYPE epp [<!ENTITY xxe SYSTEM "{target}">]><epp xmlns="{EPP_NS}"><command>'
            f'<info><domain:info xmlns:domain="{DOMAIN}"><domain:name>&xxe;</domain:name></domain:info></info>'
            "</command></epp>")


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16"])  # utf-16 gets past the byte scan to the parser check
def test_billion_laughs_is_refused_without_expansion(encoding: str) -> None:
    data = BILLION_LAUGHS.replace('encoding="UTF-8"', "").encode(encoding)
    started = time.perf_counter()
    error = refused(data)
    assert time.perf_counter() - started < 0.5
    assert error.code == 2001 and "lol" not in error.message.replace("lol9", "")


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16"])
def test_external_entity_is_refused_without_reading_the_file(encoding: str, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-MARKER")
    attempts = xml._Refuse.attempts
    for target in ("file:///etc/passwd", secret.as_uri()):
        error = refused(xxe(target).encode(encoding))
        assert error.code == 2001 and "DOCTYPE" in error.message
        assert "root:" not in error.message and "TOP-SECRET" not in error.message
    assert xml._Refuse.attempts == attempts  # libxml2 never asked to load anything


def test_external_dtd_is_refused() -> None:
    data = f'<!DOCTYPE epp SYSTEM "file:///etc/passwd"><epp xmlns="{EPP_NS}"><hello/></epp>'.encode("utf-16")
    assert refused(data).code == 2001


def test_the_parser_itself_never_expands_entities() -> None:
    """Even if the DOCTYPE checks were removed, the parser options keep entities unexpanded and files unread."""
    root = etree.fromstring(xxe("file:///etc/passwd").encode(), xml._PARSER)
    assert "root:" not in etree.tostring(root).decode()
    laughs = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    with pytest.raises(etree.XMLSyntaxError):
        etree.fromstring(BILLION_LAUGHS.encode(), laughs)  # libxml2's amplification limit


def test_oversize_document_is_refused_fast() -> None:
    data = command(f"<check><domain:check>{'<domain:name>x.be</domain:name>' * 40_000}</domain:check></check>")
    assert len(data) > xml.MAX_DOCUMENT_BYTES
    started = time.perf_counter()
    error = refused(data)
    assert error.code == 2001 and "exceeds" in error.message
    assert time.perf_counter() - started < 0.05
    assert parse_frame(VALID_REQUESTS["hello"], max_bytes=400) is not None
    with pytest.raises(EppXmlError):
        parse_frame(VALID_REQUESTS["domain create with hostAttr"], max_bytes=400)


def test_deeply_nested_document_is_refused_fast() -> None:
    depth = 5_000  # libxml2 stops at 256 levels without huge_tree
    opening = '<x:a xmlns:x="urn:x">'
    data = epp(f"<command><create>{opening * depth}{'</x:a>' * depth}</create></command>")
    started = time.perf_counter()
    error = refused(data)
    assert time.perf_counter() - started < 0.5
    assert error.code == 2001 and "depth" in error.message.lower()


# -- documents the server sends -----------------------------------------------------------------------------------------

def valid(document: bytes) -> etree._Element:
    root = etree.fromstring(document)
    assert xml.SCHEMA.validate(root), xml.SCHEMA.error_log
    return root


def test_greeting_validates() -> None:
    doc = greeting("EPP server of the registry platform", datetime(2026, 11, 23, 10, 0, 0, 123456, tzinfo=UTC),
                   [DOMAIN, CONTACT], [SECDNS, DNSBE_NS])
    root = valid(doc)
    assert doc.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    ns = {"e": EPP_NS}
    assert root.xpath("string(e:greeting/e:svDate)", namespaces=ns) == "2026-11-23T10:00:00.123Z"
    assert root.xpath("e:greeting/e:svcMenu/e:objURI/text()", namespaces=ns) == [DOMAIN, CONTACT]
    assert root.xpath("e:greeting/e:svcMenu/e:svcExtension/e:extURI/text()", namespaces=ns) == [SECDNS, DNSBE_NS]
    assert parse_frame(doc) is not None
    valid(greeting("srv", datetime(2026, 1, 1), [DOMAIN], [], langs=("en", "nl", "fr")))


@pytest.mark.parametrize("code", sorted(RESULT_TEXT))
def test_every_result_code_makes_a_valid_response(code: int) -> None:
    root = valid(response(code, None, "ABC-12345", "54322-XYZ"))
    assert root.findtext(f"{{{EPP_NS}}}response/{{{EPP_NS}}}result/{{{EPP_NS}}}msg") == RESULT_TEXT[code]


def test_response_without_cltrid_and_with_language() -> None:
    root = valid(response(2001, "Erreur de syntaxe", None, "SV-1", lang="fr"))
    assert root.find(f".//{{{EPP_NS}}}clTRID") is None
    assert root.find(f".//{{{EPP_NS}}}msg").get("lang") == "fr"


def test_response_with_res_data_and_extension_validates() -> None:
    data = etree.Element(f"{{{DOMAIN}}}infData", nsmap={"domain": DOMAIN})
    for tag, text in (("name", "example.be"), ("roid", "6208625-DNSBE")):
        etree.SubElement(data, f"{{{DOMAIN}}}{tag}").text = text
    etree.SubElement(data, f"{{{DOMAIN}}}status", s="ok")
    etree.SubElement(data, f"{{{DOMAIN}}}clID").text = "a000001"
    ext = etree.Element(f"{{{DNSBE_NS}}}ext", nsmap={"dnsbe": DNSBE_NS})
    d = etree.SubElement(etree.SubElement(ext, f"{{{DNSBE_NS}}}infData"), f"{{{DNSBE_NS}}}domain")
    etree.SubElement(d, f"{{{DNSBE_NS}}}onhold").text = "false"
    etree.SubElement(d, f"{{{DNSBE_NS}}}quarantined").text = "false"
    etree.SubElement(d, f"{{{DNSBE_NS}}}nameserversOverridden", reason="Registrant verification").text = "true"
    root = valid(response(1000, None, "ABC-1", "SV-1", res_data=data, extension=ext))
    assert root.find(f".//{{{DOMAIN}}}infData/{{{DOMAIN}}}name").text == "example.be"


def test_poll_responses_validate() -> None:
    body = etree.Element(f"{{{DNSBE_NS}}}pollRes", nsmap={"dnsbe": DNSBE_NS})
    for tag, text in (("type", "DOMAIN"), ("action", "VERIFICATION REQUIRED"), ("domain", "example.be"),
                      ("date", "2026-11-23T10:00:00.000Z"), ("returncode", "1505")):
        etree.SubElement(body, f"{{{DNSBE_NS}}}{tag}").text = text
    root = valid(response(1301, None, "ABC-1", "SV-1", res_data=body, msgq=(5, "12345"),
                          poll_message=(datetime(2026, 11, 23, 10, tzinfo=UTC), "Verification required for domain",
                                        "en")))
    queue = root.find(f".//{{{EPP_NS}}}msgQ")
    assert (queue.get("count"), queue.get("id"), queue.findtext(f"{{{EPP_NS}}}qDate")) == (
        "5", "12345", "2026-11-23T10:00:00.000Z")
    assert queue.find(f"{{{EPP_NS}}}msg").get("lang") is None  # en is the default: left out
    dutch = valid(response(1301, None, "ABC-1", "SV-1", res_data=body, msgq=(5, "12345"),
                           poll_message=("2026-11-23T10:00:00.000Z", "Verificatie vereist voor domeinnaam", "nl")))
    assert dutch.find(f".//{{{EPP_NS}}}msgQ/{{{EPP_NS}}}msg").get("lang") == "nl"
    valid(response(1000, None, "ABC-2", "SV-2", msgq=(4, "12345")))  # the ack
    valid(response(1300, None, "ABC-3", "SV-3"))  # nothing queued


def test_wrapped_res_data_is_accepted() -> None:
    wrapper = etree.Element(f"{{{EPP_NS}}}resData")
    cd = etree.SubElement(etree.SubElement(wrapper, f"{{{CONTACT}}}chkData"), f"{{{CONTACT}}}cd")
    etree.SubElement(cd, f"{{{CONTACT}}}id", avail="1").text = "sh8013"
    valid(response(1000, None, "ABC-1", "SV-1", res_data=wrapper))


# DNS Belgium's own replies (seed 002, digest 1.2 / 7.2): the schema set must accept what the registry sends.
SEED_INFO_CONTACT = f"""<?xml version="1.0" encoding="UTF-8"?>
<epp xmlns="{EPP_NS}" xmlns:contact="{CONTACT}" xmlns:dnsbe="{DNSBE_NS}">
<response><result code="1000"><msg>Command completed successfully</msg></result>
<resData><contact:infData><contact:id>c23145796</contact:id><contact:roid>23145796-DNSBE</contact:roid>
<contact:status s="ok"/><contact:postalInfo type="loc"><contact:name>anonymous</contact:name>
<contact:org>anonymous</contact:org><contact:addr><contact:street>anonymous</contact:street>
<contact:city>Leuven</contact:city><contact:pc>3000</contact:pc><contact:cc>BE</contact:cc></contact:addr>
</contact:postalInfo><contact:voice>+32.1111222233</contact:voice><contact:email>veerle@test.be</contact:email>
<contact:clID>a003774</contact:clID><contact:crID>a003774</contact:crID>
<contact:crDate>2020-08-03T07:23:17.000Z</contact:crDate><contact:upDate>2020-08-26T07:59:09.000Z</contact:upDate>
</contact:infData></resData>
<extension><dnsbe:ext><dnsbe:infData><dnsbe:contact><dnsbe:type>licensee</dnsbe:type><dnsbe:lang>nl</dnsbe:lang>
<dnsbe:onhold>false</dnsbe:onhold><dnsbe:verification>pending</dnsbe:verification>
<dnsbe:verificationurl>https://www.dnsbelgium.be/en/verification#token=e23e9e28-c404-483a-9a38-f43bf6a5b399</dnsbe:verificationurl>
<dnsbe:verificationtype>AUTO</dnsbe:verificationtype></dnsbe:contact></dnsbe:infData></dnsbe:ext></extension>
<trID><clTRID>info-contact-00</clTRID><svTRID>dnsbe-0</svTRID></trID></response></epp>"""

SEED_INFO_DOMAIN = f"""<?xml version="1.0" encoding="UTF-8"?>
<epp xmlns="{EPP_NS}" xmlns:domain="{DOMAIN}" xmlns:dnsbe="{DNSBE_NS}">
<response><result code="1000"><msg>Command completed successfully</msg></result>
<resData><domain:infData><domain:name>testdomain.be</domain:name><domain:roid>6208625-DNSBE</domain:roid>
<domain:status s="ok"/><domain:registrant>c7780601</domain:registrant>
<domain:contact type="billing">c7780583</domain:contact><domain:contact type="tech">c7780581</domain:contact>
<domain:clID>a000001</domain:clID><domain:crID>a000001</domain:crID><domain:crDate>2010-06-22T13:06:41.000Z</domain:crDate>
<domain:upID>a000001</domain:upID><domain:upDate>2010-06-24T12:09:24.000Z</domain:upDate>
<domain:exDate>2011-06-24T12:09:24.000Z</domain:exDate><domain:trDate>2010-06-24T12:09:24.000Z</domain:trDate>
</domain:infData></resData>
<extension><dnsbe:ext><dnsbe:infData><dnsbe:domain><dnsbe:onhold>false</dnsbe:onhold>
<dnsbe:quarantined>false</dnsbe:quarantined>
<dnsbe:nameserversOverridden reason="Breach of consumer protection legislation">true</dnsbe:nameserversOverridden>
</dnsbe:domain></dnsbe:infData></dnsbe:ext></extension>
<trID><svTRID>dnsbe-0</svTRID></trID></response></epp>"""

DIGEST_REPLIES = {
    "info-domain v2.0 with nsgroup and deletionDate": (
        f'<epp xmlns="{EPP_NS}"><response><result code="1000"><msg>Command completed successfully</msg></result>'
        f'<resData><domain:infData xmlns:domain="{DOMAIN}"><domain:name>dom-0.be</domain:name>'
        '<domain:roid>390-DNSBE</domain:roid><domain:status s="ok"/><domain:registrant>c340</domain:registrant>'
        '<domain:contact type="onsite">c339</domain:contact><domain:clID>a100000</domain:clID></domain:infData>'
        f'</resData><extension><dnsbe:ext xmlns:dnsbe="{DNSBE_NS}"><dnsbe:infData><dnsbe:domain>'
        "<dnsbe:nsgroup>nsg-1182527394333</dnsbe:nsgroup><dnsbe:onhold>false</dnsbe:onhold>"
        "<dnsbe:quarantined>false</dnsbe:quarantined><dnsbe:deletionDate>2007-06-22T21:00:00.000Z</dnsbe:deletionDate>"
        "</dnsbe:domain></dnsbe:infData></dnsbe:ext></extension>"
        "<trID><clTRID>ABC-12345</clTRID><svTRID>dnsbe-24</svTRID></trID></response></epp>"),
    "check-domain v2.0": (
        f'<epp xmlns="{EPP_NS}"><response><result code="1000"><msg>Command completed successfully</msg></result>'
        f'<resData><domain:chkData xmlns:domain="{DOMAIN}"><domain:cd><domain:name avail="true">semaphore.be'
        '</domain:name></domain:cd><domain:cd><domain:name avail="false">greatdomain.be</domain:name>'
        '<domain:reason lang="en">in use</domain:reason></domain:cd></domain:chkData></resData>'
        f'<extension><dnsbe:ext xmlns:dnsbe="{DNSBE_NS}"><dnsbe:chkData><dnsbe:domain><dnsbe:cd>'
        "<dnsbe:name>greatdomain.be</dnsbe:name><dnsbe:availableDate>2010-04-12T16:00:00.000Z</dnsbe:availableDate>"
        '</dnsbe:cd><dnsbe:cd><dnsbe:name>dns-domain-22.be</dnsbe:name><dnsbe:status s="clientTransferProhibited"/>'
        '<dnsbe:status s="serverTransferProhibited"/></dnsbe:cd></dnsbe:domain></dnsbe:chkData></dnsbe:ext>'
        "</extension><trID><svTRID>dnsbe-0</svTRID></trID></response></epp>"),
    "result detail on an error": (
        f'<epp xmlns="{EPP_NS}"><response><result code="2305"><msg>Object association prohibits operation</msg>'
        f'<value><contact:id xmlns:contact="{CONTACT}">c16</contact:id></value></result>'
        f'<extension><dnsbe:ext xmlns:dnsbe="{DNSBE_NS}"><dnsbe:result><dnsbe:msg>Contact [c16] still linked to '
        "1 domain(s)</dnsbe:msg></dnsbe:result></dnsbe:ext></extension>"
        "<trID><svTRID>dnsbe-1541</svTRID></trID></response></epp>"),
    "poll: transfer code e-mail bounced (alphabetical order)": (
        f'<epp xmlns="{EPP_NS}"><response><result code="1301"><msg>Command completed successfully; ack to dequeue'
        '</msg></result><msgQ count="3" id="6830"><qDate>2008-09-18T21:29:28.179+02:00</qDate>'
        f'<msg>Transfer code e-mail bounced</msg></msgQ><resData><dnsbe:pollRes xmlns:dnsbe="{DNSBE_NS}">'
        "<dnsbe:action>BOUNCED</dnsbe:action><dnsbe:domainname>test.be</dnsbe:domainname>"
        "<dnsbe:email>john@test.be</dnsbe:email><dnsbe:returncode>1159</dnsbe:returncode>"
        "<dnsbe:type>TRANSFER</dnsbe:type></dnsbe:pollRes></resData>"
        "<trID><clTRID>ABC-12345</clTRID><svTRID>dnsbe-0</svTRID></trID></response></epp>"),
    "poll: e-mail bounced (type first)": (
        f'<epp xmlns="{EPP_NS}"><response><result code="1301"><msg>Command completed successfully; ack to dequeue'
        '</msg></result><msgQ count="3" id="441"><qDate>2018-06-12T10:00:00.000Z</qDate><msg>E-mail bounced</msg>'
        f'</msgQ><resData><dnsbe:pollRes xmlns:dnsbe="{DNSBE_NS}"><dnsbe:type>EMAIL</dnsbe:type>'
        "<dnsbe:action>BOUNCED</dnsbe:action><dnsbe:email>jdoe@example.com</dnsbe:email>"
        "<dnsbe:returncode>2000</dnsbe:returncode><dnsbe:detailedcode>5.1.1</dnsbe:detailedcode>"
        "<dnsbe:date>2018-06-12T09:00:00.000Z</dnsbe:date></dnsbe:pollRes></resData>"
        "<trID><svTRID>dnsbe-0</svTRID></trID></response></epp>"),
    "poll: watermark reached": (
        f'<epp xmlns="{EPP_NS}"><response><result code="1301"><msg>Command completed successfully; ack to dequeue'
        '</msg></result><msgQ count="1" id="4682495"><qDate>2011-10-31T23:25:17.071Z</qDate><msg>Watermark Reached'
        f'</msg></msgQ><resData><dnsbe:pollRes xmlns:dnsbe="{DNSBE_NS}"><dnsbe:action>REACHED</dnsbe:action>'
        "<dnsbe:level>1000.00</dnsbe:level><dnsbe:returncode>1000</dnsbe:returncode><dnsbe:type>WATERMARK</dnsbe:type>"
        "</dnsbe:pollRes></resData><trID><svTRID>dnsbe-0</svTRID></trID></response></epp>"),
    "poll: monitored contact update approved": (
        f'<epp xmlns="{EPP_NS}"><response><result code="1301"><msg>Command completed successfully; ack to dequeue'
        '</msg></result><msgQ count="3" id="6830"><qDate>2012-10-10T10:11:12.000Z</qDate>'
        f'<msg>Monitored contact update approved</msg></msgQ><resData><dnsbe:pollRes xmlns:dnsbe="{DNSBE_NS}">'
        "<dnsbe:action>APPROVED</dnsbe:action><dnsbe:contact>c54321</dnsbe:contact>"
        "<dnsbe:date>2012-10-10T10:11:12.000Z</dnsbe:date><dnsbe:returncode>1502</dnsbe:returncode>"
        "<dnsbe:type>MONITORED_UPD_CONTACT</dnsbe:type></dnsbe:pollRes></resData>"
        "<trID><svTRID>dnsbe-0</svTRID></trID></response></epp>"),
}


@pytest.mark.parametrize("name", ["contact", "domain"])
def test_seed_info_replies_validate(name: str) -> None:
    valid((SEED_INFO_CONTACT if name == "contact" else SEED_INFO_DOMAIN).encode())


@pytest.mark.parametrize("name", list(DIGEST_REPLIES))
def test_digest_replies_validate(name: str) -> None:
    valid(DIGEST_REPLIES[name].encode())


def test_invalid_dnsbe_reply_is_caught() -> None:
    """The schema is strict enough to catch a handler bug, e.g. quarantined missing or a bad pollRes date."""
    bad = SEED_INFO_DOMAIN.replace("<dnsbe:quarantined>false</dnsbe:quarantined>", "")
    assert not xml.SCHEMA.validate(etree.fromstring(bad.encode()))
    bad_date = DIGEST_REPLIES["poll: e-mail bounced (type first)"].replace(
        "2018-06-12T09:00:00.000Z", "2018-06-12 09:00:00+00:00")
    assert not xml.SCHEMA.validate(etree.fromstring(bad_date.encode()))


def test_schema_loading_stays_local() -> None:
    """Every import of the set resolves to a file in the schemas folder; anything else is refused."""
    parser = etree.XMLParser(no_network=True)
    parser.resolvers.add(xml._LocalSchemas())
    outside = (b'<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"><xs:import namespace="urn:x" '
               b'schemaLocation="http://example.invalid/x.xsd"/></xs:schema>')
    doc = etree.fromstring(outside, parser, base_url=str(xml.SCHEMA_DIR / "_set.xsd"))
    with pytest.raises(etree.XMLSchemaParseError):
        etree.XMLSchema(doc)
    assert set(xml.SCHEMA_FILES.values()) <= {p.name for p in xml.SCHEMA_DIR.glob("*.xsd")}


# -- DNS Belgium's nsgroup-1.0 and keygroup-1.0 objects, secDNS-1.1 on domains ---------------------------------------

NSGROUP = "http://www.dns.be/xml/epp/nsgroup-1.0"
KEYGROUP = "http://www.dns.be/xml/epp/keygroup-1.0"
PUBKEY = "mdsswUyr3DPW132mOi8V9xESWE8jTo0dxCjjnopKl+GqJxpVXckHAeF+KkxLbxILfDLUT0rAK9iUzy1L53eKGQ=="
KEY = ("<keygroup:key><keygroup:flags>257</keygroup:flags><keygroup:protocol>3</keygroup:protocol>"
       f"<keygroup:alg>13</keygroup:alg><keygroup:pubKey>{PUBKEY}</keygroup:pubKey></keygroup:key>")


def ns_cmd(verb: str, inner: str) -> bytes:
    return command(f'<{verb}><nsgroup:{verb} xmlns:nsgroup="{NSGROUP}">{inner}</nsgroup:{verb}></{verb}>')


def key_cmd(verb: str, inner: str) -> bytes:
    return command(f'<{verb}><keygroup:{verb} xmlns:keygroup="{KEYGROUP}">{inner}</keygroup:{verb}></{verb}>')


GROUP_REQUESTS = {
    "nsgroup create": ns_cmd("create", "<nsgroup:name>nsg-1.a</nsgroup:name><nsgroup:ns>ns1.example.net</nsgroup:ns>"
                                       "<nsgroup:ns>ns2.example.net</nsgroup:ns>"),
    "nsgroup update": ns_cmd("update", "<nsgroup:name>nsg-1</nsgroup:name><nsgroup:ns>ns1.example.net</nsgroup:ns>"),
    "nsgroup check": ns_cmd("check", "<nsgroup:name>a</nsgroup:name><nsgroup:name>b</nsgroup:name>"),
    "nsgroup info": ns_cmd("info", "<nsgroup:name>nsg-1</nsgroup:name>"),
    "nsgroup delete": ns_cmd("delete", "<nsgroup:name>nsg-1</nsgroup:name>"),
    "keygroup create": key_cmd("create", f"<keygroup:name>kg-1</keygroup:name>{KEY}{KEY}"),
    "keygroup update": key_cmd("update", f"<keygroup:name>kg-1</keygroup:name>{KEY}"),
    "keygroup check": key_cmd("check", "<keygroup:name>kg-1</keygroup:name>"),
    "keygroup info": key_cmd("info", "<keygroup:name>kg-1</keygroup:name>"),
    "keygroup delete": key_cmd("delete", "<keygroup:name>kg-1</keygroup:name>"),
    "secDNS keyData on domain create (RFC 5910 5.2)": command(
        "<create><domain:create><domain:name>example.be</domain:name><domain:registrant>jd1234</domain:registrant>"
        "<domain:authInfo><domain:pw>x</domain:pw></domain:authInfo></domain:create></create>",
        f"<secDNS:create><secDNS:keyData><secDNS:flags>257</secDNS:flags><secDNS:protocol>3</secDNS:protocol>"
        f"<secDNS:alg>13</secDNS:alg><secDNS:pubKey>{PUBKEY}</secDNS:pubKey></secDNS:keyData></secDNS:create>"),
    "secDNS rem all on domain update": command(
        "<update><domain:update><domain:name>example.be</domain:name></domain:update></update>",
        "<secDNS:update><secDNS:rem><secDNS:all>true</secDNS:all></secDNS:rem></secDNS:update>"),
}


@pytest.mark.parametrize("name", list(GROUP_REQUESTS))
def test_group_and_secdns_requests_validate(name: str) -> None:
    root = parse_frame(GROUP_REQUESTS[name])
    require_implemented(root, IMPLEMENTED, [DOMAIN, CONTACT, NSGROUP, KEYGROUP], [SECDNS, DNSBE_NS])
    cmd = command_of(root)
    assert cmd is not None and cmd.verb in name


GROUP_REFUSED = {
    "nsgroup without name server": ns_cmd("create", "<nsgroup:name>nsg-1</nsgroup:name>"),
    "nsgroup with ten name servers": ns_cmd("create", "<nsgroup:name>nsg-1</nsgroup:name>"
                                            + "<nsgroup:ns>ns.example.net</nsgroup:ns>" * 10),
    "nsgroup name with a space": ns_cmd("info", "<nsgroup:name>nsg 1</nsgroup:name>"),
    "nsgroup name starting with a hyphen": ns_cmd("info", "<nsgroup:name>-nsg</nsgroup:name>"),
    "nsgroup address (no glue in groups)": ns_cmd("create", "<nsgroup:name>n</nsgroup:name><nsgroup:ns>ns.x.be"
                                                  "</nsgroup:ns><nsgroup:addr>192.0.2.1</nsgroup:addr>"),
    "keygroup with five keys": key_cmd("create", "<keygroup:name>kg-1</keygroup:name>" + KEY * 5),
    "keygroup without key": key_cmd("create", "<keygroup:name>kg-1</keygroup:name>"),
    "keygroup key not base64": key_cmd("create", "<keygroup:name>kg-1</keygroup:name>" + KEY.replace(PUBKEY, "*!")),
    "keygroup flags out of range": key_cmd("create", "<keygroup:name>kg</keygroup:name>"
                                           + KEY.replace(">257<", ">70000<")),
    "keygroup key missing alg": key_cmd("create", "<keygroup:name>kg</keygroup:name>"
                                        + KEY.replace("<keygroup:alg>13</keygroup:alg>", "")),
    "secDNS pubKey not base64": command(
        "<create><domain:create><domain:name>example.be</domain:name><domain:registrant>jd1234</domain:registrant>"
        "<domain:authInfo><domain:pw>x</domain:pw></domain:authInfo></domain:create></create>",
        "<secDNS:create><secDNS:keyData><secDNS:flags>257</secDNS:flags><secDNS:protocol>3</secDNS:protocol>"
        "<secDNS:alg>13</secDNS:alg><secDNS:pubKey>*</secDNS:pubKey></secDNS:keyData></secDNS:create>"),
}


@pytest.mark.parametrize("name", list(GROUP_REFUSED))
def test_malformed_group_and_secdns_requests_are_2001(name: str) -> None:
    assert refused(GROUP_REFUSED[name]).code == 2001


def test_group_replies_and_greeting_validate() -> None:
    chk = etree.Element(f"{{{NSGROUP}}}chkData", nsmap={"nsgroup": NSGROUP})
    cd = etree.SubElement(chk, f"{{{NSGROUP}}}cd")
    etree.SubElement(cd, f"{{{NSGROUP}}}name", avail="0").text = "nsg-1"
    etree.SubElement(cd, f"{{{NSGROUP}}}reason").text = "in use"
    valid(response(1000, None, "ABC-1", "SV-1", res_data=chk))
    inf = etree.fromstring(f'<keygroup:infData xmlns:keygroup="{KEYGROUP}"><keygroup:name>kg-1</keygroup:name>{KEY}'
                           "</keygroup:infData>")
    sec = etree.fromstring(f'<secDNS:infData xmlns:secDNS="{SECDNS}"><secDNS:keyData><secDNS:flags>257</secDNS:flags>'
                           "<secDNS:protocol>3</secDNS:protocol><secDNS:alg>13</secDNS:alg>"
                           f"<secDNS:pubKey>{PUBKEY}</secDNS:pubKey></secDNS:keyData></secDNS:infData>")
    holder = etree.Element(f"{{{EPP_NS}}}extension")
    holder.append(sec)
    valid(response(1000, None, "ABC-1", "SV-1", res_data=inf, extension=holder))
    bad = etree.fromstring(f'<keygroup:infData xmlns:keygroup="{KEYGROUP}"><keygroup:name>kg-1</keygroup:name>'
                           "</keygroup:infData>")
    assert not xml.SCHEMA.validate(etree.fromstring(response(1000, None, "A", "S", res_data=bad)))
    root = valid(greeting("srv", datetime(2026, 1, 1), [DOMAIN, CONTACT, NSGROUP, KEYGROUP], [SECDNS, DNSBE_NS]))
    assert root.xpath("e:greeting/e:svcMenu/e:objURI/text()", namespaces={"e": EPP_NS})[2:] == [NSGROUP, KEYGROUP]
