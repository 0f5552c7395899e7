#!/usr/bin/env bash
# Debian's Chromium for the portal's browser tests. Playwright drives it through
# executable_path; we never let Playwright download a browser of its own.
set -euo pipefail
CHROMIUM=/usr/bin/chromium
if [ -x "$CHROMIUM" ]; then
    exit 0
fi
SUDO=""
if [ "$(id -u)" != "0" ]; then
    SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
# Serialise concurrent installs (several test sessions on one machine).
exec 9>/tmp/eproc-ensure-chromium.lock
flock 9
if [ ! -x "$CHROMIUM" ]; then
    $SUDO apt-get update -qq >/dev/null
    $SUDO apt-get install -y -qq chromium fonts-dejavu-core >/dev/null
fi
test -x "$CHROMIUM"
