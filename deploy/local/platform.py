"""Runs the whole platform locally: the six services and the web console as separate processes (make run).

Waits until each answers /health/ready, prints where everything is, and on Ctrl-C (SIGINT) or SIGTERM
stops every process it started and waits for them. If one service dies, it stops the others and exits
non-zero, so a broken platform never looks half alive.

Ports: <SERVICE>_HTTP_PORT (e.g. REGISTRY_HTTP_PORT) overrides a service's default.
Broker users: with RABBITMQ_USERS_FILE (deploy/local/rabbitmq-users.sh made it), each service connects as its
own RabbitMQ user; the other services fetch the registry's token keys from its /.well-known/jwks.json.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SERVICES = {"registry": 8001, "hitpoints": 8002, "verification": 8003, "notifications": 8004, "reporting": 8005,
            "publication": 8006}
# the web console: a client of the services' HTTP APIs (services/console); it uses no broker
PROCESSES = SERVICES | {"console": 8000}
READY_TIMEOUT = float(os.environ.get("PLATFORM_READY_TIMEOUT", "90"))


def redact(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    if parts.password:
        netloc = f"{parts.username}:***@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
        return urllib.parse.urlunsplit(parts._replace(netloc=netloc))
    return url


def user_name(name: str, namespace: str) -> str:
    """The broker user of a service (shared/messaging/access.py: a namespace has users of its own). Not
    imported: this script's directory shadows the standard library's `platform` for the project's imports."""
    return f"{namespace}-{name}" if namespace else name


def publishers(namespace: str) -> dict[str, list[str]]:
    """EVENT_PUBLISHERS for those users (access.DEFAULT_PUBLISHERS, namespaced)."""
    return {user_name(s, namespace): [s] for s in SERVICES} | {user_name("feeds", namespace): ["external"]}


def with_user(url: str, user: str, password: str) -> str:
    parts = urllib.parse.urlsplit(url)
    netloc = f"{urllib.parse.quote(user)}:{urllib.parse.quote(password, safe='')}@{parts.hostname}"
    return urllib.parse.urlunsplit(parts._replace(netloc=netloc + (f":{parts.port}" if parts.port else "")))


def is_ready(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/ready", timeout=2) as r:
            return r.status == 200
    except (urllib.error.URLError, OSError):
        return False


class Platform:
    def __init__(self) -> None:
        self.ports = {name: int(os.environ.get(f"{name.upper()}_HTTP_PORT", port)) for name, port in PROCESSES.items()}
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.stopping = False

    def env_of(self, name: str) -> dict[str, str]:
        env = {"HTTP_PORT": str(self.ports[name]), "LOG_FORMAT": os.environ.get("LOG_FORMAT", "text")}
        users_file = os.environ.get("RABBITMQ_USERS_FILE")
        if users_file and name in SERVICES:  # the console talks HTTP only
            namespace = os.environ.get("NAMESPACE", "")
            with open(users_file) as f:
                user = user_name(name, namespace)
                password = json.load(f)[user]
            env["AMQP_URL"] = with_user(os.environ.get("AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/"), user, password)
            if "EVENT_PUBLISHERS" not in os.environ:
                env["EVENT_PUBLISHERS"] = json.dumps(publishers(namespace))
        if name != "registry":
            env.setdefault("JWKS_URL", f"http://127.0.0.1:{self.ports['registry']}/.well-known/jwks.json")
        return env

    def start(self) -> None:
        for name, port in self.ports.items():
            env = os.environ | self.env_of(name)
            if name == "reporting":  # the quarterly report's mailed link opens in the console, with its session
                env.setdefault("PUBLIC_URL", f"http://127.0.0.1:{self.ports['console']}")
            if name == "console":  # where the services answer; plain http locally, so no Secure cookie
                env |= {f"{service.upper()}_URL": f"http://127.0.0.1:{self.ports[service]}" for service in SERVICES}
                env |= {"COOKIE_SECURE": os.environ.get("CONSOLE_COOKIE_SECURE", "false")}
            if name == "verification":  # the mailed verification link opens the console's registrant pages
                env |= {"PUBLIC_BASE_URL": os.environ.get("PUBLIC_BASE_URL", f"http://127.0.0.1:{port}"),
                        "REGISTRANT_PAGES_URL": os.environ.get("REGISTRANT_PAGES_URL",
                                                               f"http://127.0.0.1:{self.ports['console']}")}
            # a session of their own: a terminal's Ctrl-C reaches only this supervisor, which stops them in order
            self.processes[name] = subprocess.Popen(
                [sys.executable, "-m", f"services.{name}"], cwd=ROOT, env=env, start_new_session=True
            )

    def wait_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT
        pending = set(self.ports)
        while pending:
            self.check_alive()
            pending = {name for name in pending if not is_ready(self.ports[name])}
            if pending and time.monotonic() > deadline:
                raise SystemExit(f"not ready after {READY_TIMEOUT:.0f} s: {', '.join(sorted(pending))}")
            time.sleep(0.25)

    def check_alive(self) -> None:
        for name, process in self.processes.items():
            if process.poll() is not None and not self.stopping:
                raise SystemExit(f"{name} exited with code {process.returncode}; stopping the platform")

    def stop(self) -> None:
        self.stopping = True
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 20
        for process in self.processes.values():
            try:
                process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def banner(self) -> str:
        demo = os.environ.get("DEMO_REGISTRAR_ID", "a100001")
        web = os.environ.get("DEMO_WEB_PASSWORD", "Demo-Web-2026")
        epp = os.environ.get("DEMO_EPP_PASSWORD", "Demo-Epp-2026")
        lines = ["", "The registry platform is up. Ctrl-C stops it.", ""]
        for name in SERVICES:
            base = f"http://127.0.0.1:{self.ports[name]}"
            lines.append(f"  {name:<14} {base}/docs   metrics {base}/metrics   events {base}/asyncapi")
        lines += [
            "",
            f"  RabbitMQ       {redact(os.environ.get('AMQP_URL', 'amqp://guest:guest@127.0.0.1:5672/'))}"
            + ("   (each service as its own user)" if os.environ.get("RABBITMQ_USERS_FILE") else ""),
            "",
            f"  console http://127.0.0.1:{self.ports['console']}/   (sign in as the demo registrar below)",
            f"  MongoDB        {redact(os.environ.get('MONGODB_URL', 'mongodb://127.0.0.1:27017/'))}",
            f"  demo registrar {demo}   web password {web}   EPP password {epp}",
            f"  demo operator  {os.environ.get('DEMO_STAFF_ID', 'op-demo')}   password "
            f"{os.environ.get('DEMO_STAFF_PASSWORD', 'Demo-Staff-2026')}   2-step secret "
            f"{os.environ.get('DEMO_STAFF_TOTP_SECRET', 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP')}   "
            f"(staff pages: http://127.0.0.1:{self.ports['console']}/staff)",
            "",
            (f"  public face    DNS (Knot) 127.0.0.1:{os.environ.get('DNS_PORT', '5353')}   "
             f"WHOIS 127.0.0.1:{os.environ.get('WHOIS_PORT', '4300')}   "
             f"DAS 127.0.0.1:{os.environ.get('DAS_PORT', '4343')}   "
             f"RDAP http://127.0.0.1:{self.ports['publication']}/rdap/"),
            "",
            "  try: TOKEN=$(curl -s -H 'content-type: application/json' \\",
            (f"         -d '{{\"user_id\": \"{demo}\", \"password\": \"{web}\"}}' "
             f"http://127.0.0.1:{self.ports['registry']}/api/login | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"token\"])')"),
            "       curl -H \"Authorization: Bearer $TOKEN\" -H 'content-type: application/json' \\",
            (f"         -d '{{\"name\": \"my-first.be\", \"registrant\": \"{demo}-demo\"}}' "
             f"http://127.0.0.1:{self.ports['registry']}/api/domains"),
            f"       curl -H \"Authorization: Bearer $TOKEN\" http://127.0.0.1:{self.ports['reporting']}/api/portfolios/{demo}",
            (f"       dig @127.0.0.1 -p {os.environ.get('DNS_PORT', '5353')} be SOA +dnssec   "
             f"curl http://127.0.0.1:{self.ports['publication']}/rdap/domain/my-first.be"),
            "",
        ]
        return "\n".join(lines)


def main() -> int:
    platform = Platform()

    def on_signal(signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    # installed explicitly: a parent may have started us with SIGINT ignored
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        platform.start()
        platform.wait_ready()
        print(platform.banner(), flush=True)
        print("PLATFORM READY", flush=True)
        while True:
            platform.check_alive()
            time.sleep(0.5)
    except KeyboardInterrupt:
        print("\nstopping the platform ...", flush=True)
        platform.stop()
        print("stopped.", flush=True)
        return 0
    except SystemExit as exc:
        print(f"\n{exc}", file=sys.stderr, flush=True)
        platform.stop()
        return 1


if __name__ == "__main__":
    sys.exit(main())
