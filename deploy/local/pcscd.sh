#!/usr/bin/env bash
# Start, stop or inspect a local pcscd with vsmartcard's vpcd driver, so that a
# virtual eID card (services/eid-gateway, `eid-card insert`) can be "inserted"
# by connecting to TCP 127.0.0.1:35963.
#
#   deploy/local/pcscd.sh start    install if needed, start, wait for vpcd
#   deploy/local/pcscd.sh stop     stop the pcscd this script started
#   deploy/local/pcscd.sh status   exit 0 when the vpcd port listens
#
# Installs pcscd, vsmartcard-vpcd, libpcsclite-dev and swig (to build pyscard) and
# opensc (interoperability tests) when missing.
# Idempotent: "start" does nothing when a pcscd (ours or the system's) already
# serves the vpcd port. Works as root on a fresh Debian 12 (uses sudo otherwise).
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
STATE_DIR="${EPROC_PCSCD_DIR:-$REPO_ROOT/.local/pcscd}"
PIDFILE="$STATE_DIR/pcscd.pid"
LOGFILE="$STATE_DIR/pcscd.log"
VPCD_PORT=35963
VPCD_DRIVER=/usr/lib/pcsc/drivers/serial/libifdvpcd.so

log() { echo "pcscd.sh: $*" >&2; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# Reads /proc/net/tcp rather than connecting: a TCP connection to the vpcd port
# would itself be taken by vpcd as a card insertion.
port_listens() {
    local hex
    hex=$(printf '%04X' "$VPCD_PORT")
    awk -v port=":$hex" 'NR > 1 && $4 == "0A" && substr($2, length($2) - 4) == port { found = 1 }
        END { exit found ? 0 : 1 }' /proc/net/tcp /proc/net/tcp6 2>/dev/null
}

missing_packages() {
    local missing=()
    command -v pcscd >/dev/null 2>&1 || [ -x /usr/sbin/pcscd ] || missing+=(pcscd)
    compgen -G "${VPCD_DRIVER}*" >/dev/null || missing+=(vsmartcard-vpcd)
    [ -e /usr/include/PCSC/winscard.h ] || missing+=(libpcsclite-dev)
    command -v swig >/dev/null 2>&1 || missing+=(swig)
    # OpenSC: an independent PKCS#15 reader the tests check the virtual card against.
    command -v pkcs15-tool >/dev/null 2>&1 || missing+=(opensc)
    echo "${missing[@]:-}"
}

install_packages() {
    local missing
    missing=$(missing_packages)
    [ -z "$missing" ] && return 0
    log "installing: $missing"
    export DEBIAN_FRONTEND=noninteractive
    # shellcheck disable=SC2086 # word splitting of the package list is wanted
    if ! as_root apt-get install -y --no-install-recommends $missing; then
        as_root apt-get update
        # shellcheck disable=SC2086
        as_root apt-get install -y --no-install-recommends $missing
    fi
}

our_pid() {
    [ -f "$PIDFILE" ] || return 1
    local pid
    pid=$(cat "$PIDFILE")
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

pcscd_bin() {
    command -v pcscd 2>/dev/null || echo /usr/sbin/pcscd
}

start() {
    install_packages
    if port_listens; then
        log "vpcd already listens on 127.0.0.1:$VPCD_PORT"
        return 0
    fi
    mkdir -p "$STATE_DIR"
    if ! our_pid >/dev/null; then
        # A stale socket or pid file from a killed daemon makes pcscd refuse to start.
        if ! pgrep -x pcscd >/dev/null 2>&1; then
            as_root rm -f /run/pcscd/pcscd.comm /run/pcscd/pcscd.pid
        fi
        as_root mkdir -p /run/pcscd
        nohup "$(pcscd_bin)" --foreground >"$LOGFILE" 2>&1 </dev/null &
        echo $! >"$PIDFILE"
    fi
    for _ in $(seq 1 100); do
        if port_listens; then
            log "started (pid $(cat "$PIDFILE")), vpcd listens on 127.0.0.1:$VPCD_PORT"
            return 0
        fi
        if ! our_pid >/dev/null; then
            log "pcscd exited; log follows"
            cat "$LOGFILE" >&2 || true
            return 1
        fi
        sleep 0.1
    done
    log "timed out waiting for the vpcd port; log follows"
    cat "$LOGFILE" >&2 || true
    return 1
}

stop() {
    local pid
    if pid=$(our_pid); then
        kill "$pid"
        for _ in $(seq 1 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        log "stopped (pid $pid)"
    else
        log "no pcscd started by this script is running"
    fi
    rm -f "$PIDFILE"
}

status() {
    if port_listens; then
        if pid=$(our_pid); then
            echo "running (pid $pid), vpcd on 127.0.0.1:$VPCD_PORT"
        else
            echo "running (not started by this script), vpcd on 127.0.0.1:$VPCD_PORT"
        fi
        return 0
    fi
    echo "not running"
    return 3
}

case "${1:-}" in
start) start ;;
stop) stop ;;
status) status ;;
*)
    echo "usage: $0 start|stop|status" >&2
    exit 2
    ;;
esac
