"""Server time per console page for a registrar with 10,000 domains and 1,000 contacts (issue 16: goal p95 under
150 ms for every page). The five services and the console run as real processes on the real broker and database;
each page is fetched BENCH_CONSOLE_ROUNDS times in a row by one signed-in browser session (httpx), and its time
is the full HTTP exchange with the console, which includes the console's own calls to the services' APIs.

Beside each page: the time of the slowest service call the page makes, fetched directly (the floor the page sits
on), so a slow page says whether the console or the API is slow.

Run: make bench ARGS=bench/bench_console.py
     BENCH_CONSOLE_DOMAINS (10000), BENCH_CONSOLE_CONTACTS (1000), BENCH_CONSOLE_ROUNDS (50)
"""

from __future__ import annotations

import asyncio
import os
import platform
import re
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from pymongo import AsyncMongoClient

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.integration.infra import MONGODB_URL, ServiceProcess, delete_namespace

DOMAINS = int(os.environ.get("BENCH_CONSOLE_DOMAINS", "10000"))
CONTACTS = int(os.environ.get("BENCH_CONSOLE_CONTACTS", "1000"))
ROUNDS = int(os.environ.get("BENCH_CONSOLE_ROUNDS", "50"))
OPERATOR = {"Authorization": "Bearer bench-operator-token"}
SERVICES = ("registry", "hitpoints", "verification", "notifications", "reporting")
CONTACT = {"name": "Veerle Peeters", "street": ["Kerkstraat 12"], "city": "Leuven", "postal_code": "3000",
           "country": "BE", "phone": "+32.16123456", "email": "veerle@example.be", "language": "nl"}


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def seed(registry: httpx.AsyncClient, namespace: str, rid: str) -> dict[str, str]:
    """The registrar through the operator API; its contacts and domains straight into the registry's collections,
    in the shape services/registry/contacts/create.py and domains/create.py write (creating 11,000 objects through the API
    takes over an hour on this shared, loaded machine; the pages only read them, through the API)."""
    profile = {"organisation": ["Bench NV"], "address": {"street": ["Kerkstraat 1"], "postal_code": "3000",
               "city": "Leuven", "country": "BE"}, "phone": "+32.16284970", "email": "office@bench.example",
               "languages": ["en"], "automated_email": "robot@bench.example"}
    made = await registry.post("/api/operator/registrars", headers=OPERATOR, json={
        "registrar_id": rid, "name": "Bench NV", "profile": profile,
        "official_address": {"organisation": ["Bench NV"], "address": profile["address"]}, "products": ["be"],
        "admin_password": "Bench-Web-2026", "epp_password": "Bench-Epp-26"})
    assert made.status_code == 201, made.text
    token = (await registry.post("/api/login", json={"user_id": rid, "password": "Bench-Web-2026"})).json()["token"]
    now = datetime.now(UTC).replace(microsecond=0)
    kinds = ["BILLING", "TECH"] + ["REGISTRANT"] * (CONTACTS - 2)
    contacts = [CONTACT | {"_id": f"{rid}-{n}", "type": kind, "registrar_id": rid, "created_at": now,
                           **({"verification": "UNVERIFIED"} if kind == "REGISTRANT" else {})}
                for n, kind in enumerate(kinds)]
    domains = []
    for n in range(DOMAINS):
        name, registrant = f"{rid}-{n:05d}.be", f"{rid}-{2 + n % (CONTACTS - 2)}"
        domains.append({"_id": name, "name": name, "tld": "be", "registrar_id": rid, "registrant": registrant,
                        "tech": [f"{rid}-1"], "onsite": [], "contacts": sorted({registrant, f"{rid}-1"}),
                        "name_servers": [{"name": "ns1.example.net", "addresses": []},
                                         {"name": "ns2.example.net", "addresses": []}],
                        "nsgroups": [], "keygroups": [], "registered_at": now, "expires_at": now + timedelta(days=365),
                        "status": "REGISTERED", "created_by": rid, "reference": f"bench-{n}"})
    client: AsyncMongoClient = AsyncMongoClient(MONGODB_URL)
    try:
        db = client[f"{namespace}_registry"]
        await db["contacts"].insert_many(contacts)
        for start in range(0, len(domains), 1000):
            await db["domains"].insert_many(domains[start:start + 1000])
    finally:
        await client.close()
    return {"Authorization": f"Bearer {token}"}


async def main() -> None:
    namespace = f"bc{uuid.uuid4().hex[:8]}"
    logs = Path(tempfile.mkdtemp(prefix="bench-console-"))
    common = {"OPERATOR_TOKEN": OPERATOR["Authorization"].split()[1], "REPORTS_DIR": str(logs / "reports"),
              "SMTP_HOST": "127.0.0.1", "SMTP_PORT": "9", "LIMIT_MIN": "1000", "LIMIT_MAX": "1000"}
    processes = {name: ServiceProcess(name, namespace, logs, **common) for name in SERVICES}
    processes["registry"].env |= {"EPP_PORT": "0", "EPP_HOST": "127.0.0.1"}
    urls = {name: p.url for name, p in processes.items()}
    processes["console"] = ServiceProcess("console", namespace, logs, COOKIE_SECURE="false",
                                          **{f"{n.upper()}_URL": u for n, u in urls.items()})
    rid = f"b{uuid.uuid4().hex[:8]}"
    try:
        for process in processes.values():
            await process.start()
        async with httpx.AsyncClient(base_url=urls["registry"], timeout=60) as registry:
            started = time.perf_counter()
            me = await seed(registry, namespace, rid)
            seeded = time.perf_counter() - started
        async with httpx.AsyncClient(base_url=urls["reporting"], timeout=300) as reporting:
            await reporting.post("/api/operator/reports/daily", headers=OPERATOR)
        print(f"console pages, registrar with {DOMAINS} domains and {CONTACTS} contacts (seeded into the "
              f"registry's collections in {seeded:.0f} s); {ROUNDS} fetches per page; {platform.node()}, {os.cpu_count()} CPUs")

        async with httpx.AsyncClient(base_url=processes["console"].url, timeout=60) as browser:
            form = await browser.get("/login")
            csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
            assert csrf
            signed = await browser.post("/login", data={"csrf": csrf.group(1), "user_id": rid,
                                                        "password": "Bench-Web-2026"})
            assert signed.status_code == 303, signed.text
            middle = f"{rid}-{DOMAINS // 2:05d}.be"
            pages = {
                "/ (home)": ("/", "/api/hitpoints"),
                "/registrar/profile": ("/registrar/profile", "/api/registrar"),
                "/registrar/hitpoints": ("/registrar/hitpoints", "/api/hitpoints"),
                "/registrar/users": ("/registrar/users", "/api/registrar/users"),
                "/registrar/top100": ("/registrar/top100", "/api/reports/top100"),
                "/domains (page 1)": ("/domains", "/api/domains"),
                "/domains (page in the middle)": (f"/domains?after={middle}", f"/api/domains?after={middle}"),
                "/domains?q= (search)": (f"/domains?q={rid}-0999", f"/api/domains?q={rid}-0999"),
                "/domains/{name}": (f"/domains/{middle}", f"/api/domains/{middle}"),
                "/contacts (page 1)": ("/contacts", "/api/contacts"),
                "/contacts/{alias}": (f"/contacts/{rid}-{CONTACTS // 2}", f"/api/contacts/{rid}-{CONTACTS // 2}"),
                "/reports": ("/reports", "/api/reports/daily"),
                "/messages": ("/messages", "/api/poll/messages"),
                "/balance": ("/balance", "/api/registrar/balance"),
            }
            api_base = {"/api/hitpoints": "hitpoints", "/api/reports": "reporting", "/api/poll": "notifications"}
            print(f"{'page':34} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}   {'its API call p50/p95 ms':>24}")
            worst = 0.0
            for label, (path, api_path) in pages.items():
                times = []
                for _ in range(ROUNDS):
                    t0 = time.perf_counter()
                    r = await browser.get(path)
                    times.append((time.perf_counter() - t0) * 1000)
                    assert r.status_code == 200, (path, r.status_code, r.text[:500])
                service = next((s for prefix, s in api_base.items() if api_path.startswith(prefix)), "registry")
                api_times = []
                async with httpx.AsyncClient(base_url=urls[service], timeout=60) as api:
                    for _ in range(ROUNDS):
                        t0 = time.perf_counter()
                        a = await api.get(api_path, headers=me)
                        api_times.append((time.perf_counter() - t0) * 1000)
                        assert a.status_code == 200, (api_path, a.text[:300])
                p95 = percentile(times, 95)
                worst = max(worst, p95)
                print(f"{label:34} {statistics.median(times):8.1f} {p95:8.1f} {max(times):8.1f}   "
                      f"{statistics.median(api_times):11.1f} / {percentile(api_times, 95):8.1f}")
            print(f"slowest page p95: {worst:.1f} ms (goal: under 150 ms)")
    finally:
        for process in processes.values():
            process.stop()
        await delete_namespace(namespace)


if __name__ == "__main__":
    asyncio.run(main())
