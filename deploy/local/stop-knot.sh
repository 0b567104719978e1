#!/usr/bin/env bash
# Stops the Knot DNS server that ensure-knot.sh started (and nothing else): `make clean` removes its data, and a
# knotd left running without it would answer on the port and refuse every zone the next `make run` publishes.
set -uo pipefail
source "$(dirname "$0")/common.sh"
stop_started "Knot DNS" "$DATA/knot/knotd.pid"
