#!/usr/bin/env bash
# make bench: every benchmark in bench/ (or the ones named), each on a fresh throw-away MongoDB stand-in of its
# own (bench/run_all.py), against the local RabbitMQ; prints one table of raw capacities and platform figures.
set -euo pipefail
source "$(dirname "$0")/common.sh"
bash "$ROOT/deploy/local/bootstrap.sh"
bash "$ROOT/deploy/local/ensure-rabbitmq.sh"
[ -n "${BENCH_MONGODB_URL:-}" ] || bash "$ROOT/deploy/local/ensure-mongodb.sh" --install-only
cd "$ROOT"
"$PY" bench/run_all.py "$@"
