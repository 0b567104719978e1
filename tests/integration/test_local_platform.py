"""`make run`'s supervisor brings all five services up healthy against the real broker and database,
and Ctrl-C stops every one of them."""

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request

from tests.integration.infra import AMQP_URL, MONGODB_URL, ROOT, free_port

SERVICES = ["registry", "hitpoints", "verification", "notifications", "reporting"]


def test_the_platform_starts_healthy_and_stops_cleanly_on_ctrl_c(namespace: str) -> None:
    ports = {name: free_port() for name in SERVICES}
    env = os.environ | {f"{n.upper()}_HTTP_PORT": str(p) for n, p in ports.items()} | {
        "NAMESPACE": namespace, "AMQP_URL": AMQP_URL, "MONGODB_URL": MONGODB_URL, "SEED_DEMO_REGISTRAR": "true",
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
        assert "demo registrar a100001" in banner and "guest:***@" in banner
        # the banner's example create works as printed (it once lacked the required registrant: 422)
        create = re.search(r"-d '(\{\"name\".*?\})' (http://\S+/api/domains)", banner)
        assert create is not None, banner
        login = urllib.request.Request(
            f"http://127.0.0.1:{ports['registry']}/api/login", headers={"content-type": "application/json"},
            data=json.dumps({"user_id": "a100001", "password": "Demo-Web-2026"}).encode())
        with urllib.request.urlopen(login, timeout=10) as r:
            token = json.load(r)["token"]
        example = urllib.request.Request(create.group(2), data=create.group(1).encode(), headers={
            "content-type": "application/json", "authorization": f"Bearer {token}"})
        with urllib.request.urlopen(example, timeout=10) as r:
            assert r.status == 201
        for name, port in ports.items():
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/ready", timeout=5) as r:
                assert r.status == 200, name
        children = [int(pid) for pid in subprocess.run(
            ["pgrep", "-P", str(platform.pid)], capture_output=True, text=True
        ).stdout.split()]
        assert len(children) == 5

        platform.send_signal(signal.SIGINT)
        assert platform.wait(30) == 0
        for pid in children:  # every service process is gone
            assert not os.path.exists(f"/proc/{pid}") or "zombie" in open(f"/proc/{pid}/status").read().lower()
    finally:
        if platform.poll() is None:
            platform.kill()
