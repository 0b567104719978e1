"""Browser tests: the console and the five services as real processes on the real broker and database, driven
in Debian's chromium by Playwright (never `playwright install`), with axe-core run inside every screen.

Each test gets a registrar of its own (created through the operator API), so tests do not see each other's
blocks, users or domains. Screenshots go to tests/browser/screenshots/ (ignored by git)."""

from __future__ import annotations

import os
import re
import subprocess
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, Page, async_playwright, expect

from tests.integration.smtp_server import SmtpCatcher
from tests.integration.infra import (
    AMQP_URL,
    MONGODB_URL,
    ROOT,
    ServiceProcess,
    delete_namespace,
    require_reachable,
)

SCREENSHOTS = Path(__file__).parent / "screenshots"
AXE = ROOT / ".tools" / "axe-core" / "axe.min.js"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run"]
OPERATOR_TOKEN = "browser-test-operator-token"
OPERATOR = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}
SERVICES = ("registry", "hitpoints", "verification", "notifications", "reporting")
# a small hitpoint limit, so that a test blocks its registrar with a few faulty commands
HITPOINT_LIMIT = 5


@dataclass
class Platform:
    namespace: str
    urls: dict[str, str]
    reports_dir: Path
    mails: SmtpCatcher  # what the notifications service sent (the registrant's verification mail ...)

    @property
    def console(self) -> str:
        return self.urls["console"]

    def http(self, service: str) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.urls[service], timeout=20)


@pytest.fixture(scope="session")
async def platform(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Platform]:
    require_reachable(AMQP_URL, 5672, "RabbitMQ", "run the tests with `make test`, which starts it")
    require_reachable(MONGODB_URL, 27017, "MongoDB", "run the tests with `make test`, which starts the stand-in")
    namespace = f"b{uuid.uuid4().hex[:10]}"
    logs = tmp_path_factory.mktemp("browser-logs")
    reports = tmp_path_factory.mktemp("reports")
    mails = await SmtpCatcher().__aenter__()
    common = {"OPERATOR_TOKEN": OPERATOR_TOKEN, "REPORTS_DIR": str(reports), "EID_PROVIDER": "simulator",
              "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(mails.port), "LIMIT_MIN": str(HITPOINT_LIMIT),
              "LIMIT_MAX": str(HITPOINT_LIMIT), "LIMIT_BASE": str(HITPOINT_LIMIT)}
    processes = {name: ServiceProcess(name, namespace, logs, **common) for name in SERVICES}
    processes["registry"].env |= {"EPP_PORT": "0", "EPP_HOST": "127.0.0.1"}
    urls = {name: p.url for name, p in processes.items()}
    processes["console"] = ServiceProcess("console", namespace, logs, COOKIE_SECURE="false",
                                          **{f"{n.upper()}_URL": u for n, u in urls.items()})
    # the mailed verification link opens the console's registrant pages; the eID simulator is the service's
    processes["verification"].env |= {"PUBLIC_BASE_URL": urls["verification"],
                                      "REGISTRANT_PAGES_URL": processes["console"].url}
    try:
        for process in processes.values():
            await process.start()
        yield Platform(namespace, urls | {"console": processes["console"].url}, reports, mails)
    finally:
        for process in processes.values():
            process.stop()
        await mails.__aexit__()
        await delete_namespace(namespace)


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    if not Path(CHROMIUM).exists():
        raise RuntimeError(f"{CHROMIUM} is missing: `make test` installs Debian's chromium (as root)")
    async with async_playwright() as p:
        launched = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        await launched.close()


@pytest.fixture
async def page(browser: Browser, request: pytest.FixtureRequest) -> AsyncIterator[Page]:
    # bypass_csp: axe-core is injected as an inline script, which the console's CSP forbids (rightly)
    context = await browser.new_context(accept_downloads=True, bypass_csp=True)
    tab = await context.new_page()
    tab.set_default_timeout(20_000)
    yield tab
    SCREENSHOTS.mkdir(exist_ok=True)
    name = re.sub(r"[^A-Za-z0-9_-]+", "_", request.node.name)
    await tab.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
    await context.close()


@dataclass
class Registrar:
    registrar_id: str
    password: str
    epp_password: str


PROFILE = {
    "organisation": ["Browser Test Registrar NV"],
    "address": {"street": ["Kerkstraat 1"], "postal_code": "3000", "city": "Leuven", "country": "BE"},
    "phone": "+32.16284970", "email": "office@registrar.example", "languages": ["en", "nl"],
    "automated_email": "robot@registrar.example",
}


@pytest.fixture
async def registrar(platform: Platform) -> Registrar:
    """A fresh, active registrar with money on its account."""
    return await new_registrar(platform)


async def new_registrar(platform: Platform) -> Registrar:
    """A fresh, active registrar with money on its account, and its billing and tech contacts."""
    registrar_id = f"r{uuid.uuid4().hex[:8]}"
    new = Registrar(registrar_id, "Console-Web-2026", "Epp-Pass-26")
    body = {"registrar_id": registrar_id, "name": f"Registrar {registrar_id}", "profile": PROFILE,
            "official_address": {"organisation": ["Official Name NV"], "address": PROFILE["address"]},
            "products": ["be"], "vat": "BE0123456789", "admin_password": new.password,
            "epp_password": new.epp_password}
    async with platform.http("registry") as registry:
        created = await registry.post("/api/operator/registrars", json=body, headers=OPERATOR)
        assert created.status_code == 201, created.text
        paid = await registry.post(f"/api/operator/registrars/{registrar_id}/prepayments", headers=OPERATOR,
                                   json={"amount_cents": 1_000_000, "reference": "browser test"})
        assert paid.status_code == 201, paid.text
        me = await api_login(registry, registrar_id, new.password)
        for alias, kind in ((f"{registrar_id}-b", "BILLING"), (f"{registrar_id}-t", "TECH")):  # before a first domain
            made = await registry.post("/api/contacts", headers=me, json=CONTACT | {"alias": alias, "type": kind})
            assert made.status_code == 201, made.text
    return new


CONTACT = {"name": "Veerle Peeters", "street": ["Kerkstraat 12"], "city": "Leuven", "postal_code": "3000",
           "country": "BE", "phone": "+32.16123456", "email": "veerle@example.be", "language": "nl"}


async def api_login(registry: httpx.AsyncClient, user_id: str, password: str) -> dict[str, str]:
    response = await registry.post("/api/login", json={"user_id": user_id, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


async def sign_in(page: Page, platform: Platform, user_id: str, password: str, code: str | None = None) -> None:
    """Page 1, user id and password; with `code`, page 2 (the 2-step code) follows."""
    await page.goto(platform.console + "/login")
    await page.get_by_label("User ID").fill(user_id)
    await page.get_by_label("Password").fill(password)
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_load_state()
    if code:
        await enter_code(page, code)


async def enter_code(page: Page, code: str) -> None:
    """Page 2 of a sign-in: the 2-step code."""
    await expect(page.get_by_role("heading", name=re.compile("2-step verification"))).to_be_visible()
    await page.get_by_label("2-step code").fill(code)
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_load_state()


async def axe_check(page: Page) -> None:
    """No serious or critical accessibility violation on the screen shown (axe-core, inside the browser)."""
    await page.add_script_tag(path=str(AXE))
    result = await page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    bad = [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3]) for v in result["violations"]
           if v["impact"] in ("serious", "critical")]
    assert not bad, f"accessibility violations on {page.url}: {bad}"


def ensure_axe() -> None:
    """axe-core from the npm registry into .tools (the test step does this; here for a direct pytest run)."""
    if AXE.exists():
        return
    AXE.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["bash", str(ROOT / "deploy/local/ensure-browser.sh")], check=True)


@pytest.fixture(scope="session", autouse=True)
def axe_available() -> None:
    ensure_axe()


async def open_menu(page: Page, name: str) -> None:
    """Click an item of the left menu, as the seed's steps say ("Click on 'Hitpoints'")."""
    await page.get_by_role("navigation", name="Menu").get_by_role("link", name=name, exact=True).click()
    await page.wait_for_load_state()
