#!/usr/bin/env bash
# Ensures Debian's nginx is installed for tests/test_forwarded_nginx.py, which
# runs the compose gateway's own deploy/compose/nginx.conf in front of the edge.
# Prints the binary's path. Only the package: the test starts its own nginx
# (own prefix, own port, no daemon), never the system service.
set -euo pipefail
if [ -x /usr/sbin/nginx ]; then
  echo /usr/sbin/nginx
  exit 0
fi
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
echo "nginx.sh: installing nginx-light" >&2
$SUDO apt-get install -y -q --no-install-recommends nginx-light >&2 || {
  $SUDO apt-get update -q >&2
  $SUDO apt-get install -y -q --no-install-recommends nginx-light >&2
}
# Where a package install starts the system's nginx on :80, stop it: nothing here uses it.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet nginx 2>/dev/null; then
  $SUDO systemctl disable --now nginx >&2 || true
fi
echo /usr/sbin/nginx
