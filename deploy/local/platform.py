"""Runs the whole platform locally: the five services as separate processes (make run).

Waits until each answers /health/ready, prints where everything is, and on Ctrl-C (SIGINT) or SIGTERM
stops every process it started and waits for them. If one service dies, it stops the others and exits
non-zero, so a broken platform never looks half alive.

Ports: <SERVICE>_HTTP_PORT (e.g. REGISTRY_HTTP_PORT) overrides a service's default.
"""

from __future__ import annotations

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
SERVICES = {"registry": 8001, "hitpoints": 8002, "verification": 8003, "notifications": 8004, "reporting": 8005}
READY_TIMEOUT = float(os.environ.get("PLATFORM_READY_TIMEOUT", "90"))


def redact(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    if parts.password:
        netloc = f"{parts.username}:***@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
        return urllib.parse.urlunsplit(parts._replace(netloc=netloc))
    return url


def is_ready(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/ready", timeout=2) as r:
            return r.status == 200
    except (urllib.error.URLError, OSError):
        return False


class Platform:
    def __init__(self) -> None:
        self.ports = {name: int(os.environ.get(f"{name.upper()}_HTTP_PORT", port)) for name, port in SERVICES.items()}
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.stopping = False

    def start(self) -> None:
        for name, port in self.ports.items():
            env = os.environ | {"HTTP_PORT": str(port), "LOG_FORMAT": os.environ.get("LOG_FORMAT", "text")}
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
        for name, port in self.ports.items():
            base = f"http://127.0.0.1:{port}"
            lines.append(f"  {name:<14} {base}/docs   metrics {base}/metrics   events {base}/asyncapi")
        lines += [
            "",
            f"  RabbitMQ       {redact(os.environ.get('AMQP_URL', 'amqp://guest:guest@127.0.0.1:5672/'))}",
            f"  MongoDB        {redact(os.environ.get('MONGODB_URL', 'mongodb://127.0.0.1:27017/'))}",
            f"  demo registrar {demo}   web password {web}   EPP password {epp}",
            "",
            "  try: TOKEN=$(curl -s -H 'content-type: application/json' \\",
            (f"         -d '{{\"user_id\": \"{demo}\", \"password\": \"{web}\"}}' "
             f"http://127.0.0.1:{self.ports['registry']}/api/login | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"token\"])')"),
            "       curl -H \"Authorization: Bearer $TOKEN\" -H 'content-type: application/json' \\",
            (f"         -d '{{\"name\": \"my-first.be\", \"registrant\": \"{demo}-demo\"}}' "
             f"http://127.0.0.1:{self.ports['registry']}/api/domains"),
            f"       curl -H \"Authorization: Bearer $TOKEN\" http://127.0.0.1:{self.ports['reporting']}/api/portfolios/{demo}",
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
