#!/usr/bin/env bash
# Makes sure Knot DNS serves the registry's zones at 127.0.0.1:$DNS_PORT (5353): uses a running one, else
# starts (or installs) the local one with its configuration, data and control socket in .data/knot
# (services/publication/knotconf.py writes them; the TSIG key is the local default, PublicationSettings).
# The tests start Knot servers of their own (tests/integration/knot.py) and need only the binary.
set -euo pipefail
source "$(dirname "$0")/common.sh"

port="${DNS_PORT:-5353}"
dir="$DATA/knot"

if ! command -v knotd >/dev/null 2>&1 && [ ! -x /usr/sbin/knotd ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "knotd is not installed: installing Debian's package knot"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq knot knot-dnsutils >/dev/null
  else
    die "Knot DNS is not installed. Install it (apt-get install knot), or run one and set DNS_HOST/DNS_PORT."
  fi
fi
[ "${1:-}" = "--install-only" ] && exit 0
knotd_bin="$(command -v knotd || echo /usr/sbin/knotd)"

if port_open 127.0.0.1 "$port"; then
  say "Knot DNS answers at 127.0.0.1:$port"; exit 0
fi
conf="$("$PY" -m services.publication.knotconf "$dir" "$port")"
say "starting knotd on 127.0.0.1:$port (data: $dir)"
setsid nohup "$knotd_bin" -c "$conf" >"$dir/knotd.out" 2>&1 &
echo $! >"$dir/knotd.pid"
wait_port 127.0.0.1 "$port" 30 || die "knotd did not open 127.0.0.1:$port within 30 s; see $dir/knot.log"
say "Knot DNS answers at 127.0.0.1:$port (pid $(cat "$dir/knotd.pid"))"
