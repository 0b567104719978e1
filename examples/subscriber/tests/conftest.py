"""The example's tests run inside the platform's repository: the contract package is built from
shared/events (as packages/registry-events/build.py does for the wheel) and put on the path, so the example
imports `registry_events` exactly as a team outside would after `pip install registry-events`."""

import importlib.util
import sys
import tempfile
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[1]
ROOT = EXAMPLE.parents[1]

_spec = importlib.util.spec_from_file_location("registry_events_build", ROOT / "packages/registry-events/build.py")
assert _spec and _spec.loader
_build = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_build)
_source = Path(tempfile.mkdtemp(prefix="registry-events-"))
_build.write_source(_source)
sys.path[:0] = [str(_source), str(EXAMPLE), str(ROOT)]
