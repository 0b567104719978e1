#!/usr/bin/env bash
# make test: install, start what the tests need, run the whole suite. Extra arguments go to pytest.
set -euo pipefail
source "$(dirname "$0")/common.sh"
prepare_platform
# system tools the tests use: bubblewrap (containers started as their images would,
# tests/integration/test_container_start.py), promtool and amtool (deploy/ checked by Prometheus's own tools)
ensure_system_tools bwrap:bubblewrap promtool:prometheus amtool:prometheus-alertmanager
bash "$ROOT/deploy/local/ensure-browser.sh"  # chromium and axe-core for tests/browser
cd "$ROOT"
"$PY" -m pytest "$@"
