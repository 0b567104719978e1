"""Staff pages and the registrant's pages in a real browser against the real services: staff sign in with
their 2-step code, act on a registrar, a domain and a blocked account, and find every action in the audit
trail with their name and the object before and after; a registrant opens the link the notifications service
mailed, verifies with the eID simulator, and the domain loses its override; support rejects an upload and the
registrant sees the note."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
from playwright.async_api import Browser, FilePayload, Page, expect

from services.registry.users.totp import code_at
from tests.browser.conftest import (
    OPERATOR,
    SCREENSHOTS,
    Platform,
    Registrar,
    api_login,
    axe_check,
    enter_code,
    sign_in,
)
from tests.integration.infra import MONGODB_URL, ROOT, eventually
from tests.integration.smtp_server import body_of

STAFF_PASSWORD = "Staff-Browser-2026"
# a 1x1 PNG: what a registrant's scan would be
PNG = bytes.fromhex("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c63f8cf"
                    "c0f01f0005000201a5f2b1e40000000049454e44ae426082")


def create_staff(platform: Platform, role: str) -> tuple[str, str]:
    """The bootstrap command of the README: `python -m services.registry.staff create ...`."""
    staff_id = f"{role[:3]}-{uuid.uuid4().hex[:6]}"
    env = os.environ | {"NAMESPACE": platform.namespace, "MONGODB_URL": MONGODB_URL, "STAFF_PASSWORD": STAFF_PASSWORD}
    done = subprocess.run([sys.executable, "-m", "services.registry.staff", "create", "--id", staff_id,
                           "--name", f"Test {role}", "--role", role], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    secret = re.search(r"2-step secret \(shown once\): ([A-Z2-7]+)", done.stdout)
    assert secret, done.stdout
    return staff_id, secret.group(1)


async def staff_sign_in(page: Page, platform: Platform, staff_id: str, code: str | None) -> None:
    """Page 1, staff id and password; page 2, the 2-step code (with `code`)."""
    await page.goto(platform.console + "/staff/login")
    await page.get_by_label("Staff ID").fill(staff_id)
    await page.get_by_label("Password").fill(STAFF_PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_load_state()
    if code:
        await enter_code(page, code)


async def staff_menu(page: Page, name: str) -> None:
    await page.get_by_role("navigation", name="Menu").get_by_role("link", name=name, exact=True).click()
    await page.wait_for_load_state()


GOOD = {"name": "Jan Janssens", "street": ["Kerkstraat 12"], "city": "Leuven", "postal_code": "3000", "country": "BE",
        "phone": "+32.16123456", "email": "jan@example.be", "language": "en"}


async def registrar_api(platform: Platform, registrar: Registrar) -> dict[str, str]:
    """The registrar's API token, and a registrant contact `<registrar>-reg` of good standing."""
    async with platform.http("registry") as registry:
        headers = await api_login(registry, registrar.registrar_id, registrar.password)
        made = await registry.post("/api/contacts", headers=headers,
                                   json=GOOD | {"alias": f"{registrar.registrar_id}-reg", "type": "REGISTRANT"})
        assert made.status_code == 201, made.text
        return headers


async def suspicious_registration(platform: Platform, headers: dict[str, str], language: str) -> tuple[str, str, str]:
    """A registrant three scoring rules flag, and a domain for it: its name servers are overridden and the
    registrant is mailed the verification link. Returns the alias, the domain and the mailed link."""
    alias, email = f"s{uuid.uuid4().hex[:8]}", f"holder-{uuid.uuid4().hex[:8]}@mailinator.com"
    domain = f"suspect-{uuid.uuid4().hex[:8]}.be"
    contact = {"alias": alias, "type": "REGISTRANT", "name": "Veerle Peeters", "street": ["asdf"], "city": "Leuven",
               "postal_code": "3000", "country": "BE", "phone": "+7.9161234567", "email": email, "language": language}
    async with platform.http("registry") as registry:
        assert (await registry.post("/api/contacts", headers=headers, json=contact)).status_code == 201
        r = await registry.post("/api/domains", headers=headers, json={"name": domain, "registrant": alias})
        assert r.status_code == 201, r.text

    async def mailed() -> list[Any]:
        return platform.mails.to(email)

    mails = await eventually(mailed, lambda m: len(m) > 0, timeout=60)
    link = re.search(r"https?://\S+/verify/[A-Za-z0-9_-]+", body_of(mails[0]))
    assert link and link.group(0).startswith(platform.console), body_of(mails[0])
    return alias, domain, link.group(0)


async def override_of(platform: Platform, headers: dict[str, str], domain: str, expected: bool) -> dict[str, Any]:
    async with platform.http("registry") as registry:
        async def probe() -> dict[str, Any]:
            return (await registry.get(f"/api/domains/{domain}", headers=headers)).json()  # type: ignore[no-any-return]

        return await eventually(probe, lambda d: bool(d.get("override_reason")) is expected, timeout=60)


async def test_staff_sign_in_with_two_step_act_and_find_it_in_the_audit_trail(
        page: Page, platform: Platform, registrar: Registrar) -> None:
    operator_id, secret = create_staff(platform, "operator")
    rid = registrar.registrar_id
    headers = await registrar_api(platform, registrar)

    # the 2-step code is required, and a wrong one refused
    await page.goto(platform.console + "/staff")
    await expect(page.get_by_role("heading", name="Staff sign-in")).to_be_visible()
    await axe_check(page)
    await staff_sign_in(page, platform, operator_id, None)
    await expect(page).to_have_url(f"{platform.console}/staff/login/code")
    await expect(page.locator("#code-step-who")).to_contain_text(operator_id)
    await axe_check(page)
    await enter_code(page, "000000")
    await expect(page.locator("#login-error")).to_contain_text("Wrong 2-step code")
    await axe_check(page)
    await enter_code(page, code_at(secret, datetime.now(UTC)))  # page 2 again, the right code
    await expect(page.locator("#staff-who")).to_have_text(operator_id)
    await axe_check(page)

    # a registrar: withdraw its lock function, suspend it and make it active again
    await staff_menu(page, "Registrars")
    await axe_check(page)
    await page.get_by_role("link", name=rid, exact=True).click()
    await expect(page.get_by_role("heading", name=re.compile(f"Registrar {rid}"))).to_be_visible()
    await axe_check(page)
    await page.get_by_role("button", name="Withdraw the lock function").click()
    await expect(page.locator("#flash")).to_contain_text("Lock function withdrawn")
    await expect(page.locator("#lock-function")).to_have_text("withdrawn")
    await page.get_by_label("New status").select_option("SUSPENDED")
    await page.get_by_role("button", name="Set status").click()
    await expect(page.locator("#registrar-status")).to_have_text("SUSPENDED")
    await page.get_by_label("New status").select_option("ACTIVE")
    await page.get_by_role("button", name="Set status").click()
    await expect(page.locator("#registrar-status")).to_have_text("ACTIVE")
    # the official address: a bad phone is refused in words, and nothing changes
    await page.get_by_label("Phone (+CC.NUMBER)").fill("0032 16 12")
    await page.get_by_role("button", name="Save the official address").click()
    await expect(page.locator("#flash")).to_contain_text("phone")

    # a domain: a server status, set from the keyboard
    domain = f"guarded-{uuid.uuid4().hex[:6]}.be"
    async with platform.http("registry") as registry:
        made = await registry.post("/api/domains", headers=headers, json={"name": domain, "registrant": f"{rid}-reg"})
        assert made.status_code == 201, made.text
    await staff_menu(page, "Domains")
    await page.get_by_label("Domain name").fill(domain)
    await page.get_by_label("Domain name").press("Enter")
    await expect(page.get_by_role("heading", name=domain)).to_be_visible()
    await axe_check(page)
    await page.get_by_role("button", name="Set serverTransferProhibited").focus()
    await page.keyboard.press("Enter")
    await expect(page.locator("#domain-statuses")).to_contain_text("serverTransferProhibited")

    # a blocked registrar: a refused create of a taken name scores 10 (the test limit is 5) -> blocked
    async with platform.http("registry") as registry:
        again = await registry.post("/api/domains", headers=headers, json={"name": domain, "registrant": f"{rid}-reg"})
        assert again.status_code == 409, again.text
    async with platform.http("hitpoints") as hitpoints:
        async def standing() -> dict[str, Any]:
            return (await hitpoints.get(f"/api/operator/hitpoints/{rid}", headers=OPERATOR)).json()  # type: ignore[no-any-return]

        await eventually(standing, lambda s: s.get("blocked") is True, timeout=60)
    await page.goto(f"{platform.console}/staff/registrars/{rid}")
    await expect(page.locator("#hp-blocked")).to_contain_text("yes")
    await page.get_by_role("button", name="Unblock").click()
    await expect(page.locator("#flash")).to_contain_text("Unblocked")
    await expect(page.locator("#hp-blocked")).to_have_text("no")

    # the audit trail: every action, under the operator's name, with before and after
    await staff_menu(page, "Audit trail")
    await page.get_by_label("Registrar, domain, case …").fill(rid)
    await page.get_by_role("button", name="Filter").click()
    trail = page.locator("#audit")
    await axe_check(page)
    await expect(trail).to_contain_text("PUT /api/operator/registrars/{registrar_id}/lock-function")
    await expect(trail).to_contain_text("PUT /api/operator/registrars/{registrar_id}/status")
    await expect(trail).to_contain_text("POST /api/operator/hitpoints/{registrar_id}/unblock")
    await expect(trail).to_contain_text("PUT /api/operator/registrars/{registrar_id}/official-address")
    lock_row = trail.locator("tr", has_text="lock-function")
    await expect(lock_row).to_contain_text(operator_id)
    await expect(lock_row).to_contain_text("lock_function")
    await expect(lock_row).to_contain_text("false")
    await expect(trail.locator("tr", has_text="official-address")).to_contain_text("refused 422")
    # the API agrees: who, and before/after
    async with platform.http("registry") as registry:
        entries = (await registry.get("/api/operator/audit", headers=OPERATOR, params={"subject": rid})).json()
    lock = next(e for e in entries if e["action"].endswith("/lock-function"))
    assert (lock["actor"], lock["before"]["lock_function"], lock["after"]["lock_function"]) == (operator_id, True, False)
    statuses = [(e["before"]["status"], e["after"]["status"]) for e in entries if e["action"].endswith("/status")]
    assert ("SUSPENDED", "ACTIVE") in statuses and ("ACTIVE", "SUSPENDED") in statuses

    # signed out: the staff pages ask to sign in again
    await page.get_by_role("button", name="Sign out").click()
    await expect(page.get_by_role("heading", name="Staff sign-in")).to_be_visible()
    await page.goto(platform.console + "/staff/audit")
    await expect(page.get_by_role("heading", name="Staff sign-in")).to_be_visible()


async def test_the_registrant_opens_the_mailed_link_and_verifies_with_eid(
        page: Page, browser: Browser, platform: Platform, registrar: Registrar) -> None:
    headers = await registrar_api(platform, registrar)
    _, domain, link = await suspicious_registration(platform, headers, "nl")
    await override_of(platform, headers, domain, True)
    # the registrar's domain view shows the override banner
    registrar_context = await browser.new_context(bypass_csp=True)
    registrar_page = await registrar_context.new_page()
    await sign_in(registrar_page, platform, registrar.registrar_id, registrar.password)
    await registrar_page.goto(f"{platform.console}/domains/{domain}")
    await expect(registrar_page.locator("#override-banner")).to_be_visible()

    # the contact's language first, with a switch
    await page.goto(link)
    await expect(page.get_by_role("heading", name="Bevestig uw identiteit")).to_be_visible()
    await expect(page.locator("#domains")).to_contain_text(domain)
    await axe_check(page)
    # a refused upload is said in Dutch and changes nothing (the attempts left stay 3, below)
    await page.get_by_label("Documenten", exact=True).set_input_files(
        [FilePayload(name="paspoort.png", mimeType="image/png", buffer=b"not a picture")])
    await page.get_by_role("button", name="Opladen").click()
    await expect(page.locator("#refusal")).to_contain_text("paspoort.png: de inhoud van het bestand past niet bij")
    await axe_check(page)
    await page.get_by_label("Taal").select_option("en")
    await page.get_by_role("button", name="OK").click()
    await expect(page.get_by_role("heading", name="Verify your identity")).to_be_visible()
    await expect(page.locator("#attempts-left")).to_have_text("3")
    await expect(page.get_by_text("Accepted: PDF, JPEG, PNG")).to_be_visible()
    await expect(page.get_by_role("link", name="support@registry.example")).to_be_visible()
    await axe_check(page)

    await page.get_by_role("button", name="Verify with eID").click()
    await expect(page.get_by_role("heading", name="Electronic identification")).to_be_visible()
    await axe_check(page)
    await page.get_by_role("link", name="Continue to the identification").click()
    await page.get_by_role("link", name=re.compile("identify")).click()  # the simulated provider's page
    await page.wait_for_load_state()
    assert page.url.startswith(platform.console + "/verify/eid/callback"), page.url
    await expect(page.locator("#outcome")).to_contain_text("Your identity is verified.")
    await axe_check(page)

    # the registrar's domain view loses its banner: the override is lifted
    assert (await override_of(platform, headers, domain, False)).get("override_reason") is None

    async def banners() -> int:
        await registrar_page.reload()
        return await registrar_page.locator("#override-banner").count()

    try:
        await eventually(banners, lambda n: n == 0, timeout=30)
        await expect(registrar_page.get_by_role("heading", name=domain)).to_be_visible()
    finally:
        await registrar_context.close()


async def test_support_rejects_an_upload_and_the_registrant_sees_the_note(
        page: Page, browser: Browser, platform: Platform, registrar: Registrar) -> None:
    headers = await registrar_api(platform, registrar)
    alias, _, link = await suspicious_registration(platform, headers, "en")

    await page.goto(link)
    await page.get_by_label("Documents", exact=True).set_input_files(
        [FilePayload(name="passport.png", mimeType="image/png", buffer=PNG)])
    await page.get_by_role("button", name="Upload").click()
    await expect(page.locator("#outcome")).to_contain_text("Your documents are being reviewed")
    await axe_check(page)

    support_id, secret = create_staff(platform, "support")
    context = await browser.new_context(bypass_csp=True)
    staff = await context.new_page()
    try:
        await staff_sign_in(staff, platform, support_id, code_at(secret, datetime.now(UTC)))
        # support's menu: no operator pages
        menu = staff.get_by_role("navigation", name="Menu")
        await expect(menu.get_by_role("link", name="Verification queue")).to_be_visible()
        await expect(menu.get_by_role("link", name="Audit trail")).to_have_count(0)
        await staff_menu(staff, "Verification queue")
        await axe_check(staff)
        await staff.get_by_role("row", name=re.compile(alias)).get_by_role("link").click()
        await expect(staff.locator("#case-status")).to_have_text("IN_REVIEW")
        await axe_check(staff)
        document = staff.get_by_role("link", name="passport.png")
        href = await document.get_attribute("href")
        shown = await staff.request.get(platform.console + str(href))
        assert shown.status == 200 and await shown.body() == PNG
        await staff.get_by_label("Reject").check()
        await staff.get_by_label("Note to the registrant").fill("The name on the passport is not the registrant's.")
        await staff.get_by_role("button", name="Record the decision").click()
        await expect(staff.locator("#flash")).to_contain_text("Rejected")
        SCREENSHOTS.mkdir(exist_ok=True)
        await staff.screenshot(path=str(SCREENSHOTS / "support_rejects_an_upload.png"), full_page=True)
    finally:
        await context.close()

    await page.goto(link)
    await expect(page.locator("#outcome")).to_contain_text("Your verification was rejected.")
    await expect(page.locator("#support-note")).to_have_text("The name on the passport is not the registrant's.")
    await expect(page.get_by_role("heading", name="How to try again")).to_be_visible()
    await axe_check(page)

    # the decision is in the verification service's trail under support's name, with before and after
    async with httpx.AsyncClient(base_url=platform.urls["verification"]) as verification:
        trail = (await verification.get("/api/operator/audit", headers=OPERATOR, params={"actor": support_id})).json()
        review = next(e for e in trail if e["action"].endswith("/review"))
        assert (review["role"], review["before"]["status"], review["after"]["status"]) == ("support", "IN_REVIEW",
                                                                                           "FAILED")
        assert review["request"]["decision"] == "reject"
        # viewing the documents is written down too
        assert any(e["action"].startswith("GET ") and e["action"].endswith("/documents/{document_id}") for e in trail)
        # and the case's own history names who decided
        case = (await verification.get(f"/api/support/verification/cases/{review['params']['case_id']}",
                                       headers=OPERATOR)).json()["case"]
    assert (case["history"][-1]["by"], case["history"][-1]["status"]) == (support_id, "FAILED")


async def test_operators_onboard_a_registrar_decide_a_lock_complaint_and_manage_staff(
        page: Page, platform: Platform, registrar: Registrar) -> None:
    operator_id, secret = create_staff(platform, "operator")
    headers = await registrar_api(platform, registrar)
    await staff_sign_in(page, platform, operator_id, code_at(secret, datetime.now(UTC)))

    # an application, then its onboarding steps
    await staff_menu(page, "Applications")
    await axe_check(page)
    organisation = f"Applicant {uuid.uuid4().hex[:6]} BV"
    for label, value in (("Official name of the organisation", organisation), ("Representative's first name", "An"),
                         ("Representative's last name", "Smet"), ("Street and number", "Markt 1"),
                         ("Postal code", "2000"), ("City", "Antwerpen"), ("Country code", "BE"),
                         ("Phone", "+32.31234567"), ("Mobile", "+32.475123456"), ("E-mail", "office@applicant.example"),
                         ("Website", "https://applicant.example"), ("VAT number", "BE0466158640")):
        await page.get_by_label(label).fill(value)
    await page.get_by_role("button", name="Record the application").click()
    await expect(page.locator("#flash")).to_contain_text("Application recorded.")
    await expect(page.locator("#application-status")).to_have_text("APPLIED")
    await axe_check(page)
    await page.get_by_role("button", name="The contract is signed").click()
    await expect(page.locator("#security-code")).to_contain_text("shown this once")
    code = (await page.locator("#security-code .code").inner_text()).strip()
    assert re.fullmatch(r"[0-9 -]{12,}", code), code
    await expect(page.locator("#application-status")).to_have_text("CONTRACT_SIGNED")
    await axe_check(page)
    await page.get_by_label("Amount received (EUR)").fill("2500")
    await page.get_by_role("button", name="Book the prepayment").click()
    await expect(page.locator("#application-status")).to_have_text("PREPAYMENT_RECEIVED")

    # a lock complaint on a locked domain, then the decision
    domain = f"locked-{uuid.uuid4().hex[:6]}.be"
    rid = registrar.registrar_id
    async with platform.http("registry") as registry:
        assert (await registry.post("/api/domains", headers=headers,
                                    json={"name": domain, "registrant": f"{rid}-reg"})).status_code == 201
        locked = await registry.put(f"/api/domains/{domain}/transfer-lock", headers=headers,
                                    json={"registrant_request": "ticket 4711"})
        assert locked.status_code == 204, locked.text
    await page.goto(f"{platform.console}/staff/domains/{domain}")
    await expect(page.locator("#domain-statuses")).to_contain_text("clientTransferProhibited")
    await page.get_by_label("Who complained, and why *").fill("The registrant says it never asked for a lock.")
    await page.get_by_role("button", name="File the complaint").click()
    await expect(page.locator("#flash")).to_contain_text("Lock complaint filed")
    await staff_menu(page, "Lock complaints")
    await axe_check(page)
    row = page.get_by_role("row", name=re.compile(re.escape(domain)))
    await row.get_by_role("button", name="Reject (lift the lock)").click()
    await expect(page.locator("#flash")).to_contain_text("Rejected: the client lock is lifted.")
    await page.goto(f"{platform.console}/staff/domains/{domain}")
    await expect(page.locator("#domain-statuses")).not_to_contain_text("clientTransferProhibited")

    # staff accounts: a new support member gets a 2-step QR code once; then disabled
    await staff_menu(page, "Staff accounts")
    await axe_check(page)
    newcomer = f"sup-{uuid.uuid4().hex[:6]}"
    await page.get_by_label("Staff ID").fill(newcomer)
    await page.get_by_label(re.compile(r"^Name")).fill("New Support")
    await page.get_by_label("Password").fill("Weak")
    await page.get_by_role("button", name="Create the account").click()
    await expect(page.locator("#refusal")).to_contain_text("12 characters")
    await page.get_by_label("Staff ID").fill(newcomer)
    await page.get_by_label(re.compile(r"^Name")).fill("New Support")
    await page.get_by_label("Password").fill(STAFF_PASSWORD)
    await page.get_by_role("button", name="Create the account").click()
    await expect(page.get_by_role("img", name="QR code for your authenticator app")).to_be_visible()
    new_secret = (await page.locator("#new-totp-secret").inner_text()).strip()
    await axe_check(page)
    await page.get_by_role("button", name=f"Disable {newcomer}").click()
    await expect(page.locator("#flash")).to_contain_text(f"{newcomer} disabled")

    await staff_menu(page, "Support notices")
    await axe_check(page)

    # all of it in the trail, and no secret there
    await staff_menu(page, "Audit trail")
    trail = page.locator("#audit")
    await expect(trail).to_contain_text("POST /api/operator/applications/{application_id}/contract")
    await expect(trail).to_contain_text("POST /api/operator/lock-complaints/{complaint_id}/decision")
    await expect(trail).to_contain_text("PUT /api/operator/staff/{staff_id}/active")
    text = await trail.inner_text()
    assert code not in text and new_secret not in text and STAFF_PASSWORD not in text


async def test_staff_wrong_codes_pause_the_sign_in_in_words(page: Page, platform: Platform) -> None:
    support_id, secret = create_staff(platform, "support")
    await staff_sign_in(page, platform, support_id, None)
    for _ in range(5):
        await enter_code(page, "000000")
        await expect(page.locator("#login-error")).to_contain_text("Wrong 2-step code")
    await enter_code(page, code_at(secret, datetime.now(UTC)))
    await expect(page.locator("#login-error")).to_contain_text("sign-in is paused for 15 minutes")
    await axe_check(page)
    await staff_sign_in(page, platform, support_id, None)  # page 1 says it too
    await expect(page.locator("#login-error")).to_contain_text("sign-in is paused for 15 minutes")
