"""'My registrations' in a real browser: contacts with their verification, domains (create with name servers,
search, the override banner of a suspicious registrant, lock with the registrant's request, delete with a date
and undelete), name-server groups, and the poll queue."""

from __future__ import annotations

from datetime import date, timedelta

from playwright.async_api import Page, expect

from tests.browser.conftest import Platform, Registrar, axe_check, open_menu, sign_in


async def fill_contact(page: Page, alias: str, kind: str, **fields: str) -> None:
    values = {"Name": "Veerle Peeters", "Street": "Kerkstraat 12", "Postal code": "3000", "City": "Leuven",
              "Phone": "+32.16123456", "E-mail": "veerle@example.be"} | fields
    await page.get_by_label("Alias").fill(alias)
    await page.get_by_label("Type").select_option(kind)
    for label, value in values.items():
        await page.get_by_label(label, exact=True).fill(value)
    await page.get_by_role("button", name="Create").click()


async def test_a_domain_registered_for_a_suspicious_registrant_shows_its_banner(
        page: Page, platform: Platform, registrar: Registrar) -> None:
    rid = registrar.registrar_id
    await sign_in(page, platform, rid, registrar.password)
    await open_menu(page, "Contacts")
    await axe_check(page)
    await page.get_by_role("link", name="New").click()
    await axe_check(page)
    # three scoring rules flag it: the phone's country, a disposable mailbox, a placeholder street
    await fill_contact(page, f"{rid}-s", "REGISTRANT", Street="asdf", Phone="+7.9161234567",
                       **{"E-mail": "fast@mailinator.com"})
    await expect(page.locator("#flash")).to_contain_text("has been created")

    await open_menu(page, "Domains")
    await page.get_by_role("link", name="New").click()
    await axe_check(page)
    await page.get_by_label("Domain name").fill(f"{rid}-shady.be")
    await page.get_by_label("Registrant (contact alias)").fill(f"{rid}-s")
    await page.get_by_label("Name servers").fill("ns1.example.net\nns2.example.net")
    await page.get_by_role("button", name="Create").click()
    await expect(page.locator("#flash")).to_contain_text("has been registered")

    for _ in range(150):  # verification scores it, the registry overrides the name servers
        if await page.locator("#override-banner").count():
            break
        await page.wait_for_timeout(200)
        await page.reload()
    await expect(page.locator("#override-banner")).to_contain_text("Registrant verification pending")
    await axe_check(page)
    await page.locator("main").get_by_role("link", name=f"{rid}-s").first.click()
    await expect(page.locator("#verification-banner")).to_contain_text("Registrant verification pending")
    await expect(page.locator("#verification-status")).to_have_text("PENDING")
    await page.get_by_role("button", name="Send the verification mail again").click()
    await expect(page.locator("#flash")).to_contain_text("sent to the registrant again")
    await axe_check(page)


async def test_domains_are_created_searched_locked_deleted_and_undeleted(
        page: Page, platform: Platform, registrar: Registrar) -> None:
    rid = registrar.registrar_id
    await sign_in(page, platform, rid, registrar.password)
    await page.goto(platform.console + "/contacts/new")
    await fill_contact(page, f"{rid}-r", "REGISTRANT")
    await expect(page.locator("#flash")).to_contain_text("has been created")

    await page.goto(platform.console + "/groups/nsgroups/new")
    await axe_check(page)
    await page.get_by_label("Name", exact=True).fill(f"{rid}-ns")
    await page.get_by_label("Name servers").fill("ns1.example.net\nns2.example.net")
    await page.get_by_role("button", name="Create").click()
    await expect(page.locator("#flash")).to_contain_text("has been created")

    for n in range(3):
        await page.goto(platform.console + "/domains/new")
        await page.get_by_label("Domain name").fill(f"{rid}-{n}.be")
        await page.get_by_label("Registrant (contact alias)").fill(f"{rid}-r")
        await page.get_by_label("Name server groups").fill(f"{rid}-ns")
        await page.get_by_label("Tech contacts").fill(f"{rid}-t")
        await page.get_by_role("button", name="Create").click()
        await expect(page.locator("#flash")).to_contain_text("has been registered")

    # a refused create (1 hitpoint): the code, the message, and the form as typed
    await page.goto(platform.console + "/domains/new")
    await page.get_by_label("Domain name").fill(f"{rid}-9.be")
    await page.get_by_label("Registrant (contact alias)").fill(f"{rid}-nobody")
    await page.get_by_role("button", name="Create").click()
    await expect(page.locator("#refusal")).to_contain_text("2303")
    await expect(page.get_by_label("Domain name")).to_have_value(f"{rid}-9.be")

    await open_menu(page, "Domains")
    await page.get_by_label("Name starts with").fill(f"{rid}-1")
    await page.get_by_role("button", name="Search").click()
    rows = page.locator("main table tbody tr")
    await expect(rows).to_have_count(1)
    await axe_check(page)
    await page.get_by_role("link", name=f"{rid}-1.be").click()
    await axe_check(page)

    await page.get_by_role("button", name="Request a transfer code").click()
    await expect(page.locator("#flash")).to_contain_text("mailed to the registrant")
    await page.get_by_role("button", name="Lock").click()  # no request given: refused, in words
    await expect(page.locator("#refusal")).to_be_visible()
    await page.get_by_label("The registrant's request").fill("ticket 2026-0042, signed form")
    await page.get_by_role("button", name="Lock").click()
    await expect(page.locator("#domain-status")).to_contain_text("clientTransferProhibited")


    later = (date.today() + timedelta(days=20)).isoformat()
    await page.get_by_label("Deletion date (empty: now)").fill(later)
    await page.get_by_role("button", name="Delete").click()
    await expect(page.locator("#delete-date")).to_be_visible()
    await page.get_by_role("button", name="Cancel the deletion (undelete)").click()
    await expect(page.locator("#flash")).to_have_text("The deletion has been cancelled.")
    await expect(page.locator("#delete-date")).to_have_count(0)

    await page.get_by_role("link", name="Update").click()
    await axe_check(page)
    await expect(page.get_by_label("Tech contacts")).to_have_value(f"{rid}-t")
    await page.get_by_label("Name server groups").fill("")
    await page.get_by_label("Name servers").fill("ns3.example.net\nns4.example.net")
    await page.get_by_role("button", name="Update").click()
    await expect(page.locator("main")).to_contain_text("ns3.example.net")

    await open_menu(page, "Name server groups")
    await expect(page.locator("main table")).to_contain_text(f"{rid}-ns")
    await axe_check(page)
    for screen in ("Key groups", "Lock complaints", "Messages", "Balance"):
        await open_menu(page, screen)
        await axe_check(page)
