"""The EPP XML layer (RFC 5730-5734, RFC 5910, DNS Belgium's dnsbe-1.0): parse a frame safely, validate it
against the schema set in ./schemas, and build responses and the greeting.

Untrusted input never reaches a DTD: a DOCTYPE is refused outright (EPP never needs one), so there is no
entity expansion and no external entity. Schemas load from local files only, once, at import."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from threading import Lock

from lxml import etree

EPP_NS = "urn:ietf:params:xml:ns:epp-1.0"
DNSBE_NS = "http://www.dns.be/xml/epp/dnsbe-1.0"
SCHEMA_DIR = Path(__file__).parent / "schemas"
# Imported in dependency order; each file also imports what it uses by a relative schemaLocation.
SCHEMA_FILES = {
    "urn:ietf:params:xml:ns:eppcom-1.0": "eppcom-1.0.xsd",
    EPP_NS: "epp-1.0.xsd",
    "urn:ietf:params:xml:ns:host-1.0": "host-1.0.xsd",
    "urn:ietf:params:xml:ns:domain-1.0": "domain-1.0.xsd",
    "urn:ietf:params:xml:ns:contact-1.0": "contact-1.0.xsd",
    "urn:ietf:params:xml:ns:secDNS-1.1": "secDNS-1.1.xsd",
    DNSBE_NS: "dnsbe-1.0.xsd",
    "http://www.dns.be/xml/epp/nsgroup-1.0": "nsgroup-1.0.xsd",
    "http://www.dns.be/xml/epp/keygroup-1.0": "keygroup-1.0.xsd",
}
# Backstop only: the framing layer (epp_max_frame_bytes) refuses big frames before they get here.
MAX_DOCUMENT_BYTES = 1 << 20

# The verbs epp-1.0.xsd knows inside <command> (RFC 5730 + DNS Belgium's undelete/reactivate), and the
# DNS Belgium commands sent as <epp><extension><dnsbe:ext><dnsbe:command>.
COMMAND_VERBS = frozenset({"check", "create", "delete", "info", "login", "logout", "poll", "renew",
                           "transfer", "update", "undelete", "reactivate"})
DNSBE_VERBS = frozenset({"requestAuthCode", "undelete", "reactivate"})
SESSION_VERBS = frozenset({"login", "logout", "poll"})  # commands without an object element

# RFC 5730 section 3.
RESULT_TEXT: dict[int, str] = {
    1000: "Command completed successfully",
    1001: "Command completed successfully; action pending",
    1300: "Command completed successfully; no messages",
    1301: "Command completed successfully; ack to dequeue",
    1500: "Command completed successfully; ending session",
    2000: "Unknown command",
    2001: "Command syntax error",
    2002: "Command use error",
    2003: "Required parameter missing",
    2004: "Parameter value range error",
    2005: "Parameter value syntax error",
    2100: "Unimplemented protocol version",
    2101: "Unimplemented command",
    2102: "Unimplemented option",
    2103: "Unimplemented extension",
    2104: "Billing failure",
    2105: "Object is not eligible for renewal",
    2106: "Object is not eligible for transfer",
    2200: "Authentication error",
    2201: "Authorization error",
    2202: "Invalid authorization information",
    2300: "Object pending transfer",
    2301: "Object not pending transfer",
    2302: "Object exists",
    2303: "Object does not exist",
    2304: "Object status prohibits operation",
    2305: "Object association prohibits operation",
    2306: "Parameter value policy error",
    2307: "Unimplemented object service",
    2308: "Data management policy violation",
    2400: "Command failed",
    2500: "Command failed; server closing connection",
    2501: "Authentication error; server closing connection",
    2502: "Session limit exceeded; server closing connection",
}

_DETAIL_CHARS = 200  # error details quote client input: keep them short


class EppXmlError(Exception):
    """A frame the server refuses before running it; code is the EPP result code to answer with."""

    def __init__(self, code: int, message: str, cl_trid: str | None = None) -> None:
        super().__init__(message)
        self.code, self.message, self.cl_trid = code, message, cl_trid
        # the parsed document when it was well-formed but invalid, so the refusal can name its command
        self.root: etree._Element | None = None


@dataclass(frozen=True)
class Command:
    """What a frame asks for, read once from the parsed document. object_ns is the namespace of the object
    element (domain:create -> domain-1.0) or None for login/logout/poll and the dnsbe commands; extensions are
    the namespaces used in the command's <extension>. For a frame the schema refused it is read as far as it
    goes (so that its refusal can still name the command)."""

    verb: str
    element: etree._Element  # <create>, <poll>, ... or <dnsbe:requestAuthCode>
    object_ns: str | None
    extensions: tuple[str, ...]
    cl_trid: str | None
    dnsbe: bool  # came as <epp><extension><dnsbe:ext><dnsbe:command>
    object: etree._Element | None = None  # <domain:create> inside <create>; None for the others
    extension: etree._Element | None = None  # the <extension> of a <command>

    @property
    def object_name(self) -> str:
        """The name or id the command is about ("" if none): what a refusal is reported against."""
        holder = self.object if self.object is not None else self.element
        return next(((e.text or "").strip() for e in holder.iter()
                     if isinstance(e.tag, str) and etree.QName(e).localname in _OBJECT_KEYS), "")


_OBJECT_KEYS = {"name", "id", "domainName"}


# -- parsing ---------------------------------------------------------------------------------------------

class _LocalSchemas(etree.Resolver):
    """Schema imports resolve to files in SCHEMA_DIR and nowhere else (no network, no other file)."""

    def resolve(self, system_url: str, public_id: str, context: object) -> object:
        name = Path(system_url.removeprefix("file://")).name
        if name in SCHEMA_FILES.values():
            return self.resolve_filename(str(SCHEMA_DIR / name), context)
        raise OSError(f"schema import outside {SCHEMA_DIR}: {system_url}")


class _Refuse(etree.Resolver):
    """Frames never load anything; this stays unused unless a parser option regresses, and then refuses.
    attempts lets the tests prove that nothing was asked for."""

    attempts = 0

    def resolve(self, system_url: str, public_id: str, context: object) -> object:
        _Refuse.attempts += 1
        return self.resolve_string("", context)


def _build_schema() -> etree.XMLSchema:
    parser = etree.XMLParser(no_network=True, resolve_entities=False, load_dtd=False)
    parser.resolvers.add(_LocalSchemas())
    imports = "".join(f'<xs:import namespace="{ns}" schemaLocation="{f}"/>' for ns, f in SCHEMA_FILES.items())
    wrapper = f'<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">{imports}</xs:schema>'
    doc = etree.fromstring(wrapper.encode(), parser, base_url=str(SCHEMA_DIR / "_set.xsd"))
    return etree.XMLSchema(doc)


SCHEMA = _build_schema()
_SCHEMA_LOCK = Lock()  # SCHEMA.error_log belongs to the last validation: keep validate + read together
# Comments and processing instructions go too, so that root[0] is always the element a handler looks for.
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False,
                          remove_blank_text=True, remove_comments=True, remove_pis=True)
_PARSER.resolvers.add(_Refuse())
_PREFIXES = {ns: Path(f).stem.removesuffix("-1.0").removesuffix("-1.1") for ns, f in SCHEMA_FILES.items()}


def _short(text: str) -> str:
    """Namespace URIs as prefixes, and cut: the detail goes back to the client in <msg>."""
    for ns, prefix in _PREFIXES.items():
        text = text.replace("{" + ns + "}", prefix + ":")
    text = " ".join(text.split())
    return text if len(text) <= _DETAIL_CHARS else text[: _DETAIL_CHARS - 3] + "..."


def _syntax(detail: str, cl_trid: str | None = None) -> EppXmlError:
    return EppXmlError(2001, f"{RESULT_TEXT[2001]}: {_short(detail)}", cl_trid)


def _cl_trid(root: etree._Element) -> str | None:
    """The client's transaction id, to echo even when the frame is refused (if it is a plausible one)."""
    found = root.findtext(f"{{{EPP_NS}}}command/{{{EPP_NS}}}clTRID") or root.findtext(
        f"{{{EPP_NS}}}extension/{{{DNSBE_NS}}}ext/{{{DNSBE_NS}}}command/{{{DNSBE_NS}}}clTRID")
    found = (found or "").strip()
    return found if 3 <= len(found) <= 64 else None


def parse_frame(data: bytes, max_bytes: int = MAX_DOCUMENT_BYTES) -> etree._Element:
    """The validated <epp> element of one frame; raises EppXmlError (2001 syntax, 2000 unknown command)."""
    if len(data) > max_bytes:
        raise _syntax(f"document of {len(data)} bytes exceeds {max_bytes}")
    if b"<!DOCTYPE" in data:  # cheap early refusal; the docinfo check below is the authoritative one
        raise _syntax("DOCTYPE is not allowed")
    try:
        root = etree.fromstring(data, _PARSER)
    except etree.XMLSyntaxError as exc:  # also the depth and entity-amplification limits of libxml2
        raise _syntax(exc.msg or str(exc)) from None  # libxml2's text already ends with "line L, column C"
    info = root.getroottree().docinfo
    if info.doctype or info.internalDTD is not None:  # e.g. a UTF-16 document the byte scan cannot see
        raise _syntax("DOCTYPE is not allowed")
    if root.tag != f"{{{EPP_NS}}}epp":
        raise _syntax(f"the root element must be epp in namespace {EPP_NS}, not {root.tag}")
    cl_trid = _cl_trid(root)
    unknown = _unknown_command(root)
    if unknown is not None:
        raise EppXmlError(2000, f"{RESULT_TEXT[2000]}: {_short(unknown)}", cl_trid)
    with _SCHEMA_LOCK:
        error = None if SCHEMA.validate(root) else SCHEMA.error_log[0]
    if error is not None:
        refusal = _syntax(f"line {error.line}: {error.message}", cl_trid)
        refusal.root = root
        raise refusal
    return root


def _unknown_command(root: etree._Element) -> str | None:
    """RFC 5730 answers a command element it does not define with 2000, not 2001: name it if so."""
    top = root[0] if len(root) else None
    if top is None or not isinstance(top.tag, str):
        return None
    if top.tag == f"{{{EPP_NS}}}command":
        verb = _first_element(top)
        if verb is None or verb.tag in (f"{{{EPP_NS}}}extension", f"{{{EPP_NS}}}clTRID"):
            return None  # no verb at all: a syntax error, left to the schema
        if etree.QName(verb).namespace != EPP_NS or etree.QName(verb).localname not in COMMAND_VERBS:
            return verb.tag
    elif top.tag == f"{{{EPP_NS}}}extension":  # only DNS Belgium's commands live there
        command = top.find(f"{{{DNSBE_NS}}}ext/{{{DNSBE_NS}}}command")
        verb = _first_element(command) if command is not None else None
        if verb is None:
            return "an <extension> outside <command> must be dnsbe:ext/dnsbe:command"
        if verb.tag == f"{{{DNSBE_NS}}}clTRID":
            return None
        if etree.QName(verb).namespace != DNSBE_NS or etree.QName(verb).localname not in DNSBE_VERBS:
            return verb.tag
    return None


def _first_element(parent: etree._Element) -> etree._Element | None:
    return next((c for c in parent if isinstance(c.tag, str)), None)


def command_of(root: etree._Element) -> Command | None:
    """The command a frame carries; None for <hello> (and for a client's greeting/response)."""
    top = _first_element(root)
    if top is None:
        return None
    if top.tag == f"{{{EPP_NS}}}extension":
        command = top.find(f"{{{DNSBE_NS}}}ext/{{{DNSBE_NS}}}command")
        verb = next((c for c in command if isinstance(c.tag, str) and c.tag != f"{{{DNSBE_NS}}}clTRID"), None) \
            if command is not None else None
        if command is None or verb is None:
            return None
        return Command(etree.QName(verb).localname, verb, None, (DNSBE_NS,),
                       command.findtext(f"{{{DNSBE_NS}}}clTRID"), True)
    if top.tag != f"{{{EPP_NS}}}command":
        return None
    verb = _first_element(top)
    if verb is None or verb.tag in (f"{{{EPP_NS}}}extension", f"{{{EPP_NS}}}clTRID"):
        return None
    name = etree.QName(verb).localname
    obj = None if name in SESSION_VERBS else _first_element(verb)
    extension = top.find(f"{{{EPP_NS}}}extension")
    used = (etree.QName(e).namespace or "" for e in (extension if extension is not None else ()) if isinstance(e.tag, str))
    return Command(name, verb, etree.QName(obj).namespace if obj is not None else None, tuple(dict.fromkeys(used)),
                   top.findtext(f"{{{EPP_NS}}}clTRID"), False, obj, extension)


def refuse_unimplemented(command: Command, verbs: Collection[str], objects: Collection[str],
                         extensions: Collection[str]) -> None:
    """For a valid command the server cannot serve, the RFC 5730 code: 2101 for a verb the schema knows but the
    server does not implement, 2307 for an object service it does not offer, 2103 for an extension it does not
    offer. verbs names both <command> verbs and dnsbe command verbs (requestAuthCode...)."""
    where = "dnsbe command" if command.dnsbe else "command"
    if command.verb not in verbs:
        raise EppXmlError(2101, f"{RESULT_TEXT[2101]}: {where} {command.verb}", command.cl_trid)
    if command.object_ns is not None and command.object_ns not in objects:
        raise EppXmlError(2307, f"{RESULT_TEXT[2307]}: {command.object_ns}", command.cl_trid)
    missing = [ns for ns in command.extensions if ns not in extensions]
    if missing:
        raise EppXmlError(2103, f"{RESULT_TEXT[2103]}: {', '.join(missing)}", command.cl_trid)


def require_implemented(root: etree._Element, verbs: Collection[str], objects: Collection[str],
                        extensions: Collection[str]) -> Command | None:
    """command_of and refuse_unimplemented together, for a parsed frame."""
    command = command_of(root)
    if command is not None:
        refuse_unimplemented(command, verbs, objects, extensions)
    return command


@dataclass(frozen=True)
class ResultValue:
    """RFC 5730 2.6: the client's element that caused an error, echoed in <value>, or in <extValue> beside the
    reason when there is one to give."""

    namespace: str
    prefix: str
    tag: str
    text: str | None
    reason: str | None = None


# -- building --------------------------------------------------------------------------------------------

def _stamp(instant: datetime) -> str:
    """xs:dateTime in UTC with milliseconds, as DNS Belgium writes it."""
    instant = instant.astimezone(UTC) if instant.tzinfo else instant.replace(tzinfo=UTC)
    return instant.strftime("%Y-%m-%dT%H:%M:%S.") + f"{instant.microsecond // 1000:03d}Z"


def _epp() -> etree._Element:
    return etree.Element(f"{{{EPP_NS}}}epp", nsmap={None: EPP_NS})


def _sub(parent: etree._Element, tag: str, text: str | None = None, **attrs: str) -> etree._Element:
    element = etree.SubElement(parent, f"{{{EPP_NS}}}{tag}", attrs)
    element.text = text
    return element


def _serialize(root: etree._Element) -> bytes:
    # lxml writes the declaration with single quotes; some EPP clients match the RFC's spelling literally
    body = etree.tostring(root, encoding="UTF-8", xml_declaration=False)
    return b'<?xml version="1.0" encoding="UTF-8"?>' + body


def _wrap(parent: etree._Element, tag: str, content: etree._Element) -> None:
    """resData / extension holding content; a caller may also hand over the wrapper itself."""
    holder = _sub(parent, tag)
    if content.tag == f"{{{EPP_NS}}}{tag}":
        holder.extend(list(content))
    else:
        holder.append(content)


def response(code: int, msg: str | None, cl_trid: str | None, sv_trid: str,
             res_data: etree._Element | None = None, extension: etree._Element | None = None,
             msgq: tuple[int, str] | None = None, lang: str = "en",
             poll_message: tuple[datetime | str, str, str] | None = None, value: ResultValue | None = None) -> bytes:
    """An EPP <response>. msg None means the standard text of code; msgq is (count, message id) and
    poll_message the (qDate, text, its language) of the message it announces, for a poll req."""
    root = _epp()
    resp = _sub(root, "response")
    result = _sub(resp, "result", code=str(code))
    text = msg if msg else RESULT_TEXT.get(code, RESULT_TEXT[1000 if code < 2000 else 2400])
    message = _sub(result, "msg", text)
    if lang != "en":  # en is the schema default: DNS Belgium leaves it out
        message.set("lang", lang)
    if value is not None:
        holder = _sub(_sub(result, "extValue"), "value") if value.reason else _sub(result, "value")
        offending = etree.SubElement(holder, f"{{{value.namespace}}}{value.tag}", nsmap={value.prefix: value.namespace})
        offending.text = value.text
        if value.reason:
            _sub(result[-1], "reason", value.reason)
    if msgq is not None:
        queue = _sub(resp, "msgQ", count=str(msgq[0]), id=str(msgq[1]))
        if poll_message is not None:
            q_date, q_text, q_lang = poll_message
            _sub(queue, "qDate", _stamp(q_date) if isinstance(q_date, datetime) else q_date)
            q_msg = _sub(queue, "msg", q_text)
            if q_lang != "en":  # en is the schema default
                q_msg.set("lang", q_lang)
    if res_data is not None:
        _wrap(resp, "resData", res_data)
    if extension is not None:
        _wrap(resp, "extension", extension)
    tr_id = _sub(resp, "trID")
    if cl_trid:
        _sub(tr_id, "clTRID", cl_trid)
    _sub(tr_id, "svTRID", sv_trid)
    return _serialize(root)


def greeting(server_id: str, now: datetime, objects: Iterable[str], extensions: Iterable[str],
             langs: Iterable[str] = ("en",)) -> bytes:
    """The <greeting> sent on connect and for <hello>. The data collection policy says: access to all data;
    used for administration and provisioning, shared with the registry and the public (WHOIS), kept as the
    registration policy states."""
    root = _epp()
    greet = _sub(root, "greeting")
    _sub(greet, "svID", server_id)
    _sub(greet, "svDate", _stamp(now))
    menu = _sub(greet, "svcMenu")
    _sub(menu, "version", "1.0")
    for lang in langs:
        _sub(menu, "lang", lang)
    for uri in objects:
        _sub(menu, "objURI", uri)
    ext_uris = list(extensions)
    if ext_uris:
        svc_ext = _sub(menu, "svcExtension")
        for uri in ext_uris:
            _sub(svc_ext, "extURI", uri)
    dcp = _sub(greet, "dcp")
    _sub(_sub(dcp, "access"), "all")
    statement = _sub(dcp, "statement")
    purpose = _sub(statement, "purpose")
    _sub(purpose, "admin")
    _sub(purpose, "prov")
    recipient = _sub(statement, "recipient")
    _sub(recipient, "ours")
    _sub(recipient, "public")
    _sub(_sub(statement, "retention"), "stated")
    return _serialize(root)
