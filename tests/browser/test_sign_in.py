"""Signing in to the console: password, then the 2-step code once set up (QR code screen); sign out; the
login pause in words; CSRF on the forms."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
from playwright.async_api import Page, expect

from services.registry.users.totp import code_at
from tests.browser.conftest import Platform, Registrar, axe_check, open_menu, sign_in


async def test_sign_in_with_two_step(page: Page, platform: Platform, registrar: Registrar) -> None:
    await sign_in(page, platform, registrar.registrar_id, registrar.password)
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

    # the password alone no longer does
    await sign_in(page, platform, registrar.registrar_id, registrar.password)
    await expect(page.locator("#login-error")).to_contain_text("Wrong user ID, password or 2-step code")
    await axe_check(page)

    await sign_in(page, platform, registrar.registrar_id, registrar.password, code_at(secret, datetime.now(UTC)))
    await expect(page.locator(".who")).to_contain_text(registrar.registrar_id)
    await expect(page.get_by_role("navigation", name="Menu").get_by_role("link", name="Hitpoints")).to_be_visible()


async def test_the_login_pause_is_said_in_words(page: Page, platform: Platform, registrar: Registrar) -> None:
    for _ in range(5):
        await sign_in(page, platform, registrar.registrar_id, "Wrong-Password-1")
        await expect(page.locator("#login-error")).to_contain_text("Wrong user ID")
    await sign_in(page, platform, registrar.registrar_id, registrar.password)
    await expect(page.locator("#login-error")).to_contain_text("sign-in is paused for 15 minutes")


async def test_a_form_without_the_sessions_csrf_token_is_refused(page: Page, platform: Platform,
                                                                 registrar: Registrar) -> None:
    await sign_in(page, platform, registrar.registrar_id, registrar.password)
    cookies = {c["name"]: c["value"] for c in await page.context.cookies()}
    async with httpx.AsyncClient(base_url=platform.console, cookies=cookies) as http:
        forged = await http.post("/registrar/two-step", data={"csrf": "forged"})
        assert forged.status_code == 403 and "did not come from this site" in forged.text
    session = next(c for c in await page.context.cookies() if c["name"] == "console_session")
    assert session["httpOnly"] and session["sameSite"] == "Strict"
