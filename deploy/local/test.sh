#!/usr/bin/env bash
# make test: install, start what the tests need, run the whole suite. Extra arguments go to pytest.
set -euo pipefail
source "$(dirname "$0")/common.sh"
prepare_platform
cd "$ROOT"
"$PY" -m pytest "$@"
