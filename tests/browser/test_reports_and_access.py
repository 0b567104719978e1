"""Reports in a real browser (a daily CSV downloads with its generation time; the quarterly report opens with the
session, also from the mailed link's address), the language switch, and keyboard access to every control."""

from __future__ import annotations

from datetime import UTC, datetime

from playwright.async_api import Page, expect

from tests.browser.conftest import OPERATOR, Platform, Registrar, api_login, axe_check, open_menu, sign_in


def last_quarter() -> str:
    now = datetime.now(UTC)
    q = (now.month - 1) // 3
    return f"{now.year - 1}-Q4" if q == 0 else f"{now.year}-Q{q}"


async def test_a_daily_csv_downloads_and_the_quarterly_report_opens(page: Page, platform: Platform,
                                                                    registrar: Registrar) -> None:
    rid = registrar.registrar_id
    async with platform.http("registry") as registry:
        me = await api_login(registry, rid, registrar.password)
        made = await registry.post("/api/contacts", headers=me, json={
            "alias": f"{rid}-r", "type": "REGISTRANT", "name": "Veerle Peeters", "street": ["Kerkstraat 12"],
            "city": "Leuven", "postal_code": "3000", "country": "BE", "phone": "+32.16123456",
            "email": "veerle@example.be"})
        assert made.status_code == 201, made.text
        domain = await registry.post("/api/domains", headers=me, json={
            "name": f"{rid}-report.be", "registrant": f"{rid}-r", "tech": [f"{rid}-t"],
            "name_servers": [{"name": "ns1.example.net"}, {"name": "ns2.example.net"}]})
        assert domain.status_code == 201, domain.text
    async with platform.http("reporting") as reporting:
        for _ in range(100):  # until the reporting service has taken the registration in
            assert (await reporting.post("/api/operator/reports/daily", headers=OPERATOR)).status_code == 200
            csv = (platform.reports_dir / "daily" / rid / "registrations.csv")
            if csv.is_file() and f"{rid}-report.be" in csv.read_text():
                break
        quarter = last_quarter()
        made_q = await reporting.post(f"/api/operator/reports/quarterly/{quarter}", headers=OPERATOR)
        assert made_q.status_code == 200, made_q.text

    await sign_in(page, platform, rid, registrar.password)
    await open_menu(page, "Reports")
    await expect(page.locator("#daily-generated")).to_contain_text("Generated on")
    await axe_check(page)
    async with page.expect_download() as download_info:
        await page.locator("a[href='/reports/daily/registrations.csv']").click()
    download = await download_info.value
    assert download.suggested_filename.startswith(f"{rid}-registrations-") and download.suggested_filename.endswith(".csv")
    content = (await download.path()).read_text(encoding="utf-8-sig")
    assert content.splitlines()[0].startswith("domain") and f"{rid}-report.be" in content

    async with page.expect_download() as zip_info:
        await page.get_by_role("link", name=f"{rid}", exact=False).filter(has_text=".zip").click()
    assert (await zip_info.value).suggested_filename.endswith(".zip")

    async with page.context.expect_page() as opened:
        await page.get_by_role("link", name=f"Open the {quarter} report").click()
    report = await opened.value
    await report.wait_for_load_state()
    assert quarter in await report.content()
    # the address the ready mail links to opens it too, with the session
    response = await page.goto(platform.console + f"/api/reports/quarterly/{quarter}")
    assert response is not None and response.status == 200 and quarter in await page.content()


async def test_the_quarterly_link_asks_a_signed_out_browser_to_sign_in_first(page: Page, platform: Platform,
                                                                            registrar: Registrar) -> None:
    await page.goto(platform.console + "/api/reports/quarterly/2026-Q1")
    await expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    await page.get_by_label("User ID").fill(registrar.registrar_id)
    await page.get_by_label("Password").fill(registrar.password)
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_load_state()
    assert page.url.endswith("/api/reports/quarterly/2026-Q1")  # then the report (or why there is none)


async def test_the_console_speaks_the_registrars_first_language_and_the_users_choice(
        page: Page, platform: Platform, registrar: Registrar) -> None:
    async with platform.http("registry") as registry:
        me = await api_login(registry, registrar.registrar_id, registrar.password)
        account = (await registry.get("/api/registrar", headers=me)).json()
        profile = account["profile"] | {"languages": ["fr", "nl"]}
        assert (await registry.put("/api/registrar/profile", headers=me, json=profile)).status_code == 200
    await sign_in(page, platform, registrar.registrar_id, registrar.password)
    await expect(page.get_by_role("navigation", name="Menu")).to_contain_text("Noms de domaine")
    assert await page.locator("html").get_attribute("lang") == "fr"
    await page.get_by_label("Langue").select_option("nl")
    await page.get_by_role("button", name="OK").click()
    await expect(page.get_by_role("navigation", name="Menu")).to_contain_text("Domeinnamen")
    await axe_check(page)
    # sentences with values, and a confirmation with the object's name, are in the chosen language too
    await page.goto(platform.console + "/messages")
    await expect(page.locator("#queue-count")).to_contain_text("in de wachtrij.")
    await page.goto(platform.console + "/groups/nsgroups/new")
    await page.get_by_label("Naam", exact=True).fill(f"{registrar.registrar_id}-nl")
    await page.get_by_label("Naamservers").fill("ns1.example.net\nns2.example.net")
    await page.get_by_role("button", name="Aanmaken").click()
    await expect(page.locator("#flash")).to_have_text(f"De naamservergroep {registrar.registrar_id}-nl is aangemaakt.")


async def test_every_control_is_reachable_by_keyboard(page: Page, platform: Platform, registrar: Registrar) -> None:
    await page.goto(platform.console + "/login")
    await page.keyboard.press("Tab")
    assert await page.evaluate("document.activeElement.textContent.trim()") == "Skip to content"
    # signing in with the keyboard alone
    for _ in range(12):
        await page.keyboard.press("Tab")
        if await page.evaluate("document.activeElement.id") == "f-user_id":
            break
    await page.keyboard.type(registrar.registrar_id)
    await page.keyboard.press("Tab")
    await page.keyboard.type(registrar.password)
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("navigation", name="Menu")).to_be_visible()

    for path in ("/", "/registrar/profile/edit", "/registrar/hitpoints", "/domains/new", "/registrar/users/new"):
        await page.goto(platform.console + path)
        wanted = await page.evaluate("""() => [...document.querySelectorAll(
            'a[href], button, input:not([type=hidden]), select, textarea')].filter(e => e.offsetParent !== null).length""")
        reached: set[str] = set()
        for _ in range(wanted + 5):
            await page.keyboard.press("Tab")
            reached.add(await page.evaluate("""() => { const e = document.activeElement;
                return e.tagName + '|' + (e.id || e.getAttribute('href') || e.name || e.textContent.trim()) + '|' +
                [...document.querySelectorAll('*')].indexOf(e); }"""))
        assert len(reached) >= wanted, f"{path}: {len(reached)} of {wanted} controls reached by Tab"
