"""The event contract's compatibility check (shared/events/compat.py), the CI gate between releases: this
change's catalogue against the last released AsyncAPI (contracts/), and breaking changes planted in a
temporary copy of the catalogue's source, which the check must refuse unless the major version moves."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from shared.events.asyncapi import document
from shared.events.compat import compare, released, version_tuple
from shared.events.version import CONTRACT_VERSION

ROOT = Path(__file__).resolve().parents[2]


def test_this_change_is_compatible_with_the_last_released_contract() -> None:
    snapshots = released()
    assert snapshots, "contracts/ holds the released AsyncAPI documents"
    last = json.loads(snapshots[-1].read_text())
    report = compare(last, document())
    assert report.ok, report.text()
    assert version_tuple(CONTRACT_VERSION) >= version_tuple(last["info"]["version"])


def test_the_released_snapshot_of_the_current_version_is_the_catalogue_when_it_exists() -> None:
    """A released contract is frozen: once contracts/asyncapi-<v>.json exists, changing the catalogue under the
    same version is allowed only compatibly (checked above); this checks the snapshot is a real document."""
    doc = json.loads(released()[-1].read_text())
    assert doc["asyncapi"] == "3.0.0" and "domain.created.v1" in doc["components"]["messages"]


def copy_of_the_catalogue(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "shared", tmp_path / "shared", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "contracts", tmp_path / "contracts")
    return tmp_path


def plant(root: Path, module: str, old: str, new: str) -> None:
    path = root / "shared" / "events" / module
    text = path.read_text()
    assert old in text, f"{old!r} not in {module}"
    path.write_text(text.replace(old, new, 1))


def check(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "shared.events.compat"], cwd=root, capture_output=True, text=True,
                          env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"}, timeout=120)


BREAKING = [
    pytest.param("domains.py", '    tld: str = Field(description="the top-level domain (product), e.g. be")',
                 '    top_level_domain: str = Field(description="renamed")',
                 r"domain\.created\.v1\.payload\.tld: field removed or renamed", id="renamed field"),
    pytest.param("hitpoints.py", "    hitpoints: int\n    limit: int\n", "    hitpoints: str\n    limit: int\n",
                 r"registrar\.blocked\.v1\.payload\.hitpoints: type changed from integer to string", id="changed type"),
    pytest.param("catalogue.py", "        DomainRenewed,\n", "",
                 r"domain\.renewed\.v1: event type removed", id="removed event type"),
    pytest.param("sessions.py", "    reason: RevocationReason\n", "    reason: RevocationReason\n    actor: str\n",
                 r"session\.revoked\.v1\.payload\.actor: new required field", id="new required field"),
]


@pytest.mark.parametrize(("module", "old", "new", "finding"), BREAKING)
def test_a_planted_breaking_change_fails_the_check_unless_the_major_version_moves(
    tmp_path: Path, module: str, old: str, new: str, finding: str
) -> None:
    root = copy_of_the_catalogue(tmp_path)
    plant(root, module, old, new)
    refused = check(root)
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert re.search(finding, refused.stdout), refused.stdout
    assert "need a new major version" in refused.stdout
    major = f"{version_tuple(CONTRACT_VERSION)[0] + 1}.0.0"
    plant(root, "version.py", f'CONTRACT_VERSION = "{CONTRACT_VERSION}"', f'CONTRACT_VERSION = "{major}"')
    accepted = check(root)
    assert accepted.returncode == 0 and "the major version moved" in accepted.stdout, accepted.stdout


def test_adding_an_optional_field_or_an_event_type_is_compatible(tmp_path: Path) -> None:
    root = copy_of_the_catalogue(tmp_path)
    plant(root, "sessions.py", "    reason: RevocationReason\n", "    reason: RevocationReason\n    note: str | None = None\n")
    done = check(root)
    assert done.returncode == 0, done.stdout
    assert "session.revoked.v1.payload.note: new optional field" in done.stdout
