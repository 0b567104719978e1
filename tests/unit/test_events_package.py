"""The subscribers' package (packages/registry-events): built from shared/events into a wheel whose version is
the contract version, installed alone, it decodes events and carries the AsyncAPI document."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

from shared.events.asyncapi import document
from shared.events.version import CONTRACT_VERSION

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import json, sys
import registry_events
from registry_events import decode_event, asyncapi_document
try:
    import shared
except ImportError:
    pass
else:
    sys.exit("the platform's shared package leaked into the subscriber's path")
event = decode_event(sys.stdin.read())
print(json.dumps({"version": registry_events.__version__, "type": event.event_type, "name": event.payload.name,
                  "asyncapi": asyncapi_document()["info"]["version"], "module": registry_events.__file__}))
"""

EVENT = {"event_id": "8f5d8a36-3f7c-4d1b-9a53-8f3b2c1d0e11", "event_type": "domain.created", "event_version": 1,
         "occurred_at": "2026-11-05T12:00:00Z", "producer": "registry", "registrar_id": "a100001",
         "correlation_id": "c1", "payload": {"name": "pkg.be", "tld": "be", "registered_at": "2026-11-05T12:00:00Z",
                                             "a_field_from_a_later_version": 1}}


def test_the_wheel_installs_alone_decodes_events_and_ships_the_asyncapi_document(tmp_path: Path) -> None:
    built = subprocess.run([sys.executable, str(ROOT / "packages/registry-events/build.py"), "--out", str(tmp_path / "dist")],
                           capture_output=True, text=True, timeout=300, check=True)
    wheel = Path(built.stdout.strip().splitlines()[-1])
    assert wheel.name == f"registry_events-{CONTRACT_VERSION}-py3-none-any.whl"
    site = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(site), str(wheel)],
                   check=True, timeout=300)
    # -S and the dependencies' directory by path: no .pth file runs, so the platform's editable install (and
    # with it `shared`) is out of reach, as on a subscriber's machine
    env = {"PYTHONPATH": f"{site}{os.pathsep}{sysconfig.get_paths()['purelib']}", "PYTHONSAFEPATH": "1",
           "PATH": os.environ.get("PATH", "/usr/bin")}
    probe = subprocess.run([sys.executable, "-S", "-c", PROBE], input=json.dumps(EVENT), cwd=tmp_path, env=env,
                           capture_output=True, text=True, timeout=120)
    assert probe.returncode == 0, probe.stderr
    seen = json.loads(probe.stdout)
    assert seen["version"] == CONTRACT_VERSION == seen["asyncapi"]
    assert (seen["type"], seen["name"]) == ("domain.created", "pkg.be")
    assert seen["module"].startswith(str(site))
    printed = subprocess.run([sys.executable, "-S", "-m", "registry_events"], cwd=tmp_path, env=env, capture_output=True,
                             text=True, timeout=120, check=True)
    assert json.loads(printed.stdout) == json.loads(json.dumps(document()))
