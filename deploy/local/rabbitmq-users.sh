#!/usr/bin/env bash
# make run: one RabbitMQ user per service, a feeds user and a read-only subscriber user, with their
# permissions and topic permissions (shared/messaging/access.py, the same as deploy/rabbitmq/definitions.json),
# applied to the local broker with rabbitmqctl. Passwords are random, kept in .data/rabbitmq-users.json.
# Exits 1 (changing nothing) when the broker is not local or rabbitmqctl cannot reach it.
set -euo pipefail
source "$(dirname "$0")/common.sh"

host="$(url_host "$AMQP_URL")"
case "$host" in 127.*|localhost|::1) ;; *) say "RabbitMQ at $host is not local: not creating users"; exit 1;; esac
command -v rabbitmqctl >/dev/null 2>&1 || { say "rabbitmqctl is not installed: not creating users"; exit 1; }
timeout 30 rabbitmqctl -q status >/dev/null 2>&1 || { say "rabbitmqctl cannot reach the node (not root?): not creating users"; exit 1; }
file="${RABBITMQ_USERS_FILE:-$DATA/rabbitmq-users.json}"
mkdir -p "$(dirname "$file")"
vhost="$("$PY" -c 'import sys,urllib.parse as u; print(u.unquote(u.urlsplit(sys.argv[1]).path[1:]) or "/")' "$AMQP_URL")"
# NAMESPACE set: users of its own (<namespace>-registry ...), so a second platform never changes the first's
"$PY" -m shared.messaging.access apply --passwords "$file" --vhost "$vhost"
say "RabbitMQ users ready (passwords in $file)"
