#!/usr/bin/env bash
# Apache Kafka (KRaft) for tests and the local stack, on machines without
# Docker: one combined broker+controller node (the default), or a cluster of N
# combined nodes on this one machine (EPROC_KAFKA_NODES=3: three voters of a
# static controller quorum, replication factor 3, min.insync.replicas=2, the
# same SASL/SCRAM and ACLs). The jars come from Maven (deploy/local/kafka/pom.xml)
# and are cached per Kafka version.
#
#   deploy/local/kafka.sh start    install Java/Maven if needed, fetch the jars
#                                  once, format storage once, start every node
#                                  that does not run, wait until all serve; prints
#                                  the bootstrap address(es) as the last line of stdout
#   deploy/local/kafka.sh stop     graceful stop (SIGTERM, SIGKILL after a timeout)
#   deploy/local/kafka.sh kill [NODE]  SIGKILL every node, or node NODE (1..N)
#                                  (crash tests; `start` brings it back)
#   deploy/local/kafka.sh restart  stop then start, keeping the data
#   deploy/local/kafka.sh wipe     stop and delete the data
#   deploy/local/kafka.sh status   exit 0 when every node runs and listens
#   deploy/local/kafka.sh address  print the bootstrap address (also: url)
#   deploy/local/kafka.sh nodes    print "NODE_ID HOST:PORT PID" per node (PID - when down)
#   deploy/local/kafka.sh admin-env  print the super user's credentials as
#                                  EPROC_KAFKA_USERNAME=... / EPROC_KAFKA_PASSWORD=...
#   deploy/local/kafka.sh tool CLASS ARGS...   run a Kafka tool, e.g.
#       deploy/local/kafka.sh tool org.apache.kafka.tools.TopicCommand --list \
#           --bootstrap-server 127.0.0.1:59092
#
#   addr=$(deploy/local/kafka.sh start | tail -1)    # -> 127.0.0.1:59092
#   EPROC_LOCAL_DIR=/tmp/cluster EPROC_KAFKA_PORT=59192 EPROC_KAFKA_NODES=3 \
#       deploy/local/kafka.sh start | tail -1        # -> 127.0.0.1:59192,127.0.0.1:59194,127.0.0.1:59196
#
# Security: the only client listener is SASL_PLAINTEXT with SCRAM-SHA-512, the
# StandardAuthorizer refuses what no ACL allows, and the one super user
# (EPROC_KAFKA_ADMIN_USER, default "admin") gets a random password the first
# time, kept in $EPROC_LOCAL_DIR/kafka/admin.env (mode 600; tests and
# `eproc stack up` read it). Its SCRAM credential is written at storage format
# time, so a state dir formatted without it (an older PLAINTEXT broker) or for
# another admin password is reformatted automatically (its data is test data).
# Service and application principals and their ACLs: `eproc kafka provision`.
#
# Environment: EPROC_LOCAL_DIR (state, default <repo>/.local; one state dir holds
# one broker or one cluster), EPROC_CACHE_DIR (jar cache, default ~/.cache/eproc),
# EPROC_KAFKA_PORT (default 59092: node n listens on PORT+2(n-1), its controller
# on the next port), EPROC_KAFKA_NODES (1, or 3 and more for a cluster; default 1),
# EPROC_KAFKA_ADMIN_USER, EPROC_KAFKA_ADMIN_PASSWORD (used when admin.env does not
# exist yet), EPROC_KAFKA_HEAP_OPTS, EPROC_KAFKA_JVM_OPTS, EPROC_KAFKA_START_TIMEOUT,
# EPROC_KAFKA_STOP_TIMEOUT (seconds).
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/../.." && pwd)"
POM="$SCRIPT_DIR/kafka/pom.xml"
LOG4J_CONFIG="$SCRIPT_DIR/kafka/log4j2.xml"
TEMPLATE="$SCRIPT_DIR/kafka/server.properties.template"

STATE="${EPROC_LOCAL_DIR:-$REPO_ROOT/.local}"
KDIR="$STATE/kafka"
ADMIN_ENV="$KDIR/admin.env"
# Bumped whenever the listeners' security changes in a way that needs a reformat.
SECURITY="sasl-scram-sha-512/1"
LOCK="$STATE/kafka.lock"

PORT="${EPROC_KAFKA_PORT:-59092}"
NODES="${EPROC_KAFKA_NODES:-1}"
[[ "$NODES" =~ ^[0-9]+$ ]] && { [ "$NODES" -eq 1 ] || [ "$NODES" -ge 3 ]; } ||
    { echo "kafka.sh: EPROC_KAFKA_NODES must be 1 or 3+ (min.insync.replicas=2 needs 3)" >&2; exit 2; }
HOST=127.0.0.1
START_TIMEOUT="${EPROC_KAFKA_START_TIMEOUT:-180}"
STOP_TIMEOUT="${EPROC_KAFKA_STOP_TIMEOUT:-30}"
if [ "$NODES" -eq 1 ]; then
    HEAP_OPTS="${EPROC_KAFKA_HEAP_OPTS:--Xmx512m -Xms256m}"
else
    HEAP_OPTS="${EPROC_KAFKA_HEAP_OPTS:--Xmx384m -Xms128m}"
fi
# Serial GC and C1 only: the broker idles in tests, and on 2 cores a faster,
# lighter start matters more than peak throughput (measured in README.md).
JVM_OPTS="${EPROC_KAFKA_JVM_OPTS:--XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xss512k -XX:MaxMetaspaceSize=256m -Djava.awt.headless=true}"
READY_LINE="Kafka Server started"

node_port() { echo $((PORT + 2 * ($1 - 1))); }

ADDRESS=""
QUORUM=""
for ((n = 1; n <= NODES; n++)); do
    ADDRESS+="${ADDRESS:+,}$HOST:$(node_port "$n")"
    QUORUM+="${QUORUM:+,}$n@$HOST:$(($(node_port "$n") + 1))"
done

# Node n's files and ports. One node keeps the historical layout (kafka/data,
# kafka/logs, ...); a cluster has kafka/node-<n>/{data,logs,...} per node.
use_node() {
    NODE=$1
    if [ "$NODES" -eq 1 ]; then
        NDIR="$KDIR"
    else
        NDIR="$KDIR/node-$NODE"
    fi
    DATA="$NDIR/data"
    LOGDIR="$NDIR/logs"
    LOGFILE="$LOGDIR/server.log"
    PIDFILE="$NDIR/kafka.pid"
    CONFIG="$NDIR/server.properties"
    NODE_PORT=$(node_port "$NODE")
    CONTROLLER_PORT=$((NODE_PORT + 1))
}
use_node 1

log() { echo "kafka.sh: $*" >&2; }
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

apt_install() {
    log "installing $* with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    if ! as_root apt-get install -y --no-install-recommends "$@" >&2; then
        as_root apt-get update >&2
        as_root apt-get install -y --no-install-recommends "$@" >&2
    fi
}

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

kafka_version() {
    sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$POM" | head -1
}

# --- Java and Maven ---------------------------------------------------------

java_major() {
    "$1" -version 2>&1 | awk -F'"' '/version/ { split($2, v, "."); print (v[1] == "1" ? v[2] : v[1]); exit }'
}

find_java() {
    local candidates=() c m
    [ -n "${JAVA_HOME:-}" ] && candidates+=("$JAVA_HOME/bin/java")
    c=$(command -v java 2>/dev/null || true)
    [ -n "$c" ] && candidates+=("$c")
    for c in /usr/lib/jvm/java-17-openjdk-*/bin/java /usr/lib/jvm/*/bin/java; do
        [ -x "$c" ] && candidates+=("$c")
    done
    for c in "${candidates[@]}"; do
        [ -x "$c" ] || continue
        m=$(java_major "$c" 2>/dev/null || true)
        if [ -n "$m" ] && [ "$m" -ge 17 ] 2>/dev/null; then
            echo "$c"
            return 0
        fi
    done
    return 1
}

ensure_java() {
    JAVA=$(find_java) && return 0
    apt_install openjdk-17-jre-headless
    JAVA=$(find_java) || die "no Java 17+ after installing openjdk-17-jre-headless"
}

ensure_maven() {
    command -v mvn >/dev/null 2>&1 && return 0
    apt_install maven
    command -v mvn >/dev/null 2>&1 || die "no mvn after installing maven"
}

# --- jar cache ----------------------------------------------------------------

CACHE_ROOT="${EPROC_CACHE_DIR:-${HOME:-/root}/.cache/eproc}"
VERSION="$(kafka_version)"
[ -n "$VERSION" ] || die "cannot read <kafka.version> from $POM"
CACHE="$CACHE_ROOT/kafka-$VERSION"
LIBS="$CACHE/libs"

pom_stamp() {
    cksum <"$POM" | cut -d' ' -f1
}

cache_ok() {
    [ -f "$CACHE/pom.cksum" ] && [ "$(cat "$CACHE/pom.cksum")" = "$(pom_stamp)" ] &&
        compgen -G "$LIBS/kafka_2.13-*.jar" >/dev/null
}

# Fetches into a temporary directory and renames it into place, so an
# interrupted fetch never leaves a half cache. The cache may be shared by
# several checkouts, hence its own lock.
ensure_jars() {
    cache_ok && return 0
    mkdir -p "$CACHE_ROOT"
    exec 8>"$CACHE_ROOT/kafka-$VERSION.lock"
    flock -w 900 8 || die "timed out waiting for $CACHE_ROOT/kafka-$VERSION.lock"
    if cache_ok; then
        exec 8>&-
        return 0
    fi
    ensure_maven
    local t0 tmp old
    t0=$(now)
    # Leftovers of an interrupted fetch (safe to delete: we hold the cache lock).
    rm -rf "$CACHE_ROOT/.kafka-$VERSION.tmp."* "$CACHE_ROOT/.kafka-$VERSION.old."*
    tmp=$(mktemp -d "$CACHE_ROOT/.kafka-$VERSION.tmp.XXXXXX")
    log "fetching Kafka $VERSION jars with Maven into $CACHE"
    if ! mvn -B -q -Dstyle.color=never -f "$POM" dependency:copy-dependencies \
        -DoutputDirectory="$tmp/libs" >"$tmp.log" 2>&1 9>&- 8>&-; then
        cat "$tmp.log" >&2
        rm -rf "$tmp" "$tmp.log"
        die "Maven could not fetch the Kafka jars"
    fi
    compgen -G "$tmp/libs/kafka_2.13-*.jar" >/dev/null || {
        rm -rf "$tmp"
        die "Maven fetched no kafka_2.13 jar"
    }
    rm -f "$tmp.log"
    pom_stamp >"$tmp/pom.cksum"
    chmod 755 "$tmp"
    if [ -e "$CACHE" ]; then
        old="$CACHE_ROOT/.kafka-$VERSION.old.$$"
        mv "$CACHE" "$old"
        mv "$tmp" "$CACHE"
        rm -rf "$old"
    else
        mv "$tmp" "$CACHE"
    fi
    exec 8>&-
    local jars=("$LIBS"/*.jar)
    log "fetched ${#jars[@]} jars in $(since "$t0") s"
}

# --- the broker processes --------------------------------------------------------

# A live, non-zombie process (a SIGKILLed broker stays a zombie until its parent,
# often PID 1, reaps it, and kill -0 still succeeds on it).
pid_alive() {
    local st
    [ -n "${1:-}" ] && [ -r "/proc/$1/stat" ] || return 1
    st=$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1) || return 1
    [ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

# The current node's pid, if it runs: the pid file names a live java process
# that runs kafka.Kafka with our config (guards against a reused pid).
broker_pid() {
    local pid
    [ -f "$PIDFILE" ] || return 1
    pid=$(cat "$PIDFILE" 2>/dev/null || true)
    pid_alive "$pid" || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF "kafka.Kafka $CONFIG" || return 1
    echo "$pid"
}

port_listens() {
    local hex
    hex=$(printf '%04X' "$1")
    awk -v port=":$hex" 'NR > 1 && $4 == "0A" && substr($2, length($2) - 4) == port { found = 1 }
        END { exit found ? 0 : 1 }' /proc/net/tcp /proc/net/tcp6 2>/dev/null
}

# Serving: "Kafka Server started" is logged once the broker has caught up with
# the metadata log, is unfenced and accepts requests; plus the port is open.
broker_ready() {
    grep -qF "$READY_LINE" "$LOGFILE" 2>/dev/null && port_listens "$NODE_PORT"
}

# The super user's credentials: created once (random password), then kept.
ensure_admin() {
    mkdir -p "$KDIR"
    if [ ! -s "$ADMIN_ENV" ]; then
        local user="${EPROC_KAFKA_ADMIN_USER:-admin}" password="${EPROC_KAFKA_ADMIN_PASSWORD:-}"
        [ -n "$password" ] || password=$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')
        (
            umask 077
            printf 'EPROC_KAFKA_USERNAME=%s\nEPROC_KAFKA_PASSWORD=%s\n' "$user" "$password" \
                >"$ADMIN_ENV.tmp"
        )
        mv "$ADMIN_ENV.tmp" "$ADMIN_ENV"
        log "created the Kafka super user '$user' (credentials in $ADMIN_ENV)"
    fi
    ADMIN_USER=$(sed -n 's/^EPROC_KAFKA_USERNAME=//p' "$ADMIN_ENV")
    ADMIN_PASSWORD=$(sed -n 's/^EPROC_KAFKA_PASSWORD=//p' "$ADMIN_ENV")
    [[ "$ADMIN_USER" =~ ^[A-Za-z0-9_.-]+$ ]] || die "bad EPROC_KAFKA_USERNAME in $ADMIN_ENV"
    # The password goes into a JAAS line and a --add-scram argument: no quotes,
    # no separators.
    [[ "$ADMIN_PASSWORD" =~ ^[A-Za-z0-9_.-]{8,}$ ]] ||
        die "EPROC_KAFKA_PASSWORD in $ADMIN_ENV must be 8+ characters of [A-Za-z0-9_.-]"
}

# The current node's server.properties. One node: a dynamic quorum of itself
# (controller.quorum.bootstrap.servers, formatted --standalone), replication
# factor 1. A cluster: a static quorum of every node (controller.quorum.voters),
# replication factor 3 (at most N), min.insync.replicas=2: an acknowledged write
# (acks=all) is on two nodes, so losing any one node loses nothing.
write_config() {
    local quorum_key quorum rf min_isr
    if [ "$NODES" -eq 1 ]; then
        quorum_key=controller.quorum.bootstrap.servers quorum="$HOST:$CONTROLLER_PORT" rf=1 min_isr=1
    else
        quorum_key=controller.quorum.voters quorum="$QUORUM" rf=3 min_isr=2
    fi
    mkdir -p "$NDIR" "$DATA" "$LOGDIR"
    (
        umask 077
        sed -e "s|@NODE_ID@|$NODE|g" -e "s|@QUORUM_KEY@|$quorum_key|g" -e "s|@QUORUM@|$quorum|g" \
            -e "s|@REPLICATION_FACTOR@|$rf|g" -e "s|@MIN_ISR@|$min_isr|g" \
            -e "s|@PORT@|$NODE_PORT|g" -e "s|@CONTROLLER_PORT@|$CONTROLLER_PORT|g" \
            -e "s|@DATA_DIR@|$DATA|g" -e "s|@ADMIN_USER@|$ADMIN_USER|g" \
            -e "s|@ADMIN_PASSWORD@|$ADMIN_PASSWORD|g" "$TEMPLATE" >"$CONFIG.tmp"
    )
    mv "$CONFIG.tmp" "$CONFIG"
}

storage_tool() {
    # shellcheck disable=SC2086 # JVM_OPTS is a list of options
    "$JAVA" -Xmx256m $JVM_OPTS -cp "$LIBS/*" -Dlog4j2.configurationFile="$LOG4J_CONFIG" \
        kafka.tools.StorageTool "$@" 9>&-
}

format_stamp() {
    if [ "$NODES" -eq 1 ]; then
        echo "kafka=$VERSION controller=$HOST:$CONTROLLER_PORT security=$SECURITY admin=$(cksum <"$ADMIN_ENV" | cut -d' ' -f1)"
    else
        echo "kafka=$VERSION quorum=$QUORUM security=$SECURITY admin=$(cksum <"$ADMIN_ENV" | cut -d' ' -f1)"
    fi
}

# Formats the log dirs once. The controllers' addresses are written into the
# metadata log at format time, and so is the super user's SCRAM credential:
# data formatted for other ports, another Kafka version, security setup or admin
# password is discarded (it is test data). The nodes of a cluster share one
# cluster id, and are formatted (or reformatted) together.
format_storage() {
    local want n stale=0
    use_node 1
    want=$(format_stamp)
    for ((n = 1; n <= NODES; n++)); do
        use_node "$n"
        [ -f "$DATA/meta.properties" ] && [ "$(cat "$NDIR/formatted" 2>/dev/null || true)" = "$want" ] ||
            stale=1
    done
    [ "$stale" -eq 1 ] || return 0
    use_node 1
    if [ -f "$DATA/meta.properties" ]; then
        log "data was formatted for '$(cat "$NDIR/formatted" 2>/dev/null || echo unknown)', now '$want': reformatting"
    fi
    local id t0 mode
    t0=$(now)
    id=$(storage_tool random-uuid 2>>"$LOGDIR/format.log" | tail -1)
    [ -n "$id" ] || die "StorageTool random-uuid failed (see $LOGDIR/format.log)"
    # A static quorum (controller.quorum.voters) takes no quorum option.
    mode=()
    [ "$NODES" -eq 1 ] && mode=(--standalone)
    local pids=()
    for ((n = 1; n <= NODES; n++)); do
        use_node "$n"
        rm -rf "$DATA" "$NDIR/formatted"
        mkdir -p "$DATA" "$LOGDIR"
        storage_tool format "${mode[@]}" -t "$id" -c "$CONFIG" \
            --add-scram "SCRAM-SHA-512=[name=$ADMIN_USER,password=$ADMIN_PASSWORD]" \
            >>"$LOGDIR/format.log" 2>&1 &
        pids+=($!)
    done
    for ((n = 1; n <= NODES; n++)); do
        use_node "$n"
        if ! wait "${pids[$((n - 1))]}"; then
            cat "$LOGDIR/format.log" >&2
            die "StorageTool format failed (node $n)"
        fi
        echo "$want" >"$NDIR/formatted"
    done
    echo "$id" >"$KDIR/cluster.id"
    log "formatted $NODES node(s) (cluster id $id) in $(since "$t0") s"
}

take_lock() {
    mkdir -p "$STATE"
    exec 9>"$LOCK"
    if ! flock -n 9; then
        log "waiting for another kafka.sh to finish ($LOCK)"
        flock -w 900 9 || die "timed out waiting for $LOCK"
    fi
}

# Waits for every node given (node ids) to serve. The nodes of a cluster start
# together: none is ready before a majority of the controllers runs.
wait_ready() {
    local t0=$1 n pid waiting deadline=$((SECONDS + START_TIMEOUT))
    shift
    while :; do
        waiting=0
        for n in "$@"; do
            use_node "$n"
            broker_ready && continue
            waiting=1
            pid=$(cat "$PIDFILE" 2>/dev/null || true)
            if ! pid_alive "$pid"; then
                log "node $n exited during start-up; end of $LOGFILE:"
                tail -n 40 "$LOGFILE" >&2 || true
                rm -f "$PIDFILE"
                exit 1
            fi
            if [ $SECONDS -ge $deadline ]; then
                log "node $n not ready after ${START_TIMEOUT}s; end of $LOGFILE:"
                tail -n 40 "$LOGFILE" >&2 || true
                exit 1
            fi
        done
        [ "$waiting" -eq 0 ] && break
        sleep 0.1
    done
    log "ready in $(since "$t0") s: $ADDRESS"
}

launch_node() {
    local pid
    # Keep the previous run's log for post-mortems (crash tests).
    [ -f "$LOGFILE" ] && mv -f "$LOGFILE" "$LOGFILE.1"
    log "starting Kafka $VERSION node $NODE on $HOST:$NODE_PORT (log: $LOGFILE)"
    # shellcheck disable=SC2086 # HEAP_OPTS / JVM_OPTS are lists of options
    (
        cd "$NDIR"
        # A session of its own: Ctrl-C in the caller's terminal must not reach
        # the broker. No inherited stdout (callers read ours through a pipe) and
        # no inherited lock (fd 9).
        exec setsid "$JAVA" $HEAP_OPTS $JVM_OPTS \
            -Dkafka.logs.dir="$LOGDIR" -Dlog4j2.configurationFile="$LOG4J_CONFIG" \
            -cp "$LIBS/*" kafka.Kafka "$CONFIG" \
            </dev/null >"$LOGFILE" 2>&1 9>&-
    ) &
    pid=$!
    echo "$pid" >"$PIDFILE"
}

start_locked() {
    local t0 pid n running=() down=()
    t0=$(now)
    use_node 1
    if [ "$NODES" -eq 1 ] && pid=$(broker_pid) &&
        grep -q "^listeners=PLAINTEXT://$HOST:$NODE_PORT," "$CONFIG" 2>/dev/null; then
        log "our broker runs the old PLAINTEXT setup (pid $pid): stopping it to reformat with SASL/SCRAM"
        stop_locked
    fi
    ensure_admin
    for ((n = 1; n <= NODES; n++)); do
        use_node "$n"
        if pid=$(broker_pid); then
            if ! grep -q "^listeners=CLIENT://$HOST:$NODE_PORT," "$CONFIG" 2>/dev/null; then
                die "node $n already runs with another port ($(grep '^listeners=' "$CONFIG")); run '$0 stop' first"
            fi
            running+=("$n")
        else
            down+=("$n")
        fi
    done
    if [ ${#down[@]} -eq 0 ]; then
        wait_ready "$t0" "${running[@]}"
        echo "$ADDRESS"
        return 0
    fi
    for n in "${down[@]}"; do
        use_node "$n"
        for p in "$NODE_PORT" "$CONTROLLER_PORT"; do
            port_listens "$p" && die "port $p is already in use by another process; set EPROC_KAFKA_PORT"
        done
    done
    ensure_java
    ensure_jars
    if [ ${#running[@]} -eq 0 ]; then
        for ((n = 1; n <= NODES; n++)); do
            use_node "$n"
            write_config
        done
        format_storage
    fi
    for n in "${down[@]}"; do
        use_node "$n"
        [ ${#running[@]} -eq 0 ] || write_config
        launch_node
    done
    wait_ready "$t0" $(seq 1 "$NODES")
    echo "$ADDRESS"
}

# Waits for the process to be gone (or a zombie) for up to $2 seconds.
wait_exit() {
    local pid=$1 timeout=$2 i
    for ((i = 0; i < timeout * 10; i++)); do
        pid_alive "$pid" || return 0
        sleep 0.1
    done
    return 1
}

# One node after the other, last first, each with SIGTERM (SIGKILL after the
# timeout). In a cluster a node's graceful shutdown needs the controller quorum
# (its controlled shutdown is a metadata record): the nodes before the last one
# have it; the last one never will, so it gets 5 s before SIGKILL (its data is
# on disk and the next start recovers it).
stop_locked() {
    local pid t0 n timeout left=0 stopped=()
    t0=$(now)
    for ((n = 1; n <= NODES; n++)); do
        use_node "$n"
        broker_pid >/dev/null && left=$((left + 1))
    done
    for ((n = NODES; n >= 1; n--)); do
        use_node "$n"
        if ! pid=$(broker_pid); then
            rm -f "$PIDFILE"
            continue
        fi
        timeout=$STOP_TIMEOUT
        [ "$NODES" -gt 1 ] && [ "$left" -eq 1 ] && [ "$timeout" -gt 5 ] && timeout=5
        kill -TERM "$pid" 2>/dev/null || true
        if ! wait_exit "$pid" "$timeout"; then
            log "node $n (pid $pid) still running after ${timeout}s; SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
            wait_exit "$pid" 10 || die "pid $pid does not die"
        fi
        rm -f "$PIDFILE"
        stopped+=("$pid")
        left=$((left - 1))
    done
    if [ ${#stopped[@]} -eq 0 ]; then
        log "not running"
    else
        log "stopped (pid ${stopped[*]}) in $(since "$t0") s"
    fi
}

kill_locked() {
    local pid n which
    which=$(seq 1 "$NODES")
    if [ -n "${1:-}" ]; then
        [[ "$1" =~ ^[0-9]+$ ]] && [ "$1" -ge 1 ] && [ "$1" -le "$NODES" ] ||
            die "no node '$1' (1..$NODES)"
        which=$1
    fi
    for n in $which; do
        use_node "$n"
        if ! pid=$(broker_pid); then
            log "node $n not running"
            continue
        fi
        kill -KILL "$pid" 2>/dev/null || true
        wait_exit "$pid" 10 || die "pid $pid does not die"
        rm -f "$PIDFILE"
        log "killed node $n (pid $pid)"
    done
}

status() {
    local pid n code=0 line
    for ((n = 1; n <= NODES; n++)); do
        use_node "$n"
        if pid=$(broker_pid) && broker_ready; then
            line="running (pid $pid), $HOST:$NODE_PORT, data $DATA"
        elif [ -n "${pid:-}" ]; then
            line="starting (pid $pid)"
            code=3
        else
            line="not running"
            code=3
        fi
        [ "$NODES" -eq 1 ] && echo "$line" || echo "node $n: $line"
    done
    return $code
}

nodes() {
    local pid n
    for ((n = 1; n <= NODES; n++)); do
        use_node "$n"
        pid=$(broker_pid) || pid=-
        echo "$n $HOST:$NODE_PORT $pid"
    done
}

run_tool() {
    [ $# -ge 1 ] || die "usage: $0 tool CLASS [ARGS...]"
    ensure_java
    ensure_jars
    # shellcheck disable=SC2086 # JVM_OPTS is a list of options
    exec "$JAVA" -Xmx256m $JVM_OPTS -cp "$LIBS/*" -Dlog4j2.configurationFile="$LOG4J_CONFIG" "$@"
}

case "${1:-}" in
start)
    take_lock
    start_locked
    ;;
stop)
    take_lock
    stop_locked
    ;;
kill)
    take_lock
    kill_locked "${2:-}"
    ;;
restart)
    take_lock
    stop_locked
    start_locked
    ;;
wipe)
    take_lock
    stop_locked
    for ((n = 1; n <= NODES; n++)); do
        use_node "$n"
        log "deleting $DATA"
        rm -rf "$DATA" "$NDIR/formatted"
    done
    rm -f "$KDIR/cluster.id"
    ;;
status) status ;;
address | url) echo "$ADDRESS" ;;
nodes) nodes ;;
admin-env)
    take_lock
    ensure_admin
    cat "$ADMIN_ENV"
    ;;
tool)
    shift
    run_tool "$@"
    ;;
*)
    echo "usage: $0 start|stop|kill [NODE]|restart|wipe|status|address|url|nodes|admin-env|tool CLASS [ARGS...]" >&2
    exit 2
    ;;
esac
