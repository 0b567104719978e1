#!/usr/bin/env bash
# make bench: every benchmark in bench/ (or the ones named), each on a fresh throw-away MongoDB stand-in of its
# own (bench/run_all.py), against the local RabbitMQ; prints one table of raw capacities and platform figures.
set -euo pipefail
source "$(dirname "$0")/common.sh"
bash "$ROOT/deploy/local/bootstrap.sh"
bash "$ROOT/deploy/local/ensure-rabbitmq.sh"
[ -n "${BENCH_MONGODB_URL:-}" ] || bash "$ROOT/deploy/local/ensure-mongodb.sh" --install-only
cd "$ROOT"
# the benchmarks publish as the broker's guest user, as the tests do: let it publish every event type
export EVENT_PUBLISHERS="${EVENT_PUBLISHERS:-$("$PY" -c 'import json; from shared.messaging.access import DEFAULT_PUBLISHERS as d; print(json.dumps({**d, "guest": ["*"]}))')}"
"$PY" bench/run_all.py "$@"
