#!/usr/bin/env bash
# make bench: run every benchmark in bench/ (or the ones named) against the real broker and database.
set -euo pipefail
source "$(dirname "$0")/common.sh"
prepare_platform
cd "$ROOT"
# the benchmarks publish as the broker's guest user, as the tests do: let it publish every event type
export EVENT_PUBLISHERS="${EVENT_PUBLISHERS:-$("$PY" -c 'import json; from shared.messaging.access import DEFAULT_PUBLISHERS as d; print(json.dumps({**d, "guest": ["*"]}))')}"
benches=("$@"); [ ${#benches[@]} -gt 0 ] || benches=(bench/bench_*.py)
for b in "${benches[@]}"; do say "$b"; "$PY" "$b"; done
