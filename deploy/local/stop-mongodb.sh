#!/usr/bin/env bash
# Stops the MongoDB stand-in that ensure-mongodb.sh started (and nothing else).
set -uo pipefail
source "$(dirname "$0")/common.sh"
stop_started "the MongoDB stand-in" "$DATA/mongo.pid"
