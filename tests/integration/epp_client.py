"""A minimal EPP client for the tests, written from RFC 5734 and RFC 5730 independently of the server's
code: TLS socket, 4-byte length prefix, literal XML, answers read with the standard library's parser."""

from __future__ import annotations

import asyncio
import ssl
import struct
import xml.etree.ElementTree as ET
from dataclasses import dataclass

NS = {
    "epp": "urn:ietf:params:xml:ns:epp-1.0",
    "domain": "urn:ietf:params:xml:ns:domain-1.0",
    "contact": "urn:ietf:params:xml:ns:contact-1.0",
    "dnsbe": "http://www.dns.be/xml/epp/dnsbe-1.0",
    "nsgroup": "http://www.dns.be/xml/epp/nsgroup-1.0",
    "keygroup": "http://www.dns.be/xml/epp/keygroup-1.0",
    "secDNS": "urn:ietf:params:xml:ns:secDNS-1.1",
}
HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="no"?>'
EPP_OPEN = '<epp xmlns="urn:ietf:params:xml:ns:epp-1.0">'


@dataclass
class Answer:
    xml: str
    root: ET.Element

    @property
    def code(self) -> int:
        result = self.root.find("epp:response/epp:result", NS)
        return int(result.get("code") or 0) if result is not None else 0

    @property
    def message(self) -> str:
        return self.root.findtext("epp:response/epp:result/epp:msg", default="", namespaces=NS)

    def find(self, path: str) -> ET.Element | None:
        return self.root.find(path, NS)

    def text(self, path: str) -> str | None:
        return self.root.findtext(path, namespaces=NS)

    def all(self, path: str) -> list[ET.Element]:
        return self.root.findall(path, NS)


class EppClient:
    def __init__(self, port: int, host: str = "127.0.0.1") -> None:
        self.port, self.host = port, host
        self.counter = 0

    async def connect(self) -> Answer:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE  # the development certificate is self-signed
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port, ssl=context)
        return await self.read()

    async def send_raw(self, payload: bytes) -> None:
        self.writer.write(struct.pack(">I", len(payload) + 4) + payload)
        await self.writer.drain()

    async def read(self, timeout: float = 10) -> Answer:
        # one timeout scope over both reads (wait_for would run each as a task of its own: two more turns of the
        # event loop per answer, which the benchmarks, running client and server in one loop, would count)
        async with asyncio.timeout(timeout):
            (length,) = struct.unpack(">I", await self.reader.readexactly(4))
            data = (await self.reader.readexactly(length - 4)).decode()
        return Answer(data, ET.fromstring(data))

    async def send(self, xml: str) -> Answer:
        await self.send_raw(xml.encode())
        return await self.read()

    def trid(self) -> str:
        self.counter += 1
        return f"TEST-{self.counter:05d}"

    async def command(self, body: str, extension: str = "") -> Answer:
        ext = f"<extension>{extension}</extension>" if extension else ""
        return await self.send(f"{HEAD}{EPP_OPEN}<command>{body}{ext}<clTRID>{self.trid()}</clTRID></command></epp>")

    async def login(self, client_id: str = "a100001", password: str = "Demo-Epp-2026", new_password: str | None = None) -> Answer:
        new = f"<newPW>{new_password}</newPW>" if new_password else ""
        return await self.command(
            f"<login><clID>{client_id}</clID><pw>{password}</pw>{new}<options><version>1.0</version><lang>en</lang>"
            "</options><svcs><objURI>urn:ietf:params:xml:ns:domain-1.0</objURI>"
            "<objURI>urn:ietf:params:xml:ns:contact-1.0</objURI>"
            "<svcExtension><extURI>http://www.dns.be/xml/epp/dnsbe-1.0</extURI></svcExtension></svcs></login>")

    async def logout(self) -> Answer:
        return await self.command("<logout/>")

    async def close(self) -> None:
        self.writer.close()
        try:
            await asyncio.wait_for(self.writer.wait_closed(), 2)
        except (OSError, TimeoutError, ssl.SSLError):
            pass

    async def closed_by_server(self, timeout: float = 5) -> bool:
        try:
            data = await asyncio.wait_for(self.reader.read(1), timeout)
        except (ConnectionError, ssl.SSLError):
            return True
        return data == b""
