"""A Knot DNS server of the test's own: a free port, its configuration and data in a temporary directory
(services/publication/knotconf.py writes them), stopped afterwards. Parallel runs never collide."""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import dns.exception
import dns.message
import dns.query
import dns.rcode

from services.publication import knotconf
from services.publication.settings import PublicationSettings
from tests.integration.infra import free_port


def knotd() -> str:
    found = shutil.which("knotd") or ("/usr/sbin/knotd" if Path("/usr/sbin/knotd").exists() else None)
    if found is None:
        raise RuntimeError("knotd is not installed: run the tests with `make test` (deploy/local/ensure-knot.sh "
                           "installs Debian's knot), or apt-get install knot")
    return found


def _free_udp_and_tcp_port() -> int:
    while True:
        port = free_port()
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s, contextlib.suppress(OSError):
            s.bind(("127.0.0.1", port))
            return port


@contextlib.contextmanager
def knot_server(directory: Path, settings: PublicationSettings | None = None) -> Iterator[int]:
    """Start knotd on a free port with its data under `directory`; yields the port once every zone answers."""
    port = _free_udp_and_tcp_port()
    conf = knotconf.write(directory, port, settings or PublicationSettings())
    log = (directory / "knotd.out").open("ab")
    process = subprocess.Popen([knotd(), "-c", str(conf)], stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 30
        tlds = list((settings or PublicationSettings()).tlds)
        while tlds:
            if process.poll() is not None:
                raise RuntimeError(f"knotd exited: {(directory / 'knot.log').read_text()[-2000:]}")
            try:
                answer = dns.query.udp(dns.message.make_query(tlds[0], "SOA"), "127.0.0.1", port=port, timeout=1)
                if answer.rcode() == dns.rcode.NOERROR and answer.answer:
                    tlds.pop(0)
                    continue
            except (OSError, dns.exception.Timeout):
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"knotd did not serve its zones within 30 s: {directory / 'knot.log'}")
            time.sleep(0.1)
        yield port
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
        log.close()
