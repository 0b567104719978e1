"""Flows of seed 000 driven in a real browser: a transfer in with the code the registrant received (refused first
for a wrong code), the losing registrar's poll message acknowledged on the Messages screen, a domain deleted
now and reactivated from quarantine, and product URLs with "Different url per language"."""

from __future__ import annotations

import re
import uuid
from typing import Any

from playwright.async_api import Page, expect

from tests.browser.conftest import (
    CONTACT,
    OPERATOR,
    Platform,
    Registrar,
    api_login,
    axe_check,
    new_registrar,
    open_menu,
    sign_in,
)
from tests.integration.infra import eventually

CODE = re.compile(r"\b\d{3}-\d{3}-\d{3}-\d{3}-\d{3}\b")


def body_of(mail: Any) -> str:
    part = mail.get_body(preferencelist=("plain",)) if mail.is_multipart() else mail
    return str(part.get_content())


async def reload_until(page: Page, selector: str, text: str, tries: int = 150) -> None:
    """Events reach the other services a moment later: reload until the screen shows them."""
    for _ in range(tries):
        if text in (await page.locator(selector).inner_text()):
            return
        await page.wait_for_timeout(200)
        await page.reload()
    await expect(page.locator(selector)).to_contain_text(text)


async def test_a_domain_is_transferred_in_with_the_code_and_the_loser_acknowledges_its_message(
        page: Page, platform: Platform, registrar: Registrar) -> None:
    gaining, losing = registrar, await new_registrar(platform)
    lid, email = losing.registrar_id, f"owner-{uuid.uuid4().hex[:8]}@example.be"
    domain = f"{lid}-moving.be"
    async with platform.http("registry") as registry:
        them = await api_login(registry, lid, losing.password)
        poll = await registry.put("/api/registrar/epp-settings", headers=them, json={"poll": True, "ip_addresses": []})
        assert poll.status_code == 200, poll.text  # its structured messages go to the poll queue, not by mail
        made = await registry.post("/api/contacts", headers=them,
                                   json=CONTACT | {"alias": f"{lid}-o", "type": "REGISTRANT", "email": email})
        assert made.status_code == 201, made.text
        made = await registry.post("/api/domains", headers=them, json={"name": domain, "registrant": f"{lid}-o"})
        assert made.status_code == 201, made.text
        asked = await registry.post(f"/api/domains/{domain}/transfer-code", headers=them, json={})
        assert asked.status_code == 200, asked.text

    async def mailed() -> list[Any]:
        return platform.mails.to(email)

    mails = await eventually(mailed, lambda m: any(CODE.search(body_of(x)) for x in m), timeout=60)
    code = next(CODE.search(body_of(m)) for m in mails if CODE.search(body_of(m))).group(0)  # type: ignore[union-attr]

    gid = gaining.registrar_id
    await sign_in(page, platform, gid, gaining.password)
    await open_menu(page, "Domains")
    await page.get_by_role("link", name="Transfer in").click()
    await axe_check(page)
    wrong = "000-000-000-000-000" if code != "000-000-000-000-000" else "111-111-111-111-111"
    await page.get_by_label("Domain name").fill(domain)
    await page.get_by_label("Transfer code").fill(wrong)
    await page.get_by_label("Registrant (contact alias, or #AUTO#)").fill("#AUTO#")
    await page.get_by_label("Tech contacts").fill(f"{gid}-t")
    await page.get_by_role("button", name="Transfer").click()
    await expect(page.locator("#refusal")).to_contain_text("2202")  # the code, in words, and the form as typed
    await expect(page.get_by_label("Domain name")).to_have_value(domain)
    await axe_check(page)
    await page.get_by_label("Transfer code").fill(code)
    await page.get_by_role("button", name="Transfer").click()
    await expect(page.locator("#flash")).to_contain_text("has been transferred to you")
    await expect(page.locator("h1")).to_contain_text(domain)
    await axe_check(page)

    await page.context.clear_cookies()  # the losing registrar signs in on the same browser
    await sign_in(page, platform, lid, losing.password)
    await open_menu(page, "Messages")
    await reload_until(page, "main", domain)  # "Transfer away executed", naming the domain
    before = int((await page.locator("#queue-count").inner_text()).split()[0])
    await axe_check(page)
    message = page.locator("main section.card", has_text=domain)
    await expect(message).to_contain_text("Transfer away executed")
    await message.get_by_role("button", name="Acknowledge").click()
    await expect(page.locator("#flash")).to_contain_text("acknowledged")
    await expect(page.locator("#queue-count")).to_contain_text(f"{before - 1} message")
    await expect(page.locator("main section.card", has_text=domain)).to_have_count(0)


async def test_a_domain_deleted_now_is_reactivated_and_product_urls_differ_per_language(
        page: Page, platform: Platform, registrar: Registrar) -> None:
    rid = registrar.registrar_id
    domain = f"{rid}-back.be"
    async with platform.http("registry") as registry:
        me = await api_login(registry, rid, registrar.password)
        made = await registry.post("/api/contacts", headers=me, json=CONTACT | {"alias": f"{rid}-r", "type": "REGISTRANT"})
        assert made.status_code == 201, made.text
        made = await registry.post("/api/domains", headers=me, json={"name": domain, "registrant": f"{rid}-r"})
        assert made.status_code == 201, made.text

    await sign_in(page, platform, rid, registrar.password)
    await page.goto(f"{platform.console}/domains/{domain}")
    await page.get_by_role("button", name="Delete").click()  # no date: now; the lifecycle job quarantines it
    await expect(page.locator("#flash")).to_contain_text("will be deleted on")
    async with platform.http("registry") as registry:
        assert (await registry.post("/api/operator/lifecycle/run", headers=OPERATOR)).status_code == 200
    await page.reload()
    await expect(page.locator("#domain-status")).to_contain_text("QUARANTINE")
    await axe_check(page)
    await page.get_by_role("button", name="Reactivate").click()
    await expect(page.locator("#flash")).to_contain_text("has been reactivated")
    await expect(page.locator("#domain-status")).not_to_contain_text("QUARANTINE")
    await expect(page.get_by_role("button", name="Reactivate")).to_have_count(0)

    await open_menu(page, "Product URLs")
    await axe_check(page)
    await page.locator("main").get_by_role("link", name="Update").click()
    await axe_check(page)
    await page.get_by_label("URL", exact=True).fill("https://registrar.example/be")
    await page.get_by_label("Different url per language").check()
    for name, lang in (("Dutch", "nl"), ("French", "fr"), ("English", "en")):
        await page.get_by_label(f"URL in {name}").fill(f"https://registrar.example/{lang}/be")
    await page.get_by_role("button", name="Update").click()
    await expect(page.locator("#flash")).to_contain_text("product URLs have been updated")
    table = page.locator("main table")
    for lang in ("nl", "fr", "en"):
        await expect(table.locator("tr", has_text=f"https://registrar.example/{lang}/be")).to_contain_text(lang)

    await page.locator("main").get_by_role("link", name="Update").click()  # one URL for every language again
    await expect(page.get_by_label("Different url per language")).to_be_checked()
    await page.get_by_label("Different url per language").uncheck()
    await page.get_by_role("button", name="Update").click()
    await expect(page.locator("#flash")).to_contain_text("product URLs have been updated")
    await expect(table).to_contain_text("https://registrar.example/be")
    await expect(table).not_to_contain_text("https://registrar.example/nl/be")
    await axe_check(page)
