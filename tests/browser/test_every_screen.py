"""Every screen of the console, filled and empty, passes axe-core (no serious or critical violation); a lock
complaint is answered through its form; a user signs in with the temporary 2-step key once."""

from __future__ import annotations

from datetime import UTC, datetime

from playwright.async_api import Page, expect

from services.registry.users.totp import code_at
from tests.browser.conftest import CONTACT, OPERATOR, Platform, Registrar, api_login, axe_check, sign_in


async def test_every_screen_passes_axe_and_a_lock_complaint_is_answered(page: Page, platform: Platform,
                                                                       registrar: Registrar) -> None:
    rid = registrar.registrar_id
    name = f"{rid}-all.be"
    async with platform.http("registry") as registry:
        me = await api_login(registry, rid, registrar.password)
        assert (await registry.post("/api/contacts", headers=me,
                                    json=CONTACT | {"alias": f"{rid}-r", "type": "REGISTRANT"})).status_code == 201
        assert (await registry.post("/api/domains", headers=me, json={
            "name": name, "registrant": f"{rid}-r", "tech": [f"{rid}-t"]})).status_code == 201
        assert (await registry.put(f"/api/domains/{name}/transfer-lock", headers=me,
                                   json={"registrant_request": "form 12"})).status_code == 204
        filed = await registry.post(f"/api/operator/domains/{name}/lock-complaints", headers=OPERATOR,
                                    json={"note": "the registrant: I never asked for a lock"})
        assert filed.status_code == 201, filed.text
        assert (await registry.post("/api/keygroups", headers=me, json={"name": f"{rid}-k", "keys": [{
            "flags": 257, "protocol": 3, "algorithm": 13,
            "public_key": "mdsswUyr3DPW132mOi8V9xESWE8jTo0dxCjjnopKl+GqJxpVXckHAeF+KkxLbxILfDLUT0rAK9iUzy1L53eKGQ=="}]})
                ).status_code == 201

    await sign_in(page, platform, rid, registrar.password)
    screens = ["/", "/registrar/profile", "/registrar/profile/edit", "/registrar/product-urls",
               "/registrar/product-urls/edit", "/registrar/epp-settings", "/registrar/epp-settings?edit=true",
               "/registrar/email-addresses", "/registrar/email-addresses?edit=true", "/registrar/users",
               "/registrar/users/new", f"/registrar/users/{rid}", "/registrar/hitpoints", "/registrar/top100",
               "/registrar/top30", "/registrar/password", "/registrar/login-attempts", "/registrar/two-step",
               "/contacts", "/contacts/new", f"/contacts/{rid}-r", f"/contacts/{rid}-r/edit", "/domains",
               "/domains/new", f"/domains/{name}", f"/domains/{name}/edit", "/transfer", "/groups/nsgroups",
               "/groups/nsgroups/new", "/groups/keygroups", f"/groups/keygroups/{rid}-k", "/lock-complaints",
               "/reports", "/messages", "/balance", "/domains/nothing-here.be"]
    for screen in screens:
        response = await page.goto(platform.console + screen)
        assert response is not None and response.status == (404 if "nothing-here" in screen else 200), screen
        await axe_check(page)

    await page.goto(platform.console + "/lock-complaints")
    await expect(page.locator("main")).to_contain_text("OPEN")
    await page.get_by_label("The registrant's request the lock rests on").fill("signed form 12 of 2 December")
    await page.get_by_role("button", name="Send the answer").click()
    await expect(page.locator("#flash")).to_have_text("Your answer has been sent to the registry.")
    await expect(page.locator("main")).to_contain_text("ANSWERED")


async def test_a_user_signs_in_once_with_the_temporary_key(page: Page, platform: Platform,
                                                           registrar: Registrar) -> None:
    rid = registrar.registrar_id
    async with platform.http("registry") as registry:
        me = await api_login(registry, rid, registrar.password)
        made = await registry.post("/api/registrar/users", headers=me, json={
            "user_id": f"{rid}-u", "password": "User-Pass-1", "permissions": ["MY_REGISTRATIONS"]})
        assert made.status_code == 201, made.text
        user = await api_login(registry, f"{rid}-u", "User-Pass-1")
        secret = (await registry.post("/api/registrar/two-step", headers=user)).json()["totp_secret"]
    assert code_at(secret, datetime.now(UTC))

    await sign_in(page, platform, rid, registrar.password)
    await page.goto(platform.console + f"/registrar/users/{rid}-u")
    await page.get_by_role("button", name="Temp 2-step").click()
    key = (await page.locator("#temporary-key code").inner_text()).strip()
    await page.get_by_role("button", name="Sign out").click()

    await sign_in(page, platform, f"{rid}-u", "User-Pass-1", key)
    await expect(page.locator(".who")).to_contain_text(f"{rid}-u")
    await page.get_by_role("button", name="Sign out").click()
    await sign_in(page, platform, f"{rid}-u", "User-Pass-1", key)  # once only
    await expect(page.locator("#login-error")).to_contain_text("Wrong 2-step code")
