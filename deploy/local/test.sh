#!/usr/bin/env bash
# make test: install, start what the tests need, run the whole suite. Extra arguments go to pytest.
set -euo pipefail
source "$(dirname "$0")/common.sh"
prepare_platform
bash "$ROOT/deploy/local/ensure-browser.sh"  # chromium and axe-core for tests/browser
cd "$ROOT"
"$PY" -m pytest "$@"
