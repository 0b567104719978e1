"""Signing in to the console in two steps: page 1 the user id and password, page 2 the 2-step code once it is
set up (QR code screen), a wrong code refused on page 2, the code typed and sent by keyboard alone; sign out;
the login pause in words on both pages; page 2 in Dutch; CSRF on the forms."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
from playwright.async_api import Page, expect

from services.registry.users.totp import code_at
from tests.browser.conftest import Platform, Registrar, api_login, axe_check, enter_code, open_menu, sign_in


async def two_step_of(platform: Platform, registrar: Registrar) -> str:
    """Sets up 2-step for the registrar's administrator over the API; returns its secret."""
    async with platform.http("registry") as registry:
        me = await api_login(registry, registrar.registrar_id, registrar.password)
        made = await registry.post("/api/registrar/two-step", headers=me)
        assert made.status_code == 200, made.text
        return str(made.json()["totp_secret"])


async def test_sign_in_with_two_step(page: Page, platform: Platform, registrar: Registrar) -> None:
    await sign_in(page, platform, registrar.registrar_id, registrar.password)  # no 2-step yet: page 1 does
    await expect(page.get_by_role("navigation", name="Menu")).to_be_visible()
    await axe_check(page)

    await open_menu(page, "2-step verification")
    await axe_check(page)
    await page.get_by_role("button", name="Set up 2-step verification").click()
    await expect(page.get_by_role("img", name="QR code for your authenticator app")).to_be_visible()
    secret = (await page.locator("#totp-secret").inner_text()).strip()
    await axe_check(page)
    await page.get_by_role("button", name="Sign out").click()
    await expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    await axe_check(page)

    # a wrong password stays on page 1, said as for an unknown user
    await sign_in(page, platform, registrar.registrar_id, "Wrong-Password-1")
    await expect(page.locator("#login-error")).to_contain_text("Wrong user ID or password")
    await expect(page.get_by_label("2-step code")).to_have_count(0)

    # the right password leads to page 2; a wrong code is refused there, and page 2 stays
    await sign_in(page, platform, registrar.registrar_id, registrar.password)
    await expect(page).to_have_url(f"{platform.console}/login/code")
    await expect(page.get_by_role("heading", name="2-step verification")).to_be_visible()
    await expect(page.locator("#code-step-who")).to_contain_text(registrar.registrar_id)
    await expect(page.get_by_role("navigation", name="Menu")).to_have_count(0)  # not signed in yet
    await axe_check(page)
    await enter_code(page, "000000")
    await expect(page.locator("#login-error")).to_contain_text("Wrong 2-step code")
    await expect(page.get_by_label("2-step code")).to_be_visible()
    await axe_check(page)

    # the field is reached and the form sent with the keyboard alone
    for _ in range(20):
        if await page.evaluate("document.activeElement && document.activeElement.id") == "f-code":
            break
        await page.keyboard.press("Tab")
    assert await page.evaluate("document.activeElement.id") == "f-code", "the code field is not reachable by Tab"
    await page.keyboard.type(code_at(secret, datetime.now(UTC)))
    await page.keyboard.press("Enter")
    await page.wait_for_load_state()
    await expect(page.locator(".who")).to_contain_text(registrar.registrar_id)
    await expect(page.get_by_role("navigation", name="Menu").get_by_role("link", name="Hitpoints")).to_be_visible()

    # the pending sign-in was used up: page 2 again sends back to page 1
    await page.get_by_role("button", name="Sign out").click()
    await page.goto(platform.console + "/login/code")
    await expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    await expect(page.locator("#flash")).to_contain_text("Your sign-in has expired")


async def test_page_two_in_dutch(page: Page, platform: Platform, registrar: Registrar) -> None:
    await two_step_of(platform, registrar)
    await page.goto(platform.console + "/login")
    await page.get_by_label("Language").select_option("nl")
    await page.get_by_role("button", name="OK").click()
    await page.get_by_label("Gebruikers-ID").fill(registrar.registrar_id)
    await page.get_by_label("Wachtwoord").fill(registrar.password)
    await page.get_by_role("button", name="Aanmelden").click()
    await expect(page.get_by_role("heading", name="Tweestapsverificatie")).to_be_visible()
    await page.get_by_label("Code voor 2-stapsverificatie").fill("000000")
    await page.get_by_role("button", name="Aanmelden").click()
    await expect(page.locator("#login-error")).to_contain_text("Verkeerde 2-stapscode")
    await axe_check(page)


async def test_the_login_pause_is_said_in_words(page: Page, platform: Platform, registrar: Registrar) -> None:
    for _ in range(5):
        await sign_in(page, platform, registrar.registrar_id, "Wrong-Password-1")
        await expect(page.locator("#login-error")).to_contain_text("Wrong user ID")
    await sign_in(page, platform, registrar.registrar_id, registrar.password)
    await expect(page.locator("#login-error")).to_contain_text("sign-in is paused for 15 minutes")


async def test_wrong_codes_pause_the_sign_in_and_page_two_says_so(page: Page, platform: Platform,
                                                                  registrar: Registrar) -> None:
    secret = await two_step_of(platform, registrar)
    await sign_in(page, platform, registrar.registrar_id, registrar.password)
    for _ in range(5):
        await enter_code(page, "000000")
        await expect(page.locator("#login-error")).to_contain_text("Wrong 2-step code")
    await enter_code(page, code_at(secret, datetime.now(UTC)))  # even the right code: paused
    await expect(page.locator("#login-error")).to_contain_text("sign-in is paused for 15 minutes")
    await axe_check(page)
    await sign_in(page, platform, registrar.registrar_id, registrar.password)  # and page 1 with it
    await expect(page.locator("#login-error")).to_contain_text("sign-in is paused for 15 minutes")


async def test_a_form_without_the_sessions_csrf_token_is_refused(page: Page, platform: Platform,
                                                                 registrar: Registrar) -> None:
    await two_step_of(platform, registrar)
    await sign_in(page, platform, registrar.registrar_id, registrar.password)  # on page 2 now
    cookies = {c["name"]: c["value"] for c in await page.context.cookies()}
    async with httpx.AsyncClient(base_url=platform.console, cookies=cookies) as http:
        forged = await http.post("/login/code", data={"csrf": "forged", "code": "123456"})
        assert forged.status_code == 403 and "did not come from this site" in forged.text
    session = next(c for c in await page.context.cookies() if c["name"] == "console_session")
    assert session["httpOnly"] and session["sameSite"] == "Strict"
    await page.get_by_label("2-step code").fill("000000")  # the page's own form, with its token, is heard
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.locator("#login-error")).to_contain_text("Wrong 2-step code")
