#!/usr/bin/env bash
# make run: install what is missing, start RabbitMQ and MongoDB if needed, then the six services
# (deploy/local/platform.py supervises them; Ctrl-C stops everything this command started).
set -euo pipefail
source "$(dirname "$0")/common.sh"
prepare_platform
bash "$ROOT/deploy/local/ensure-knot.sh"  # the publication service's DNS server (left running, like RabbitMQ)
cd "$ROOT"
export SEED_DEMO_REGISTRAR="${SEED_DEMO_REGISTRAR:-true}"
export OPERATOR_TOKEN="${OPERATOR_TOKEN:-operator-dev-token}"  # local only; set your own anywhere else
export REPORTS_DIR="${REPORTS_DIR:-$DATA/reports}"  # the reporting service's report files
# the eID simulator approves whoever holds a verification link: local only (EID_PROVIDER= switches eID off)
export EID_PROVIDER="${EID_PROVIDER-simulator}"
# the notifications service's mail: a local SMTP catcher (mail in .data/mail) unless one listens already
export SMTP_HOST="${SMTP_HOST:-127.0.0.1}" SMTP_PORT="${SMTP_PORT:-1025}"
if ! port_open "$SMTP_HOST" "$SMTP_PORT"; then
  "$PY" deploy/local/mailcatcher.py --port "$SMTP_PORT" --dir "$DATA/mail" &
  CATCHER_PID=$!
  wait_port "$SMTP_HOST" "$SMTP_PORT" 10 || die "the SMTP catcher did not start on $SMTP_PORT"
  # keep the MongoDB clean-up prepare_platform may have set, and stop the catcher too
  PREVIOUS_EXIT="$(trap -p EXIT | sed -E "s/^trap -- '(.*)' EXIT$/\1/")"
  trap "kill $CATCHER_PID 2>/dev/null; ${PREVIOUS_EXIT}" EXIT
fi
# each service as its own RabbitMQ user (may publish only its own event types); without rabbitmqctl access all
# share AMQP_URL's user, which then may publish every type
export RABBITMQ_USERS_FILE="${RABBITMQ_USERS_FILE:-$DATA/rabbitmq-users.json}"
if ! bash deploy/local/rabbitmq-users.sh; then
  unset RABBITMQ_USERS_FILE
  amqp_user="$("$PY" -c 'import sys,urllib.parse as u; print(u.unquote(u.urlsplit(sys.argv[1]).username or "guest"))' "$AMQP_URL")"
  [ -n "${EVENT_PUBLISHERS:-}" ] || export EVENT_PUBLISHERS="$("$PY" -c 'import json,sys; print(json.dumps({sys.argv[1]: ["*"]}))' "$amqp_user")"
  say "all services connect as $amqp_user"
fi
"$PY" deploy/local/platform.py
