#!/usr/bin/env bash
# Creates .venv with the locked dependencies; re-installs only when a lock file changed.
set -euo pipefail
source "$(dirname "$0")/common.sh"

PYTHON="${PYTHON:-python3}"
"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
  || die "Python 3.11 or newer is needed (found $("$PYTHON" --version 2>&1)); set PYTHON=/path/to/python3.11"

if [ ! -x "$PY" ]; then
  say "creating $VENV"
  "$PYTHON" -m venv "$VENV"
fi
stamp="$VENV/.locks.sha256"
want="$(cat "$ROOT/requirements-dev.lock" "$ROOT/pyproject.toml" | sha256sum | cut -d' ' -f1)"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  say "installing locked dependencies"
  "$PY" -m pip install -q --disable-pip-version-check --require-hashes -r "$ROOT/requirements-dev.lock"
  "$PY" -m pip install -q --disable-pip-version-check --no-deps -e "$ROOT"
  echo "$want" > "$stamp"
fi
