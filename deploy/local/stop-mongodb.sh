#!/usr/bin/env bash
# Stops the MongoDB stand-in that ensure-mongodb.sh started (and nothing else).
set -uo pipefail
source "$(dirname "$0")/common.sh"
pidfile="$DATA/mongo.pid"
[ -f "$pidfile" ] || exit 0
pid="$(cat "$pidfile")"
if kill -0 "$pid" 2>/dev/null; then
  kill "$pid"; for _ in $(seq 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
  kill -9 "$pid" 2>/dev/null || true
  say "stopped the MongoDB stand-in (pid $pid)"
fi
rm -f "$pidfile"
