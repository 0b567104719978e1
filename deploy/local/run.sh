#!/usr/bin/env bash
# make run: install what is missing, start RabbitMQ and MongoDB if needed, then the five services
# (deploy/local/platform.py supervises them; Ctrl-C stops everything this command started).
set -euo pipefail
source "$(dirname "$0")/common.sh"

bash "$ROOT/deploy/local/bootstrap.sh"
bash "$ROOT/deploy/local/ensure-rabbitmq.sh"
started_mongo=0
port_open "$(url_host "$MONGODB_URL")" "$(url_port "$MONGODB_URL" 27017)" || started_mongo=1
bash "$ROOT/deploy/local/ensure-mongodb.sh"
[ "$started_mongo" = 1 ] && trap 'bash "$ROOT/deploy/local/stop-mongodb.sh"' EXIT

cd "$ROOT"
export SEED_DEMO_REGISTRAR="${SEED_DEMO_REGISTRAR:-true}"
"$PY" deploy/local/platform.py
