#!/usr/bin/env bash
# make run: install what is missing, start RabbitMQ and MongoDB if needed, then the five services
# (deploy/local/platform.py supervises them; Ctrl-C stops everything this command started).
set -euo pipefail
source "$(dirname "$0")/common.sh"
prepare_platform
cd "$ROOT"
export SEED_DEMO_REGISTRAR="${SEED_DEMO_REGISTRAR:-true}"
export OPERATOR_TOKEN="${OPERATOR_TOKEN:-operator-dev-token}"  # local only; set your own anywhere else
"$PY" deploy/local/platform.py
