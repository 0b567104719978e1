#!/usr/bin/env bash
# What the console's browser tests (tests/browser) need: Debian's chromium (installed when missing and root;
# Playwright drives it, never `playwright install`) and axe-core from the npm registry into .tools/axe-core.
set -euo pipefail
source "$(dirname "$0")/common.sh"
AXE_VERSION="4.14.1"

apt_install() {
  if [ "$(id -u)" != 0 ]; then die "$1 is missing: install it (apt-get install -y $2) or run as root"; fi
  say "installing $2"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null
}

[ -x /usr/bin/chromium ] || apt_install chromium chromium
command -v npm >/dev/null || apt_install npm npm

if [ ! -f "$TOOLS/axe-core/axe.min.js" ] || ! grep -q "axe v$AXE_VERSION" "$TOOLS/axe-core/axe.min.js"; then
  say "fetching axe-core $AXE_VERSION from the npm registry"
  work="$(mktemp -d)"
  (cd "$work" && npm pack --silent "axe-core@$AXE_VERSION" >/dev/null && tar -xzf "axe-core-$AXE_VERSION.tgz")
  mkdir -p "$TOOLS/axe-core"
  cp "$work/package/axe.min.js" "$TOOLS/axe-core/axe.min.js"
  rm -rf "$work"
fi
