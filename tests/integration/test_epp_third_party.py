"""Two independent EPP client libraries from PyPI, not written here, run their default flows against the
server over TLS through their own APIs: login, check, create, info, update, poll req/ack, logout.

- epptools (MIT): it announces the services the greeting offers and verifies the server's certificate
  against the development certificate given as its CA file.
- EPP / eppy (MIT/X): it always announces host-1.0, which the server does not offer (accepted since issue 14);
  it verifies the certificate too. Its poll command reads the message id as the string it is.

Both are blocking clients: they run in a thread while the registry and notifications serve in this loop.
Each poll message comes from the notifications service's real queue (a hitpoint threshold event)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from epptools import Client, Config
from eppy.client import EppClient as EppyClient
from eppy.doc import (
    EppCheckDomainCommand,
    EppCreateDomainCommand,
    EppInfoDomainCommand,
    EppPollCommand,
    EppUpdateDomainCommand,
)

from tests.integration import test_notifications
from tests.integration.test_notifications import Platform, threshold

platform = test_notifications.platform  # registry (EPP on a free port) and notifications, demo registrars on poll


def cafile(p: Platform) -> str:
    return str(Path(p.registry_ctx.settings.epp_cert_dir) / "epp-dev-cert.pem")  # type: ignore[attr-defined]


def port(p: Platform) -> int:
    return int(p.registry_ctx.extras["epp_port"])


async def queued_message(p: Platform) -> None:
    """One poll message in a100001's queue, through the notifications service."""
    await p.publish(p.event(threshold(80)))

    async def count() -> int:
        return await p.ctx.db["poll_messages"].count_documents({"registrar_id": "a100001", "acked_at": None})

    for _ in range(200):
        if await count() >= 1:
            return
        await asyncio.sleep(0.1)
    raise AssertionError("no poll message was queued")


def epptools_flow(host_port: int, ca: str) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    config = Config(host="127.0.0.1", port=host_port, clid="a100001", password="Demo-Epp-2026", ca_file=ca)
    with Client(config) as client:
        client.connect()
        seen["login"] = client.login().code()
        seen["check"] = client.domain.check(["tp-tools.be", "-bad-.be"]).availability()
        created = client.domain.create("tp-tools.be", years=1, registrant="a100001-demo",
                                       contacts={"tech": "a100001-tech"},
                                       nameservers=[{"name": "ns1.example.net"}, {"name": "ns2.example.net"}])
        seen["create"] = (created.code(), created.object_name())
        info = client.domain.info("tp-tools.be")
        seen["info"] = (info.code(), info.registrant(), info.sponsor(), sorted(info.nameservers()))
        updated = client.domain.update("tp-tools.be", remove={"ns": [{"name": "ns2.example.net"}]})
        seen["update"] = updated.code()
        seen["after_update"] = client.domain.info("tp-tools.be").nameservers()
        message = client.poll.request()
        seen["poll"] = (message.code(), message.message_id(), message.queue_message())
        seen["ack"] = client.poll.ack(message.message_id() or "").code()
        after = client.poll.request()  # the acked message is gone (others may have been queued meanwhile)
        seen["after_ack"] = after.message_id() if after.code() == 1301 else None
        seen["logout"] = client.logout().code()
    return seen


def eppy_flow(host_port: int, ca: str) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    client = EppyClient(host="127.0.0.1", port=host_port, ssl_cacerts=ca, ssl_validate_hostname=True)
    client.connect("127.0.0.1", host_port)
    try:
        seen["login"] = int(client.login("a100001", "Demo-Epp-2026").code)  # announces host-1.0 too
        check = EppCheckDomainCommand()
        check.name = ["tp-eppy.be"]
        seen["check"] = int(client.send(check).code)
        create = EppCreateDomainCommand()
        create.name = "tp-eppy.be"
        create.period = {"@unit": "y", "_text": "1"}
        create.ns = {"hostAttr": [{"hostName": "ns1.example.net"}]}
        create.registrant = "a100001-demo"
        create.contact = [{"@type": "tech", "_text": "a100001-tech"}]
        create.authInfo = {"pw": "unused-here"}
        seen["create"] = int(client.send(create).code)
        info = EppInfoDomainCommand()
        info.name = "tp-eppy.be"
        answer = client.send(info)
        seen["info"] = (int(answer.code), str(answer["epp"]["response"]["resData"]["domain:infData"]["clID"]))
        update = EppUpdateDomainCommand()
        update.name = "tp-eppy.be"
        update.add = {"ns": {"hostAttr": [{"hostName": "ns2.example.net"}]}}
        seen["update"] = int(client.send(update).code)
        polled = client.send(EppPollCommand("req"))
        msg_id = polled["epp"]["response"]["msgQ"]["@id"]
        seen["poll"] = (int(polled.code), msg_id)
        seen["ack"] = int(client.send(EppPollCommand("ack", msgID=msg_id)).code)
        seen["logout"] = int(client.logout().code)
    finally:
        client.close()
    return seen


async def test_epptools_default_flow(platform: Platform) -> None:
    await queued_message(platform)
    seen = await asyncio.to_thread(epptools_flow, port(platform), cafile(platform))
    assert seen["login"] == 1000
    assert seen["check"] == {"tp-tools.be": True, "-bad-.be": False}
    assert seen["create"] == (1000, "tp-tools.be")
    assert seen["info"] == (1000, "a100001-demo", "a100001", ["ns1.example.net", "ns2.example.net"])
    assert seen["update"] == 1000 and seen["after_update"] == ["ns1.example.net"]
    code, msg_id, text = seen["poll"]
    assert code == 1301 and msg_id is not None and msg_id.isdigit() and text == "Hitpoint threshold reached"
    assert (seen["ack"], seen["logout"]) == (1000, 1500) and seen["after_ack"] != msg_id


async def test_eppy_default_flow(platform: Platform) -> None:
    await queued_message(platform)
    seen = await asyncio.to_thread(eppy_flow, port(platform), cafile(platform))
    assert seen["login"] == 1000
    assert (seen["check"], seen["create"], seen["info"], seen["update"]) == (1000, 1000, (1000, "a100001"), 1000)
    code, msg_id = seen["poll"]
    assert code == 1301 and str(msg_id).isdigit()
    assert (seen["ack"], seen["logout"]) == (1000, 1500)
