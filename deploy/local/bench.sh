#!/usr/bin/env bash
# make bench: run every benchmark in bench/ (or the ones named) against the real broker and database.
set -euo pipefail
source "$(dirname "$0")/common.sh"
prepare_platform
cd "$ROOT"
benches=("$@"); [ ${#benches[@]} -gt 0 ] || benches=(bench/bench_*.py)
for b in "${benches[@]}"; do say "$b"; "$PY" "$b"; done
