# Shared by the deploy/local scripts: paths and defaults. Sourced, not run.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VENV="$ROOT/.venv"
TOOLS="$ROOT/.tools"
DATA="$ROOT/.data"
PY="$VENV/bin/python"

export AMQP_URL="${AMQP_URL:-amqp://guest:guest@127.0.0.1:5672/}"
# retryWrites=false: the local stand-in slows down tenfold with retryable writes (../shared/reference/mongodb.md).
# Against a real replica set, set MONGODB_URL without it.
export MONGODB_URL="${MONGODB_URL:-mongodb://127.0.0.1:27017/?retryWrites=false}"
# make run / test / bench run a development platform: production (the services' default) refuses the
# development values these scripts give (README: production checklist)
export ENVIRONMENT="${ENVIRONMENT:-development}"

say() { printf '\033[1m[%s]\033[0m %s\n' "$(basename "$0" .sh)" "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }

# host and port out of a URL such as amqp://u:p@host:5672/vhost or mongodb://host:27017/?x=y
url_host() { python3 -c 'import sys,urllib.parse as u; print(u.urlsplit(sys.argv[1]).hostname or "127.0.0.1")' "$1"; }
url_port() { python3 -c 'import sys,urllib.parse as u; print(u.urlsplit(sys.argv[1]).port or int(sys.argv[2]))' "$1" "$2"; }

# true when something accepts TCP connections at host:port
port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

wait_port() { # host port seconds
  local i
  for ((i = 0; i < $3 * 4; i++)); do port_open "$1" "$2" && return 0; sleep 0.25; done
  return 1
}

# stop_started WHAT PIDFILE: stop the process an ensure-*.sh script started (its pid file), and nothing else
stop_started() {
  local what="$1" pidfile="$2" pid
  [ -f "$pidfile" ] || return 0
  pid="$(cat "$pidfile")"
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid"; for _ in $(seq 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    kill -9 "$pid" 2>/dev/null || true
    say "stopped $what (pid $pid)"
  fi
  rm -f "$pidfile"
}

# Install, and start RabbitMQ and MongoDB where they do not answer. A MongoDB stand-in started here is
# stopped again when the calling script exits; one that was already running is left alone.
prepare_platform() {
  bash "$ROOT/deploy/local/bootstrap.sh"
  bash "$ROOT/deploy/local/ensure-rabbitmq.sh"
  bash "$ROOT/deploy/local/ensure-knot.sh" --install-only
  if ! port_open "$(url_host "$MONGODB_URL")" "$(url_port "$MONGODB_URL" 27017)"; then
    trap 'bash "$ROOT/deploy/local/stop-mongodb.sh"' EXIT
  fi
  bash "$ROOT/deploy/local/ensure-mongodb.sh"
}

# ensure_system_tools command:debian-package ...: install the Debian packages whose commands are missing
ensure_system_tools() {
  local missing=() pair
  for pair in "$@"; do command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair#*:}"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "installing Debian's ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    die "the tests need ${missing[*]} (Debian packages): install them, as root: apt-get install ${missing[*]}"
  fi
}
