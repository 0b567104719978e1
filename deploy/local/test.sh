#!/usr/bin/env bash
# make test: install, start what the tests need, run the whole suite. Extra arguments go to pytest.
set -euo pipefail
source "$(dirname "$0")/common.sh"

bash "$ROOT/deploy/local/bootstrap.sh"
bash "$ROOT/deploy/local/ensure-rabbitmq.sh"
started_mongo=0
port_open "$(url_host "$MONGODB_URL")" "$(url_port "$MONGODB_URL" 27017)" || started_mongo=1
bash "$ROOT/deploy/local/ensure-mongodb.sh"
# stop only what this run started
[ "$started_mongo" = 1 ] && trap 'bash "$ROOT/deploy/local/stop-mongodb.sh"' EXIT

cd "$ROOT"
"$PY" -m pytest "$@"
