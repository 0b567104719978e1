"""The 'Registrar' screens of seed 000 in a real browser: profile, EPP settings, users and the read-only menu,
hitpoints with the block banner and the monthly UNBLOCK, Top 100, change password, login attempts."""

from __future__ import annotations

from playwright.async_api import Page, expect

from tests.browser.conftest import HITPOINT_LIMIT, Platform, Registrar, axe_check, open_menu, sign_in


async def test_a_profile_update_is_refused_for_a_bad_phone_then_accepted(page: Page, platform: Platform,
                                                                        registrar: Registrar) -> None:
    await sign_in(page, platform, registrar.registrar_id, registrar.password)
    await open_menu(page, "Profile")
    await expect(page.get_by_role("heading", name="Official address")).to_be_visible()
    await expect(page.get_by_text("You can't update it yourself")).to_be_visible()
    await expect(page.get_by_text("Your VAT number can't be changed here")).to_be_visible()
    await axe_check(page)
    await page.get_by_role("link", name="Update").click()
    await axe_check(page)

    await page.get_by_label("Phone", exact=True).fill("016 28 49 70")
    await page.get_by_label("City").fill("Heverlee")
    await page.get_by_role("button", name="Update").click()
    # the error in words, next to the field; what was typed stays
    await expect(page.locator("#f-phone-error")).to_contain_text("+CC.NUMBER, for example +32.16284971")
    await expect(page.get_by_label("City")).to_have_value("Heverlee")
    await expect(page.locator("#refusal")).to_be_visible()
    await axe_check(page)
    await open_menu(page, "Profile")
    await expect(page.locator("#profile-phone")).to_have_text("+32.16284970")  # nothing changed

    await page.get_by_role("link", name="Update").click()
    await page.get_by_label("Phone", exact=True).fill("+32.16284971")
    await page.get_by_role("button", name="Update").click()
    await expect(page.locator("#flash")).to_have_text("Your profile has been updated.")
    await expect(page.locator("#profile-phone")).to_have_text("+32.16284971")


async def test_eleven_epp_addresses_are_refused_ten_accepted(page: Page, platform: Platform,
                                                             registrar: Registrar) -> None:
    await sign_in(page, platform, registrar.registrar_id, registrar.password)
    await open_menu(page, "EPP settings")
    await axe_check(page)
    await page.get_by_role("link", name="Update").click()
    await page.get_by_label("Use EPP poll").check()
    await page.get_by_label("IP addresses").fill("\n".join(f"192.0.2.{i}" for i in range(1, 12)))
    await page.get_by_role("button", name="Update").click()
    await expect(page.locator("#f-ip-error")).to_contain_text("at most 10 IP addresses")
    await axe_check(page)
    await open_menu(page, "EPP settings")
    await expect(page.locator("#epp-ips")).to_have_text("none")

    await page.get_by_role("link", name="Update").click()
    await page.get_by_label("Use EPP poll").check()
    await page.get_by_label("IP addresses").fill("\n".join(f"192.0.2.{i}" for i in range(1, 11)))
    await page.get_by_role("button", name="Update").click()
    await expect(page.locator("#flash")).to_have_text("Your EPP settings have been updated.")
    await expect(page.locator("#epp-poll")).to_have_text("enabled")
    await expect(page.locator("#epp-ips")).to_contain_text("192.0.2.10")


async def test_a_user_with_only_access_to_my_registrations_gets_a_read_only_menu(
        page: Page, platform: Platform, registrar: Registrar) -> None:
    await sign_in(page, platform, registrar.registrar_id, registrar.password)
    await open_menu(page, "Users")
    await axe_check(page)
    await page.get_by_role("link", name="New").click()
    await axe_check(page)
    await page.get_by_label("User ID").fill("reader")
    await page.get_by_label("Password").fill("Reader-Pass-1")
    await page.get_by_role("button", name="Create").click()
    await expect(page.locator("#flash")).to_have_text("User reader has been created.")
    await expect(page.get_by_role("button", name="Temp 2-step")).to_be_visible()
    await axe_check(page)
    await page.get_by_role("button", name="Temp 2-step").click()
    await expect(page.locator("#temporary-key")).to_contain_text("valid for 90 seconds")
    # the administrator has no temporary key
    await page.goto(platform.console + f"/registrar/users/{registrar.registrar_id}")
    await expect(page.get_by_role("button", name="Temp 2-step")).to_have_count(0)
    await page.get_by_role("button", name="Sign out").click()

    await sign_in(page, platform, "reader", "Reader-Pass-1")
    menu = page.get_by_role("navigation", name="Menu")
    for shown in ("Profile", "Hitpoints", "Top 100", "Domains", "Contacts", "Reports", "Change password"):
        await expect(menu.get_by_role("link", name=shown, exact=True)).to_be_visible()
    for hidden in ("Users", "Balance"):
        await expect(menu.get_by_role("link", name=hidden, exact=True)).to_have_count(0)
    await expect(page.get_by_text("You have read-only access")).to_be_visible()
    for item in ("Profile", "Domains", "Contacts", "EPP settings"):
        await open_menu(page, item)
        await expect(page.locator("main").get_by_role("link", name="Update")).to_have_count(0)
        await expect(page.locator("main").get_by_role("link", name="New")).to_have_count(0)
    # typed in by hand: still refused, by the API
    await page.goto(platform.console + "/registrar/profile/edit")
    await expect(page.locator("main")).to_contain_text("no permission")


async def test_faulty_commands_block_the_registrar_the_banner_shows_everywhere_and_unblock_works_once(
        page: Page, platform: Platform, registrar: Registrar) -> None:
    await sign_in(page, platform, registrar.registrar_id, registrar.password)

    async def faulty_contact(n: int) -> None:
        await page.goto(platform.console + "/contacts/new")
        await page.get_by_label("Alias").fill("x")  # too short: refused by the registry's rules, 1 hitpoint
        for label, value in (("Name", "Jan"), ("Street", "Straat 1"), ("Postal code", "3000"), ("City", "Leuven"),
                             ("Phone", "+32.16123456"), ("E-mail", "jan@example.be")):
            await page.get_by_label(label, exact=True).fill(value)
        await page.get_by_role("button", name="Create").click()
        await expect(page.locator("#refusal")).to_be_visible()

    async def blocked() -> None:
        for _ in range(100):
            await page.goto(platform.console + "/registrar/hitpoints")
            if await page.locator("#block-banner").count():
                return
            await page.wait_for_timeout(200)
        raise AssertionError("the registrar was not blocked")

    for n in range(HITPOINT_LIMIT):
        await faulty_contact(n)
    await expect(page.locator("#refusal")).to_contain_text("Result code")
    await blocked()
    await expect(page.locator("#hp-until")).to_contain_text("CE")  # CET or CEST
    await expect(page.locator("#offending")).to_contain_text("NEW_CONTACT")
    await axe_check(page)
    for item in ("Profile", "Domains", "Contacts", "Top 100", "Reports", "Messages", "Change password"):
        await open_menu(page, item)
        await expect(page.locator("#block-banner")).to_contain_text("Your account is blocked until")
    await axe_check(page)

    await open_menu(page, "Hitpoints")
    await page.get_by_role("button", name="UNBLOCK").click()
    await expect(page.locator("#flash")).to_contain_text("unblocked")
    await expect(page.locator("#block-banner")).to_have_count(0)
    await expect(page.locator("#hp-count")).to_have_text("0")
    await expect(page.locator("#hp-unblocks")).to_have_text("1")

    # blocked again: the month's self-unblock is used, so no button
    for n in range(HITPOINT_LIMIT):
        await faulty_contact(n)
    await blocked()
    await expect(page.get_by_role("button", name="UNBLOCK")).to_have_count(0)
    await expect(page.locator("#no-unblock")).to_contain_text("contact DNS Belgium")


async def test_top_100_highlights_the_registrars_own_row_and_the_password_screens(
        page: Page, platform: Platform, registrar: Registrar) -> None:
    await sign_in(page, platform, registrar.registrar_id, registrar.password)
    await open_menu(page, "Top 100")
    await axe_check(page)
    await open_menu(page, "Top 30")
    await axe_check(page)
    await open_menu(page, "Change password")
    await expect(page.get_by_role("heading", name="Modify your EPP password")).to_be_visible()
    await axe_check(page)
    await page.get_by_label("Current password").fill(registrar.password)
    await page.get_by_label("New password", exact=True).fill("Changed-Pass-2")
    await page.get_by_label("New password again", exact=True).fill("Changed-Pass-3")
    await page.locator("form[action='/registrar/password/web'] button").click()
    await expect(page.locator("main")).to_contain_text("the same both times")
    await page.get_by_label("Current password").fill(registrar.password)
    await page.get_by_label("New password", exact=True).fill("Changed-Pass-2")
    await page.get_by_label("New password again", exact=True).fill("Changed-Pass-2")
    await page.locator("form[action='/registrar/password/web'] button").click()
    await expect(page.locator("#flash")).to_have_text("Your password has been changed.")
    await open_menu(page, "Login attempts")
    await expect(page.locator("main table")).to_contain_text("success")
    await axe_check(page)


async def test_a_services_refusal_is_said_in_dutch_and_french_with_its_code_and_reference(
        page: Page, platform: Platform, registrar: Registrar) -> None:
    """The registry answers in English; the console says its field errors and the result code's meaning in the
    page's language, and keeps the result code, the reference and the registry's own words."""
    await sign_in(page, platform, registrar.registrar_id, registrar.password)
    await page.get_by_label("Language").select_option("nl")
    await page.get_by_role("button", name="OK").click()
    await open_menu(page, "Profiel")
    await page.get_by_role("link", name="Bijwerken").click()
    await page.get_by_label("Telefoon", exact=True).fill("016 28 49 70")
    await page.get_by_role("button", name="Bijwerken").click()
    await expect(page.locator("#f-phone-error")).to_have_text("gebruik het formaat +LL.NUMMER, bijvoorbeeld +32.16284971")
    refusal = page.locator("#refusal")
    await expect(refusal).to_contain_text("Sommige velden hebben niet het verwachte formaat.")
    await expect(refusal).to_contain_text("Resultaatcode: 2005")
    await expect(refusal).to_contain_text("Referentie: web-")
    await axe_check(page)

    # in French, a rule's refusal: the meaning of 2303, the registry's words beside it, and the reference
    await page.locator("#language-switch").select_option("fr")
    await page.get_by_role("button", name="OK").click()
    await page.goto(platform.console + "/domains/new")
    await page.get_by_label("Nom de domaine").fill(f"{registrar.registrar_id}-fr.be")
    await page.get_by_label("Titulaire (alias du contact)").fill(f"{registrar.registrar_id}-nobody")
    await page.get_by_role("button", name="Créer").click()
    await expect(refusal).to_contain_text("Cet objet n'existe pas.")
    await expect(refusal).to_contain_text("Code de résultat: 2303")
    await expect(page.locator("#refusal-detail")).to_contain_text(f"{registrar.registrar_id}-nobody")
    await expect(page.locator("#refusal-detail")).to_have_attribute("lang", "en")
    await axe_check(page)
