"""The verification service with the registry, through the real broker and database: registrations in the
registry are scored, selected ones overridden, proven by eID or documents, approved or failed, and the
registry lifts the override; the registrar's switch, transfers, updates, the race with contact.created."""

import asyncio
import base64
import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import aio_pika
import httpx
import pytest
from lxml import etree

from services.registry.app import build as build_registry
from services.registry.epp.xml import SCHEMA
from services.registry.registrars.demo import seed_demo_registrar
from services.registry.settings import RegistrySettings
from services.verification.app import build as build_verification
from services.verification.settings import VerificationSettings
from shared.clock import BRUSSELS, ManualClock
from shared.events import new_event
from shared.events.contacts import ContactCreated, ContactUpdated
from shared.events.domains import DomainCreated
from shared.events.verification import VerificationApproved, VerificationFailed
from shared.runtime import ServiceContext
from shared.sealing import Sealer
from tests.integration.epp_client import EppClient
from tests.integration.infra import (
    AMQP_URL,
    AMQP_USER,
    OPERATOR,
    EventTap,
    eventually,
    login,
    queue_depth,
    running,
)

START = datetime(2027, 3, 1, 10, 0, tzinfo=BRUSSELS)
GOOD = {"name": "Veerle Peeters", "street": ["Kerkstraat 12"], "city": "Leuven", "postal_code": "3000",
        "country": "BE", "phone": "+32.16123456", "email": "veerle@example.be", "language": "nl"}
# three rules flag it: the phone's country, a disposable mailbox, a placeholder street
SUSPICIOUS = GOOD | {"phone": "+7.9161234567", "email": "fast@mailinator.com", "street": ["asdf"]}


@dataclass
class Platform:
    registry: httpx.AsyncClient
    verification: httpx.AsyncClient
    clock: ManualClock
    tap: EventTap
    namespace: str

    @property
    def vctx(self) -> ServiceContext:
        return self.verification._transport.app.state.ctx  # type: ignore[attr-defined]

    async def contact(self, headers: dict, alias: str, data: dict) -> None:
        r = await self.registry.post("/api/contacts", headers=headers, json=data | {"alias": alias, "type": "REGISTRANT"})
        assert r.status_code == 201, r.text

    async def update(self, headers: dict, alias: str, data: dict) -> None:
        r = await self.registry.put(f"/api/contacts/{alias}", headers=headers, json=data)
        assert r.status_code == 200, r.text

    async def domain(self, headers: dict, name: str, registrant: str) -> None:
        r = await self.registry.post("/api/domains", headers=headers, json={"name": name, "registrant": registrant})
        assert r.status_code == 201, r.text

    async def overridden(self, headers: dict, name: str, expected: bool) -> dict:
        async def probe() -> dict:
            return (await self.registry.get(f"/api/domains/{name}", headers=headers)).json()

        return await eventually(probe, lambda d: bool(d.get("override_reason")) is expected)

    async def registry_contact(self, headers: dict, alias: str, status: str) -> dict:
        async def probe() -> dict:
            return (await self.registry.get(f"/api/contacts/{alias}", headers=headers)).json()

        return await eventually(probe, lambda c: c.get("verification") == status)

    async def events(self, event_type: str, contact: str, count: int = 1) -> list[dict]:
        def mine() -> list[dict]:
            return [e for e in self.tap.of(event_type) if e["payload"].get("contact") == contact]

        async def probe() -> list[dict]:
            return mine()

        return await eventually(probe, lambda found: len(found) >= count)

    def token_of(self, required: dict) -> str:
        link = Sealer(self.vctx.settings.internal_secret, "verification-link").open(required["payload"]["sealed_link"])
        return urlsplit(link).path.rsplit("/", 1)[1]

    async def eid(self, token: str, outcome: str = "success", subject: str = "BE-85010112345") -> httpx.Response:
        r = await self.verification.post(f"/verify/{token}/eid")
        assert r.status_code == 200, r.text
        page = urlsplit(r.json()["redirect_url"])
        back = await self.verification.get(page.path, params=page.query + f"&outcome={outcome}&subject={subject}")
        assert back.status_code == 303, back.text
        callback = urlsplit(back.headers["location"])
        return await self.verification.get(callback.path + "?" + callback.query)

    async def transfer_code(self, headers: dict, name: str) -> str:
        async with EventTap(self.namespace, "domain.transfer_code_sent") as codes:
            r = await self.registry.post(f"/api/domains/{name}/transfer-code", headers=headers)
            assert r.status_code == 200, r.text
            sent = (await codes.wait_for("domain.transfer_code_sent"))[0]["payload"]
        return Sealer(self.vctx.settings.internal_secret, "transfer-code").open(sent["sealed_code"])

    async def review(self, case_id: str, decision: str, **extra: Any) -> httpx.Response:
        return await self.verification.post(f"/api/support/verification/cases/{case_id}/review", headers=OPERATOR,
                                            json={"decision": decision, **extra})


@contextlib.asynccontextmanager
async def started(namespace: str, eid_provider: str) -> AsyncIterator[Platform]:
    clock = ManualClock(START)
    registry_settings = RegistrySettings(namespace=namespace, seed_demo_registrar=True, outbox_poll_seconds=0.05,
                                         operator_token="operator-dev-token", lifecycle_interval_seconds=3600,
                                         epp_port=0)
    settings = VerificationSettings(namespace=namespace, outbox_poll_seconds=0.05, operator_token="operator-dev-token",
                                    jobs_interval_seconds=3600, verifications_per_individual=2,
                                    public_base_url="http://service", eid_provider=eid_provider)
    async with EventTap(namespace, "verification.#") as tap, \
            running(build_verification(settings, clock)) as verification, \
            running(build_registry(registry_settings, clock)) as registry:
        p = Platform(registry, verification, clock, tap, namespace)
        await seed_demo_registrar(p.registry._transport.app.state.ctx, registry_settings, "b200002")  # type: ignore[attr-defined]
        yield p


@pytest.fixture
async def platform(namespace: str) -> AsyncIterator[Platform]:
    async with started(namespace, "simulator") as p:  # the simulator is asked for explicitly
        yield p


async def test_without_an_eid_provider_registrants_upload_documents(namespace: str) -> None:
    """EID_PROVIDER empty (the default): no eID and no simulator; the page says to upload documents."""
    assert VerificationSettings().eid_provider == ""
    async with started(namespace, "") as p:
        me = await login(p.registry)
        await p.contact(me, "noeid-1", SUSPICIOUS)
        await p.domain(me, "noeid.be", "noeid-1")
        token = p.token_of((await p.events("verification.required", "noeid-1"))[0])
        page = (await p.verification.get(f"/verify/{token}")).json()
        assert (page["can_start_eid"], page["can_upload"]) == (False, True)
        assert "upload" in page["message"]
        started_eid = await p.verification.post(f"/verify/{token}/eid")
        assert started_eid.status_code == 409 and "upload" in started_eid.json()["detail"]["message"]
        assert (await p.verification.post(f"/verify/{'x' * 43}/eid")).status_code == 404  # says nothing
        assert (await p.verification.get(f"/verify/{token}")).json()["attempts_left"] == 3  # no attempt used
        query = {"state": "s", "callback": "http://service/verify/eid/callback", "outcome": "success"}
        simulated = await p.verification.get("/eid-simulator/authorize", params=query)
        assert simulated.status_code == 404
        assert (await p.verification.get("/verify/eid/callback", params={"state": "s"})).status_code == 404
        pdf = base64.b64encode(b"%PDF-1.4 identity card").decode()
        up = await p.verification.post(f"/verify/{token}/documents", json={"documents": [
            {"filename": "id.pdf", "content_type": "application/pdf", "content_base64": pdf}]})
        assert up.status_code == 201 and up.json()["status"] == "IN_REVIEW", up.text


async def test_selection_override_eid_approval_and_undo(platform: Platform) -> None:
    p = platform
    me = await login(p.registry)
    await p.contact(me, "vp-1", GOOD)
    await p.domain(me, "before.be", "vp-1")  # plausible data: not selected
    await p.update(me, "vp-1", SUSPICIOUS)   # unverified stays unverified
    await p.domain(me, "first.be", "vp-1")

    [required] = await p.events("verification.required", "vp-1")
    r = required["payload"]
    assert (r["domain"], r["first"], r["email"], r["language"]) == ("first.be", True, "fast@mailinator.com", "nl")
    assert "verify/" not in str(required)  # the link crosses the broker sealed only
    await p.overridden(me, "first.be", True)
    assert not (await p.overridden(me, "before.be", False)).get("override_reason")  # registered before: untouched
    contact = await p.registry_contact(me, "vp-1", "PENDING")
    token = p.token_of(required)
    assert contact["verification_url"].endswith(token) and contact["verification_type"] == "AUTO"
    await epp_info_contact_v2(p, "vp-1", ("pending", contact["verification_url"], "AUTO"))

    # every later domain of the pending handle: its own message, overridden too
    await p.domain(me, "second.be", "vp-1")
    later = (await p.events("verification.required", "vp-1", 2))[1]["payload"]
    assert (later["domain"], later["first"], later["case_id"]) == ("second.be", False, r["case_id"])
    await p.overridden(me, "second.be", True)

    # the registrar fetches the URL and asks for the mail again; another registrar sees nothing
    url = await p.verification.get("/api/verification/contacts/vp-1/url", headers=me)
    assert url.status_code == 200 and url.json()["url"] == contact["verification_url"]
    other = await login(p.registry, "b200002")
    assert (await p.verification.get("/api/verification/contacts/vp-1/url", headers=other)).status_code == 404
    assert (await p.verification.post("/api/verification/contacts/vp-1/resend", headers=me)).status_code == 202
    resent = (await p.tap.wait_for("verification.link_resent"))[0]["payload"]
    assert resent["sealed_link"] == r["sealed_link"] and resent["email"] == "fast@mailinator.com"

    # a wrong token says nothing; the right one shows the case
    assert (await p.verification.get(f"/verify/{'x' * 43}")).status_code == 404
    page = (await p.verification.get(f"/verify/{token}")).json()
    assert page["status"] == "OPEN" and page["domains"] == ["first.be", "second.be"] and page["attempts_left"] == 3

    # eID: approved at once; one message per domain; the registry lifts both overrides
    p.clock.advance(timedelta(hours=5))
    me = await login(p.registry)  # an access token lasts 15 minutes
    done = await p.eid(token)
    assert done.status_code == 200 and done.json()["status"] == "APPROVED", done.text
    [approved] = await p.events("verification.approved", "vp-1")
    assert approved["payload"]["method"] == "eid" and sorted(approved["payload"]["domains"]) == ["first.be", "second.be"]
    await p.overridden(me, "first.be", False)
    await p.overridden(me, "second.be", False)
    contact = await p.registry_contact(me, "vp-1", "VERIFIED")
    assert "verification_url" not in contact
    await epp_info_contact_v2(p, "vp-1", ("verified", None, "AUTO"))
    # the callback cannot be replayed, a closed case cannot be started again
    assert (await p.verification.post(f"/verify/{token}/eid")).status_code == 409

    # future domains with the handle are approved automatically
    await p.domain(me, "third.be", "vp-1")
    assert not (await p.overridden(me, "third.be", False)).get("override_reason")
    await asyncio.sleep(1)
    assert len(p.tap.of("verification.required")) == 2

    # a copy of the contact under another handle verifies on its own
    await p.contact(me, "vp-copy", SUSPICIOUS)
    await p.domain(me, "copy.be", "vp-copy")
    copy = (await p.events("verification.required", "vp-copy"))[0]["payload"]
    assert copy["first"] and copy["case_id"] != r["case_id"]
    await p.overridden(me, "copy.be", True)

    # a verified contact that is updated reverts to unverified; support and the registrar are told
    await p.update(me, "vp-1", GOOD)
    await p.events("verification.undone", "vp-1")
    notice = (await p.events("verification.support_notice", "vp-1"))[0]["payload"]
    assert notice["reason"] == "verified_contact_updated"
    await p.registry_contact(me, "vp-1", "UNVERIFIED")
    assert not (await p.overridden(me, "third.be", False)).get("override_reason")  # active domains stay active

    metrics = (await p.verification.get("/metrics")).text
    assert "verification_registrations_selected_total" in metrics
    assert 'verification_time_to_verification_seconds_count{method="eid"} 1.0' in metrics


async def test_documents_review_ask_more_reject_and_reselection(platform: Platform) -> None:
    p = platform
    me = await login(p.registry)
    await p.contact(me, "doc-1", SUSPICIOUS)
    await p.domain(me, "papers.be", "doc-1")
    [required] = await p.events("verification.required", "doc-1")
    token, case_id = p.token_of(required), required["payload"]["case_id"]

    pdf = base64.b64encode(b"%PDF-1.4 identity card").decode()
    bad = await p.verification.post(f"/verify/{token}/documents",
                                    json={"documents": [{"filename": "x.exe", "content_type": "application/x-msdownload",
                                                         "content_base64": pdf}]})
    assert bad.status_code == 415
    # an executable declared as a PDF: the content's first bytes decide, and nothing is stored
    exe = base64.b64encode(b"MZ\x90\x00\x03 This program cannot be run in DOS mode").decode()
    disguised = await p.verification.post(f"/verify/{token}/documents", json={"documents": [
        {"filename": "id.pdf", "content_type": "application/pdf", "content_base64": exe}]})
    assert disguised.status_code == 415 and "not a PDF" in disguised.text, disguised.text
    disguised = await p.verification.post(f"/verify/{token}/documents",
                                          files={"file": ("id.pdf", b"MZ\x90\x00 program", "application/pdf")})
    assert disguised.status_code == 415, disguised.text
    # 256 MB streamed in: refused once past the limit, without reading the rest into memory
    sent = 0

    async def huge() -> AsyncIterator[bytes]:
        nonlocal sent
        yield b'--B\r\nContent-Disposition: form-data; name="f"; filename="id.pdf"\r\nContent-Type: application/pdf\r\n\r\n%PDF-'
        for _ in range(256):
            sent += 1
            yield b"A" * 1_000_000

    big = await p.verification.post(f"/verify/{token}/documents", content=huge(),
                                    headers={"content-type": "multipart/form-data; boundary=B"})
    assert big.status_code == 413 and "larger than" in big.text, big.text
    assert sent <= 4, f"the service read {sent} MB before refusing"
    assert await p.vctx.db["documents"].count_documents({"case_id": case_id}) == 0
    assert (await p.verification.get(f"/verify/{token}")).json()["status"] == "OPEN"  # no attempt used
    up = await p.verification.post(f"/verify/{token}/documents",
                                   json={"documents": [{"filename": "id.pdf", "content_type": "application/pdf",
                                                        "content_base64": pdf}]})
    assert up.status_code == 201 and up.json()["status"] == "IN_REVIEW", up.text
    queue = (await p.verification.get("/api/support/verification/queue", headers=OPERATOR)).json()
    assert [c["case_id"] for c in queue] == [case_id]
    assert (await p.verification.get("/api/support/verification/queue")).status_code == 401
    shown = (await p.verification.get(f"/api/support/verification/cases/{case_id}", headers=OPERATOR)).json()
    [doc] = shown["documents"]
    body = await p.verification.get(f"/api/support/verification/cases/{case_id}/documents/{doc['document_id']}",
                                    headers=OPERATOR)
    assert body.content == b"%PDF-1.4 identity card"

    asked = await p.review(case_id, "ask_more", note="the back of the card")
    assert asked.status_code == 200 and asked.json()["status"] == "MORE_INFO"
    assert (await p.review(case_id, "approve")).status_code == 409  # nothing new to approve
    page = (await p.verification.get(f"/verify/{token}")).json()
    assert page["status"] == "MORE_INFO" and "back of the card" in page["message"]
    multipart = await p.verification.post(f"/verify/{token}/documents",
                                          files={"file": ("back.png", b"\x89PNG\r\n\x1a\n back", "image/png")})
    assert multipart.status_code == 201, multipart.text

    rejected = await p.review(case_id, "reject", note="not the registrant")
    assert rejected.json()["status"] == "FAILED"
    # the documents are kept DOCUMENT_RETENTION_DAYS (30) after the case closed, then deleted
    documents = f"/api/support/verification/cases/{case_id}"
    assert len((await p.verification.get(documents, headers=OPERATOR)).json()["documents"]) == 2
    p.clock.advance(timedelta(days=29))
    ran = await p.verification.post("/api/operator/verification/jobs/run", headers=OPERATOR)
    assert ran.json()["documents_deleted"] == 0
    assert len((await p.verification.get(documents, headers=OPERATOR)).json()["documents"]) == 2
    p.clock.advance(timedelta(days=1, seconds=1))
    ran = await p.verification.post("/api/operator/verification/jobs/run", headers=OPERATOR)
    assert ran.json()["documents_deleted"] == 2
    assert (await p.verification.get(documents, headers=OPERATOR)).json()["documents"] == []
    assert await p.vctx.db["documents"].count_documents({"case_id": case_id}) == 0
    assert "verification_documents_deleted_total 2.0" in (await p.verification.get("/metrics")).text
    me = await login(p.registry)  # a web session does not last a month
    failed = (await p.events("verification.failed", "doc-1"))[0]["payload"]
    assert failed["reason"] == "rejected" and failed["domains"] == ["papers.be"]
    await p.registry_contact(me, "doc-1", "FAILED")
    await p.overridden(me, "papers.be", True)  # registered but unusable
    assert (await p.review(case_id, "approve")).status_code == 409  # no way back from a closed case

    # a new domain with the failed handle is selected again: a new case
    await p.domain(me, "again.be", "doc-1")
    again = (await p.events("verification.required", "doc-1", 2))[1]["payload"]
    assert again["first"] and again["case_id"] != case_id and again["domain"] == "again.be"
    await p.registry_contact(me, "doc-1", "PENDING")
    await p.overridden(me, "again.be", True)

    # late decisions on the old case (redelivered after the reselection) leave the contact in its new case
    registry = p.registry._transport.app.state.ctx  # type: ignore[attr-defined]

    async def publish(payload: Any) -> None:
        await registry.publisher.publish(new_event(payload, registrar_id="a100001", correlation_id=None,
                                                   clock=p.clock))

    await publish(VerificationApproved(contact="doc-1", case_id=case_id, method="eid", domains=["papers.be"]))
    await publish(VerificationFailed(contact="doc-1", case_id=case_id, reason="rejected"))
    # an approval without a case (the registrar verifies itself) still applies; it comes after the stale ones
    await publish(VerificationApproved(contact="a100001-demo", method="registrar"))
    await p.registry_contact(me, "a100001-demo", "VERIFIED")
    contact = await p.registry_contact(me, "doc-1", "PENDING")
    assert contact["verification_case"] == again["case_id"] and contact["verification_url"]
    await p.overridden(me, "papers.be", True)
    await p.overridden(me, "again.be", True)


async def test_attempts_exhausted_deadline_and_cap_per_individual(platform: Platform) -> None:
    p = platform
    me = await login(p.registry)
    aliases = ("try-1", "gone-1", "cap-1", "cap-2", "cap-3", "late-1")
    for alias in aliases:
        await p.contact(me, alias, SUSPICIOUS)
        await p.domain(me, f"{alias}.be", alias)
    tokens = {a: p.token_of((await p.events("verification.required", a))[0]) for a in aliases}

    for _ in range(3):
        r = await p.eid(tokens["try-1"], "failure")
        assert r.status_code == 200
    assert r.json()["status"] == "SUPPORT"
    refused = await p.verification.post(f"/verify/{tokens['try-1']}/eid")
    assert refused.status_code == 409 and "support" in refused.json()["detail"]["message"]
    assert (await p.events("verification.support_notice", "try-1"))[0]["payload"]["reason"] == "attempts_exhausted"

    # three eID starts never finished at the provider: once the last is abandoned, support takes over too
    for _ in range(3):
        assert (await p.verification.post(f"/verify/{tokens['gone-1']}/eid")).status_code == 200
    assert (await p.verification.post(f"/verify/{tokens['gone-1']}/eid")).status_code == 409
    p.clock.advance(timedelta(minutes=31))
    ran = await p.verification.post("/api/operator/verification/jobs/run", headers=OPERATOR)
    assert ran.json() == {"abandoned": 1, "expired": 0, "documents_deleted": 0}
    page = (await p.verification.get(f"/verify/{tokens['gone-1']}")).json()
    assert page["status"] == "SUPPORT" and "support" in page["message"]
    notice = (await p.events("verification.support_notice", "gone-1"))[0]["payload"]
    assert notice["reason"] == "attempts_exhausted"
    queue = (await p.verification.get("/api/support/verification/queue", headers=OPERATOR)).json()
    assert {c["contact"] for c in queue} == {"try-1", "gone-1"}

    # the same individual verifies two registrants (the cap here), the third is sent to support
    for alias in ("cap-1", "cap-2"):
        assert (await p.eid(tokens[alias])).json()["status"] == "APPROVED"
    capped = await p.eid(tokens["cap-3"])
    assert capped.json()["status"] == "SUPPORT" and "contact support" in capped.json()["message"]
    case_id = (await p.events("verification.required", "cap-3"))[0]["payload"]["case_id"]
    raised = await p.verification.post(f"/api/support/verification/cases/{case_id}/raise-cap", headers=OPERATOR,
                                       json={"extra": 1})
    assert raised.status_code == 200 and raised.json()["status"] == "APPROVED"
    me = await login(p.registry)  # the clock moved 31 minutes: past the access token's 15
    await p.registry_contact(me, "cap-3", "VERIFIED")
    await p.overridden(me, "cap-3.be", False)

    # no proof by the deadline: failed, the domain stays overridden
    p.clock.advance(timedelta(days=15))
    ran = await p.verification.post("/api/operator/verification/jobs/run", headers=OPERATOR)
    assert ran.json()["expired"] == 1  # late-1; try-1 and gone-1 are with support, not expired
    assert (await p.events("verification.failed", "late-1"))[0]["payload"]["reason"] == "expired"
    me = await login(p.registry)  # a web session does not last two weeks
    await p.registry_contact(me, "late-1", "FAILED")
    metrics = (await p.verification.get("/metrics")).text
    assert "verification_attempts_exhausted_total 2.0" in metrics
    assert 'verification_contacts{status="VERIFIED"} 3.0' in metrics


async def test_verification_at_registrar(platform: Platform) -> None:
    p = platform
    me = await login(p.registry)
    # a contact that failed before the switch
    await p.contact(me, "fail-1", SUSPICIOUS)
    await p.domain(me, "failed.be", "fail-1")
    failed_case = (await p.events("verification.required", "fail-1"))[0]["payload"]["case_id"]
    p.clock.advance(timedelta(days=15))
    ran = await p.verification.post("/api/operator/verification/jobs/run", headers=OPERATOR)
    assert ran.json()["expired"] == 1
    await p.events("verification.failed", "fail-1")
    me = await login(p.registry)  # a web session does not last two weeks
    await p.registry_contact(me, "fail-1", "FAILED")
    # and one pending when it comes
    await p.contact(me, "old-1", SUSPICIOUS)
    await p.domain(me, "old.be", "old-1")
    await p.events("verification.required", "old-1")
    await p.overridden(me, "old.be", True)

    r = await p.verification.put("/api/operator/verification/registrars/a100001", headers=OPERATOR,
                                 json={"verifies_itself": True})
    assert r.status_code == 200
    assert (await p.verification.put("/api/operator/verification/registrars/a100001",
                                     json={"verifies_itself": True})).status_code == 401
    # a new contact is verified at creation and never selected
    await p.contact(me, "new-1", SUSPICIOUS)
    assert (await p.events("verification.approved", "new-1"))[0]["payload"]["method"] == "registrar"
    await p.registry_contact(me, "new-1", "VERIFIED")
    await p.domain(me, "new.be", "new-1")
    # the switch wins over reselection: a new domain of the failed contact is not selected again
    await p.domain(me, "failed-again.be", "fail-1")
    # an existing pending contact is verified on its next update, even without changes; overrides lifted
    await p.update(me, "old-1", SUSPICIOUS)
    approved = (await p.events("verification.approved", "old-1"))[0]["payload"]
    assert approved["method"] == "registrar" and approved["domains"] == ["old.be"]
    await p.overridden(me, "old.be", False)
    contact = await p.registry_contact(me, "old-1", "VERIFIED")
    assert contact["verification_type"] == "REGISTRAR"
    await asyncio.sleep(0.5)
    assert [e["payload"]["contact"] for e in p.tap.of("verification.required")] == ["fail-1", "old-1"]
    assert not (await p.overridden(me, "failed-again.be", False)).get("override_reason")
    contact, case = await p.vctx.extras["verification"].own_contact("a100001", "fail-1")
    assert (contact["status"], case["_id"]) == ("FAILED", failed_case)  # no new case
    decided = await p.vctx.db["registrations"].find_one({"domain": "failed-again.be"})
    assert decided is not None and decided["selected"] is False


async def test_transfer_to_a_new_unverified_registrant_of_a_pending_one(platform: Platform) -> None:
    p = platform
    me = await login(p.registry)
    await p.contact(me, "holder-1", SUSPICIOUS)
    await p.contact(me, "holder-2", GOOD)
    await p.domain(me, "moving.be", "holder-1")
    await p.events("verification.required", "holder-1")
    await p.overridden(me, "moving.be", True)

    code = await p.transfer_code(me, "moving.be")
    r = await p.registry.post("/api/domains/moving.be/transfer", headers=me,
                              json={"transfer_code": code, "registrant": "holder-2", "tech": ["a100001-tech"]})
    assert r.status_code == 200, r.text
    # the new registrant becomes pending and gets its own case (its own link); the domain stays overridden
    required = (await p.events("verification.required", "holder-2"))[0]["payload"]
    assert required["first"] and required["domain"] == "moving.be"
    contact = await p.registry_contact(me, "holder-2", "PENDING")
    assert await eventually(lambda: _url(p, me, "holder-2"), bool)
    assert contact["verification"] == "PENDING"
    await p.overridden(me, "moving.be", True)


async def test_an_auto_transfer_of_a_pending_registrant_gives_the_copy_a_case(platform: Platform) -> None:
    """#AUTO# copies the registrant for the gaining registrar: the copy is announced (contact.created before
    domain.transferred), inherits the pending status with its own case and link, and verifies on its own."""
    p = platform
    me, other = await login(p.registry), await login(p.registry, "b200002")
    await p.contact(me, "auto-1", SUSPICIOUS)
    await p.domain(me, "copied.be", "auto-1")
    original = (await p.events("verification.required", "auto-1"))[0]["payload"]
    await p.overridden(me, "copied.be", True)

    code = await p.transfer_code(other, "copied.be")
    async with EventTap(p.namespace) as everything:
        body = {"transfer_code": code, "registrant": "#AUTO#", "tech": ["b200002-tech"]}
        r = await p.registry.post("/api/domains/copied.be/transfer", headers=other, json=body)
        assert r.status_code == 200, r.text
        copy = r.json()["registrant"]
        assert copy != "auto-1"
        required = (await p.events("verification.required", copy))[0]
    order = [(e["event_type"], e["registrar_id"]) for e in everything.events
             if e["event_type"] in ("contact.created", "domain.transferred")]
    assert order == [("contact.created", "b200002"), ("domain.transferred", "b200002")]
    r = required["payload"]
    assert (r["first"], r["domain"], r["email"]) == (True, "copied.be", SUSPICIOUS["email"])
    assert r["case_id"] != original["case_id"] and required["registrar_id"] == "b200002"
    # the copy is PENDING from the transfer's own transaction; its case and link come with verification.required,
    # which the registry applies a moment after the tap sees it: wait for the case, not for the status
    contact = await eventually(lambda: p.registry.get(f"/api/contacts/{copy}", headers=other),
                               lambda c: c.json().get("verification_case") == r["case_id"])
    contact = contact.json()
    token = p.token_of(required)
    assert contact["verification"] == "PENDING" and contact["verification_url"].endswith(token)
    await p.overridden(other, "copied.be", True)

    # the copy proves its identity on its own; the original stays pending
    assert (await p.eid(token)).json()["status"] == "APPROVED"
    await p.overridden(other, "copied.be", False)
    await p.registry_contact(other, copy, "VERIFIED")
    await p.registry_contact(me, "auto-1", "PENDING")


async def epp_info_contact_v2(p: Platform, alias: str, expected: tuple[str, str | None, str | None]) -> None:
    """info-contact v2.0 over real EPP shows the verification elements, in a reply valid under dnsbe-1.0.xsd."""
    client = EppClient(p.registry._transport.app.state.ctx.extras["epp_port"])  # type: ignore[attr-defined]
    await client.connect()
    try:
        assert (await client.login()).code == 1000
        info = await client.command(
            f'<info><contact:info xmlns:contact="urn:ietf:params:xml:ns:contact-1.0"><contact:id>{alias}</contact:id>'
            "</contact:info></info>",
            '<dnsbe:ext xmlns:dnsbe="http://www.dns.be/xml/epp/dnsbe-1.0"><dnsbe:info>'
            '<dnsbe:contact version="2.0"/></dnsbe:info></dnsbe:ext>')
    finally:
        await client.close()
    assert info.code == 1000, info.xml
    ext = "epp:response/epp:extension/dnsbe:ext/dnsbe:infData/dnsbe:contact"
    assert (info.text(f"{ext}/dnsbe:verification"), info.text(f"{ext}/dnsbe:verificationurl"),
            info.text(f"{ext}/dnsbe:verificationtype")) == expected
    root = etree.fromstring(info.xml.encode())
    assert SCHEMA.validate(root), SCHEMA.error_log


async def _url(p: Platform, headers: dict, alias: str) -> str | None:
    return (await p.registry.get(f"/api/contacts/{alias}", headers=headers)).json().get("verification_url")


async def test_a_registration_before_its_contact_redelivery_and_poison(platform: Platform, namespace: str) -> None:
    """domain.created applied before contact.created is scored when the contact arrives; a redelivered
    event applies once; a poison message is dead-lettered."""
    p = platform
    clock = p.clock
    domain = new_event(DomainCreated(name="early.be", tld="be", registrant="race-1", registered_at=clock.now()),
                       registrar_id="a100001", correlation_id="race", clock=clock)
    contact = new_event(ContactCreated(alias="race-1", type="REGISTRANT", **{k: v for k, v in SUSPICIOUS.items()}),
                        registrar_id="a100001", correlation_id="race", clock=clock)
    connection = await aio_pika.connect(AMQP_URL)
    try:
        channel = await connection.channel()
        exchange = await channel.get_exchange(f"{namespace}.registry.events")

        async def publish(event: Any, body: bytes | None = None) -> None:
            await exchange.publish(aio_pika.Message(body or event.model_dump_json().encode(), message_id=str(uuid.uuid4()), user_id=AMQP_USER,
                                                    delivery_mode=aio_pika.DeliveryMode.PERSISTENT),
                                   routing_key=event.event_type)

        await publish(domain)
        await publish(domain)  # redelivered: applies once
        await asyncio.sleep(1)
        assert p.tap.of("verification.required") == []
        await publish(contact)
        required = (await p.events("verification.required", "race-1"))[0]["payload"]
        assert required["domain"] == "early.be" and required["first"]
        # a burst of registrations of the pending contact (applied as one run): one message each, one case
        for name in ("burst-1.be", "burst-2.be", "burst-3.be"):
            await publish(new_event(DomainCreated(name=name, tld="be", registrant="race-1", registered_at=clock.now()),
                                    registrar_id="a100001", correlation_id="race", clock=clock))
        later = [e["payload"] for e in await p.events("verification.required", "race-1", 4)]
        assert [(e["first"], e["case_id"]) for e in later[1:]] == [(False, required["case_id"])] * 3
        await publish(domain, b'{"event_type": "domain.created", "event_version": 1, "payload": {}}')
        dlq = f"{namespace}.verification.events.dlq"
        assert await eventually(lambda: queue_depth(dlq), lambda n: n == 1)
    finally:
        await connection.close()
    await asyncio.sleep(0.5)
    assert len(p.tap.of("verification.required")) == 4
    assert "verification_registrations_waited_total 1.0" in (await p.verification.get("/metrics")).text


async def test_a_registration_waiting_for_a_contact_first_seen_in_an_update(platform: Platform,
                                                                             namespace: str) -> None:
    """If the service never saw the contact's creation, the contact's next update releases what waited for it."""
    p, clock = platform, platform.clock
    domain = new_event(DomainCreated(name="late-seen.be", tld="be", registrant="race-2", registered_at=clock.now()),
                       registrar_id="a100001", correlation_id="race-2", clock=clock)
    update = new_event(ContactUpdated(alias="race-2", type="REGISTRANT", **dict(SUSPICIOUS)),
                       registrar_id="a100001", correlation_id="race-2", clock=clock)
    connection = await aio_pika.connect(AMQP_URL)
    try:
        exchange = await (await connection.channel()).get_exchange(f"{namespace}.registry.events")
        for event in (domain, update):
            await exchange.publish(aio_pika.Message(event.model_dump_json().encode(), message_id=str(event.event_id), user_id=AMQP_USER,
                                                    delivery_mode=aio_pika.DeliveryMode.PERSISTENT),
                                   routing_key=event.event_type)
            await asyncio.sleep(0.5)
        required = (await p.events("verification.required", "race-2"))[0]["payload"]
        assert required["domain"] == "late-seen.be" and required["first"]
    finally:
        await connection.close()


async def test_a_domain_registered_while_pending_whose_approval_wins_the_race(platform: Platform,
                                                                              namespace: str) -> None:
    """The registry holds a domain registered while its registrant is at the eID provider; the approval
    reaches the verification service before that domain's registration does. Reproduced deterministically:
    the registration's domain.created is published by hand after the approval, as a slow relay would. The
    domain still gets 'verification required' then 'approved', and is named to the registrant; the registry
    does not hold it again."""
    p, clock = platform, platform.clock
    me = await login(p.registry)
    await p.contact(me, "race-3", SUSPICIOUS)
    await p.domain(me, "race-first.be", "race-3")
    [required] = await p.events("verification.required", "race-3")
    await p.registry_contact(me, "race-3", "PENDING")
    # registered at the registry while pending: held at once (as override_at_creation does), its event delayed
    registered_at = clock.now()
    rctx = p.registry._transport.app.state.ctx  # type: ignore[attr-defined]
    await rctx.db["domains"].insert_one({
        "_id": "race-late.be", "name": "race-late.be", "tld": "be", "registrar_id": "a100001", "registrant": "race-3",
        "tech": [], "onsite": [], "contacts": ["race-3"], "name_servers": [], "nsgroups": [], "keygroups": [],
        "registered_at": registered_at, "expires_at": registered_at + timedelta(days=365), "status": "REGISTERED",
        "override": {"reason": "Registrant verification pending", "kind": "verification", "since": registered_at}})
    clock.advance(timedelta(minutes=5))
    done = await p.eid(p.token_of(required))
    assert done.json()["status"] == "APPROVED", done.text
    [approved] = await p.events("verification.approved", "race-3")
    assert approved["payload"]["domains"] == ["race-first.be"]
    await p.overridden(me, "race-late.be", False)  # the approval lifted the registry's hold

    late = new_event(DomainCreated(name="race-late.be", tld="be", registrant="race-3", registered_at=registered_at),
                     registrar_id="a100001", correlation_id="race-3", clock=clock)
    late = late.model_copy(update={"occurred_at": registered_at})
    connection = await aio_pika.connect(AMQP_URL)
    try:
        exchange = await (await connection.channel()).get_exchange(f"{namespace}.registry.events")
        await exchange.publish(aio_pika.Message(late.model_dump_json().encode(), message_id=str(late.event_id),
                                                user_id=AMQP_USER, delivery_mode=aio_pika.DeliveryMode.PERSISTENT),
                               routing_key=late.event_type)
    finally:
        await connection.close()
    second = (await p.events("verification.required", "race-3", 2))[1]["payload"]
    assert (second["domain"], second["first"], second["case_id"]) == ("race-late.be", False,
                                                                      required["payload"]["case_id"])
    again = (await p.events("verification.approved", "race-3", 2))[1]["payload"]
    assert (again["domains"], again["additional"], again["email"]) == (["race-late.be"], True, SUSPICIOUS["email"])
    await asyncio.sleep(1)
    assert not (await p.overridden(me, "race-late.be", False)).get("override_reason")  # not held again
    await p.registry_contact(me, "race-3", "VERIFIED")
    case = (await p.verification.get(f"/verify/{p.token_of(required)}")).json()
    assert sorted(case["domains"]) == ["race-first.be", "race-late.be"]
