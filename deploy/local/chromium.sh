#!/usr/bin/env bash
# Ensures Debian's Chromium is installed for the browser tests (Playwright
# drives /usr/bin/chromium; it must never download a browser of its own).
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  echo /usr/bin/chromium
  exit 0
fi
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
echo "chromium.sh: installing chromium" >&2
$SUDO apt-get install -y -q chromium fonts-dejavu-core >&2 || {
  $SUDO apt-get update -q >&2
  $SUDO apt-get install -y -q chromium fonts-dejavu-core >&2
}
echo /usr/bin/chromium
