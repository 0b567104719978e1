#!/usr/bin/env bash
# Makes sure a MongoDB-wire server answers at MONGODB_URL. A real one is used as it is; where none answers
# on loopback, the local stand-in (SecantusDB, ../shared/reference/mongodb.md) is installed into .tools/ and
# started with its data in .data/mongo. It is GPL-2.0 and runs as a separate process: never import it.
set -euo pipefail
source "$(dirname "$0")/common.sh"

SECANTUS_VERSION="0.7.0b3"
host="$(url_host "$MONGODB_URL")"; port="$(url_port "$MONGODB_URL" 27017)"
storage="${MONGODB_STANDIN_STORAGE:-$DATA/mongo}"
venv="$TOOLS/secantus"

install_standin() {
  if [ ! -x "$venv/bin/secantusd-py" ]; then
    say "installing the MongoDB stand-in SecantusDB $SECANTUS_VERSION into $venv"
    "${PYTHON:-python3}" -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check "SecantusDB==$SECANTUS_VERSION"
  fi
}

# --install-only: make bench starts throw-away stand-ins of its own (bench/run_all.py)
if [ "${1:-}" = "--install-only" ]; then
  install_standin; exit 0
fi

if port_open "$host" "$port"; then
  say "MongoDB answers at $host:$port"; exit 0
fi
case "$host" in 127.*|localhost) ;; *) die "MongoDB at $host:$port does not answer, and it is not local: start it, or point MONGODB_URL elsewhere";; esac

install_standin
mkdir -p "$storage" "$DATA"
say "starting the MongoDB stand-in on $host:$port (data: $storage)"
# its own session: a Ctrl-C meant for `make run` must not stop the database under the services' feet
# with the fixes of deploy/local/standin/ (a sorted, limited find over an index, or over _id, stops at the limit;
# GPL-2.0 like it)
setsid nohup "$venv/bin/python" "$ROOT/deploy/local/standin/secantusd_ordered_limit.py" --host "$host" --port "$port" --storage-path "$storage" --log-level WARNING \
  >"$DATA/mongo.log" 2>&1 &
echo $! >"$DATA/mongo.pid"
wait_port "$host" "$port" 30 || die "the stand-in did not open $host:$port within 30 s; see $DATA/mongo.log"
say "MongoDB stand-in answers at $host:$port (pid $(cat "$DATA/mongo.pid"))"
