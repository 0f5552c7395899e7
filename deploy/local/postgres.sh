#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for tests and the local stack, on machines
# without Docker (Debian 12; installs the server with apt-get when missing).
#
#   deploy/local/postgres.sh start     install if needed, initdb once, start, wait;
#                                      prints the URL as the last line of stdout
#   deploy/local/postgres.sh stop      fast shutdown (waits for it)
#   deploy/local/postgres.sh restart   stop then start, keeping the data
#   deploy/local/postgres.sh wipe      stop and delete the cluster
#   deploy/local/postgres.sh status    exit 0 when our cluster runs and answers
#   deploy/local/postgres.sh url       print the URL (also: address)
#   deploy/local/postgres.sh psql ...  run psql against the cluster as `postgres`
#
#   addr=$(deploy/local/postgres.sh start | tail -1)
#   # -> postgresql://postgres@127.0.0.1:55432/postgres
#
# Environment: EPROC_LOCAL_DIR (state dir, default <repo>/.local),
# EPROC_PG_PORT (default 55432). Progress goes to stderr. Trust auth, listens on
# 127.0.0.1 only, fsync off: for tests, never for data you want to keep.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
STATE="${EPROC_LOCAL_DIR:-$REPO_ROOT/.local}"
PORT="${EPROC_PG_PORT:-55432}"
HOST=127.0.0.1
URL="postgresql://postgres@$HOST:$PORT/postgres"
LOCK="$STATE/postgres.lock"
START_TIMEOUT="${EPROC_PG_START_TIMEOUT:-120}"
EXTENSIONS=(pg_trgm unaccent)

log() { echo "postgres.sh: $*" >&2; }
die() {
    log "error: $*"
    exit 1
}

as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        die "need root for: $* (run as root or install sudo)"
    fi
}

# PostgreSQL refuses to run as root: as root, the server runs as the `postgres`
# OS user that the Debian package creates; as anyone else, as that user.
IS_ROOT=0
[ "$(id -u)" -eq 0 ] && IS_ROOT=1
PG_OS_USER="$(id -un)"
[ "$IS_ROOT" -eq 1 ] && PG_OS_USER=postgres

as_pg() {
    if [ "$IS_ROOT" -eq 1 ]; then
        (cd / && runuser -u postgres -- "$@")
    else
        "$@"
    fi
}

pg_bindir() {
    local d
    d=$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -1)
    [ -n "$d" ] && [ -x "$d/initdb" ] && echo "$d"
}

install_postgres() {
    if pg_bindir >/dev/null && compgen -G "/usr/share/postgresql/*/extension/pg_trgm.control" >/dev/null &&
        command -v psql >/dev/null 2>&1; then
        return 0
    fi
    log "installing postgresql postgresql-contrib with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    if ! as_root apt-get install -y --no-install-recommends postgresql postgresql-contrib >&2; then
        as_root apt-get update >&2
        as_root apt-get install -y --no-install-recommends postgresql postgresql-contrib >&2
    fi
    pg_bindir >/dev/null || die "no /usr/lib/postgresql/*/bin/initdb after installing postgresql"
}

# Where the cluster lives. Normally $STATE/postgres; as root, the `postgres` user
# must be able to reach and write it, which fails when the repository sits under
# a private directory such as /root. Then (or when the path is too long for a
# unix socket) a directory under /tmp is used and recorded in $STATE/postgres.dir.
resolve_pgdir() {
    local preferred="$STATE/postgres" fallback
    fallback="${TMPDIR:-/tmp}/eproc-postgres-$(id -u)-$(printf '%s' "$STATE" | cksum | cut -d' ' -f1)"
    if [ -f "$STATE/postgres.dir" ]; then
        PGDIR=$(cat "$STATE/postgres.dir")
    else
        PGDIR=$preferred
    fi
    [ "${1:-}" = create ] || return 0
    for candidate in "$PGDIR" "$fallback"; do
        # 107 bytes is the limit for a unix socket path (.../run/.s.PGSQL.NNNNN).
        [ ${#candidate} -le 80 ] || continue
        mkdir -p "$candidate"
        [ "$IS_ROOT" -eq 1 ] && chown postgres:postgres "$candidate"
        chmod 700 "$candidate"
        if as_pg test -w "$candidate" -a -x "$candidate"; then
            PGDIR=$candidate
            if [ "$PGDIR" = "$preferred" ]; then
                rm -f "$STATE/postgres.dir"
            elif [ ! -f "$STATE/postgres.dir" ]; then
                log "using $PGDIR ($preferred is not usable by OS user $PG_OS_USER)"
                echo "$PGDIR" >"$STATE/postgres.dir"
            fi
            return 0
        fi
    done
    die "no directory usable by OS user $PG_OS_USER for the cluster (tried $PGDIR, $fallback)"
}

set_paths() {
    DATA="$PGDIR/data"
    SOCKDIR="$PGDIR/run"
    LOGFILE="$PGDIR/postgres.log"
}

pick_locale() {
    # A UTF-8 LC_CTYPE matters: with plain C, lower()/ILIKE/pg_trgm ignore
    # non-ASCII letters (é, ü, ...). C.UTF-8 keeps byte-order collation.
    local have
    have=$(locale -a 2>/dev/null | tr '[:upper:]' '[:lower:]' || true)
    for l in C.UTF-8 en_US.UTF-8; do
        if printf '%s\n' "$have" | grep -qx "$(echo "$l" | tr '[:upper:]' '[:lower:]' | sed 's/utf-8/utf8/')"; then
            echo "--locale=$l"
            return
        fi
    done
    log "warning: no UTF-8 locale found; using the C locale"
    echo "--no-locale"
}

init_cluster() {
    [ -f "$DATA/PG_VERSION" ] && return 0
    local bindir
    bindir=$(pg_bindir)
    rm -rf "$DATA"
    log "initdb in $DATA"
    if ! as_pg "$bindir/initdb" -D "$DATA" -U postgres --auth=trust -E UTF8 "$(pick_locale)" \
        --no-sync >"$STATE/postgres-initdb.log" 2>&1; then
        cat "$STATE/postgres-initdb.log" >&2
        die "initdb failed"
    fi
    as_pg sh -c "printf '%s\n' \"include = 'eproc.conf'\" >> '$DATA/postgresql.conf'"
}

write_config() {
    # Regenerated on every start so that EPROC_PG_PORT and the paths may change.
    as_pg mkdir -p "$SOCKDIR"
    as_pg tee "$DATA/eproc.conf" >/dev/null <<EOF
# Written by deploy/local/postgres.sh on every start; edits are lost.
listen_addresses = '$HOST'
port = $PORT
unix_socket_directories = '$SOCKDIR'
max_connections = 300
fsync = off
synchronous_commit = off
full_page_writes = off
EOF
}

# A process that exists and is not a zombie (a SIGKILLed server stays a zombie
# until its parent, often PID 1, reaps it; kill -0 still succeeds on it).
pid_alive() {
    local st
    [ -n "${1:-}" ] && [ -r "/proc/$1/stat" ] || return 1
    st=$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1) || return 1
    [ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

postmaster_pid() {
    head -1 "$DATA/postmaster.pid" 2>/dev/null || true
}

pg_running() {
    [ -n "${DATA:-}" ] || return 1
    local pid
    pid=$(postmaster_pid)
    pid_alive "$pid" && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = postgres ]
}

# After a SIGKILL the server's pid (in postmaster.pid) may linger as a zombie
# for a moment, and the server refuses to start while it exists.
wait_for_dead_postmaster() {
    local pid
    pid=$(postmaster_pid)
    [ -n "$pid" ] || return 0
    for _ in $(seq 1 100); do
        [ -e "/proc/$pid" ] || return 0
        sleep 0.1
    done
}

pg_answers() {
    local bindir
    bindir=$(pg_bindir) || return 1
    "$bindir/pg_isready" -q -h "$HOST" -p "$PORT" -U postgres -d postgres -t 2 >/dev/null 2>&1
}

# The port the running server was started with (line 4 of postmaster.pid).
running_port() {
    sed -n 4p "$DATA/postmaster.pid" 2>/dev/null || true
}

ensure_extensions() {
    local bindir sql=""
    bindir=$(pg_bindir)
    for e in "${EXTENSIONS[@]}"; do sql+="CREATE EXTENSION IF NOT EXISTS $e; "; done
    for db in template1 postgres; do
        "$bindir/psql" -X -q -v ON_ERROR_STOP=1 -h "$HOST" -p "$PORT" -U postgres -d "$db" \
            -c "SET client_min_messages = warning; $sql" >&2
    done
}

take_lock() {
    mkdir -p "$STATE"
    exec 9>"$LOCK"
    if ! flock -n 9; then
        log "waiting for another postgres.sh to finish ($LOCK)"
        flock -w 900 9 || die "timed out waiting for $LOCK"
    fi
}

start() {
    take_lock
    install_postgres
    resolve_pgdir create
    set_paths
    local bindir t0
    bindir=$(pg_bindir)
    t0=$(date +%s.%N)
    if pg_running; then
        if [ "$(running_port)" != "$PORT" ]; then
            die "our cluster already runs on port $(running_port), not $PORT; run '$0 stop' first"
        fi
        if pg_answers; then
            log "already running on $HOST:$PORT ($DATA)"
            echo "$URL"
            return 0
        fi
        log "running but not answering yet (recovering?); waiting"
    else
        if pg_answers; then
            die "another server already answers on $HOST:$PORT; set EPROC_PG_PORT or stop it"
        fi
        wait_for_dead_postmaster
        init_cluster
        write_config
        log "starting PostgreSQL $("$bindir/postgres" -V | awk '{print $3}') on $HOST:$PORT (log: $LOGFILE)"
        # fd 9 (the lock) must not leak into the server, or it would hold the lock forever.
        if ! as_pg "$bindir/pg_ctl" start -D "$DATA" -l "$LOGFILE" -w -t "$START_TIMEOUT" >&2 9>&-; then
            log "pg_ctl start failed; log follows"
            tail -n 30 "$LOGFILE" >&2 || true
            exit 1
        fi
    fi
    local deadline=$((SECONDS + START_TIMEOUT))
    until pg_answers; do
        pg_running || die "PostgreSQL exited (see $LOGFILE)"
        [ $SECONDS -lt $deadline ] || die "PostgreSQL does not answer on $HOST:$PORT (see $LOGFILE)"
        sleep 0.2
    done
    ensure_extensions
    log "ready in $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s: $URL"
    echo "$URL"
}

stop_locked() {
    resolve_pgdir
    set_paths
    if ! pg_running; then
        log "not running"
        return 0
    fi
    local bindir
    bindir=$(pg_bindir)
    if ! as_pg "$bindir/pg_ctl" stop -D "$DATA" -m fast -w -t 60 >&2; then
        log "fast shutdown timed out; immediate shutdown"
        as_pg "$bindir/pg_ctl" stop -D "$DATA" -m immediate -w -t 30 >&2 || true
    fi
    log "stopped"
}

stop() {
    take_lock
    stop_locked
}

wipe() {
    take_lock
    stop_locked
    resolve_pgdir
    log "deleting $PGDIR"
    rm -rf "$PGDIR"
    rm -f "$STATE/postgres.dir"
}

status() {
    resolve_pgdir
    set_paths
    if pg_running && [ "$(running_port)" = "$PORT" ] && pg_answers; then
        echo "running (pid $(postmaster_pid)), $URL, data $DATA"
        return 0
    fi
    echo "not running"
    return 3
}

run_psql() {
    local bindir
    bindir=$(pg_bindir) || die "PostgreSQL is not installed"
    exec "$bindir/psql" -X -h "$HOST" -p "$PORT" -U postgres -d postgres "$@"
}

case "${1:-}" in
start) start ;;
stop) stop ;;
restart)
    stop
    exec 9>&-
    start
    ;;
wipe) wipe ;;
status) status ;;
url | address) echo "$URL" ;;
psql)
    shift
    run_psql "$@"
    ;;
*)
    echo "usage: $0 start|stop|restart|wipe|status|url|address|psql [args]" >&2
    exit 2
    ;;
esac
