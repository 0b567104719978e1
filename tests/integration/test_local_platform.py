"""`make run`'s supervisor brings all six services up healthy against the real broker and database,
and Ctrl-C stops every one of them."""

import contextlib
import http.cookiejar
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path

from shared.messaging.access import user_name
from tests.integration.infra import AMQP_URL, MONGODB_URL, ROOT, free_port

SERVICES = ["registry", "hitpoints", "verification", "notifications", "reporting", "publication"]
PROCESSES = [*SERVICES, "console"]


def test_the_platform_starts_healthy_and_stops_cleanly_on_ctrl_c(namespace: str) -> None:
    ports = {name: free_port() for name in PROCESSES}
    run_platform(namespace, os.environ.copy(), "guest:***@", lambda: console_sign_in_counts_the_browser(ports),
                 ports)


def console_sign_in_counts_the_browser(ports: dict[str, int]) -> None:
    """A wrong password typed at the console is recorded (and paused) under the browser's address, not the
    console's: the console passes it on as X-Forwarded-For and the registry, a real uvicorn process, takes it
    from the console's trusted address. The browser's address here comes from a proxy in front of the console
    (an X-Forwarded-For the console's own uvicorn takes from 127.0.0.1)."""
    console = f"http://127.0.0.1:{ports['console']}"
    browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    with browser.open(f"{console}/login", timeout=10) as r:
        csrf = re.search(r'name="csrf" value="([^"]+)"', r.read().decode())
    assert csrf is not None
    wrong = urllib.request.Request(
        f"{console}/login", headers={"X-Forwarded-For": "203.0.113.7"},
        data=urllib.parse.urlencode({"csrf": csrf.group(1), "user_id": "a100001", "password": "not-it"}).encode())
    with contextlib.suppress(urllib.error.HTTPError):  # the page says 401 in words
        browser.open(wrong, timeout=10)
    token = api_login(ports["registry"])
    attempts = urllib.request.Request(f"http://127.0.0.1:{ports['registry']}/api/registrar/users/a100001/login-attempts",
                                      headers={"authorization": f"Bearer {token}"})
    with urllib.request.urlopen(attempts, timeout=10) as r:
        failed = [a for a in json.load(r) if not a["success"]]
    assert [a["ip"] for a in failed] == ["203.0.113.7"], failed


def api_login(registry_port: int) -> str:
    login = urllib.request.Request(
        f"http://127.0.0.1:{registry_port}/api/login", headers={"content-type": "application/json"},
        data=json.dumps({"user_id": "a100001", "password": "Demo-Web-2026"}).encode())
    with urllib.request.urlopen(login, timeout=10) as r:
        token: str = json.load(r)["token"]
    return token


def test_make_run_gives_each_service_its_own_broker_user(namespace: str, tmp_path: Path) -> None:
    """deploy/local/rabbitmq-users.sh (as make run calls it) creates the namespace's users with rabbitmqctl;
    each service connects as its own and the platform comes up; the users are deleted afterwards."""
    users_file = tmp_path / "rabbitmq-users.json"
    env = {k: v for k, v in os.environ.items() if k != "EVENT_PUBLISHERS"} | {
        "NAMESPACE": namespace, "RABBITMQ_USERS_FILE": str(users_file), "AMQP_URL": AMQP_URL}
    try:
        made = subprocess.run(["bash", "deploy/local/rabbitmq-users.sh"], cwd=ROOT, env=env, capture_output=True,
                              text=True, timeout=300)
        assert made.returncode == 0, made.stderr
        passwords = json.loads(users_file.read_text())
        assert set(passwords) == {user_name(u, namespace) for u in [*SERVICES, "feeds", "subscriber-example"]}
        assert users_file.stat().st_mode & 0o077 == 0  # readable by its owner only

        def each_service_connected_as_itself() -> None:
            connections = subprocess.run(["rabbitmqctl", "-q", "list_connections", "user"], capture_output=True,
                                         text=True, timeout=60).stdout.split()
            assert {user_name(s, namespace) for s in SERVICES} <= set(connections), connections

        run_platform(namespace, env, "(each service as its own user)", each_service_connected_as_itself)
    finally:
        for user in [*SERVICES, "feeds", "subscriber-example"]:
            subprocess.run(["rabbitmqctl", "-q", "delete_user", user_name(user, namespace)], capture_output=True,
                           timeout=60)


def run_platform(namespace: str, base_env: dict[str, str], expected_in_banner: str,
                 while_up: Callable[[], None] | None = None, ports: dict[str, int] | None = None) -> None:
    ports = ports or {name: free_port() for name in PROCESSES}
    env = base_env | {f"{n.upper()}_HTTP_PORT": str(p) for n, p in ports.items()} | {
        "NAMESPACE": namespace, "AMQP_URL": AMQP_URL, "MONGODB_URL": MONGODB_URL, "SEED_DEMO_REGISTRAR": "true",
        # publication's public TCP servers on free ports too (no Knot here: it has nothing to push)
        "WHOIS_PORT": str(free_port()), "DAS_PORT": str(free_port()), "EPP_PORT": "0",
    }
    platform = subprocess.Popen(
        [sys.executable, "deploy/local/platform.py"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True,
    )
    output: list[str] = []
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            line = platform.stdout.readline()  # type: ignore[union-attr]
            if not line and platform.poll() is not None:
                break
            output.append(line)
            if line.strip() == "PLATFORM READY":
                break
        assert output and output[-1].strip() == "PLATFORM READY", "".join(output)[-4000:]
        banner = "".join(output)
        assert "demo registrar a100001" in banner and expected_in_banner in banner
        assert f"console http://127.0.0.1:{ports['console']}/" in banner
        # the banner's example create works as printed (it once lacked the required registrant: 422)
        create = re.search(r"-d '(\{\"name\".*?\})' (http://\S+/api/domains)", banner)
        assert create is not None, banner
        token = api_login(ports["registry"])
        example = urllib.request.Request(create.group(2), data=create.group(1).encode(), headers={
            "content-type": "application/json", "authorization": f"Bearer {token}"})
        with urllib.request.urlopen(example, timeout=10) as r:
            assert r.status == 201
        for name, port in ports.items():
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/ready", timeout=5) as r:
                assert r.status == 200, name
        if while_up is not None:
            while_up()
        children = children_of(platform.pid)
        assert len(children) == len(PROCESSES)

        platform.send_signal(signal.SIGINT)
        assert platform.wait(30) == 0
        for pid in children:  # every service process is gone
            assert not os.path.exists(f"/proc/{pid}") or "zombie" in open(f"/proc/{pid}/status").read().lower()
    finally:
        if platform.poll() is None:  # a failure above: the services run in sessions of their own, kill them too
            left = children_of(platform.pid)
            platform.kill()
            for pid in left:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)


def children_of(pid: int) -> list[int]:
    return [int(child) for child in subprocess.run(["pgrep", "-P", str(pid)], capture_output=True,
                                                   text=True).stdout.split()]
