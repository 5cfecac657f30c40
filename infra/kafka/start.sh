#!/usr/bin/env bash
# Start a single-node Kafka (KRaft: one process that is broker and controller,
# no ZooKeeper) on 127.0.0.1 for integration tests, from Maven Central jars.
#
# Idempotent: jars are fetched once into the cache, storage is formatted once,
# and if the broker this script started is still running it only re-checks
# that it is ready. On success prints the bootstrap address (host:port) on
# stdout; progress goes to stderr.
#
# Environment (all optional):
#   CLEARSIM_INFRA_CACHE   cache root (default: <repo>/.infra-cache)
#   KAFKA_PORT             client listener port (default 19092)
#   KAFKA_CONTROLLER_PORT  KRaft controller listener port (default 19093)
#   KAFKA_DATA_DIR         log.dirs (default: $CLEARSIM_INFRA_CACHE/kafka/data)
#   KAFKA_HEAP_OPTS        broker heap (default: -Xms256m -Xmx512m)
#   KAFKA_START_TIMEOUT    seconds to wait for readiness (default 90)
#   KAFKA_CLUSTER_ID       cluster id used when formatting storage
#   JAVA_HOME              Java 11+ to use (default: java on PATH)
set -euo pipefail

LOG_TAG=kafka
# shellcheck source-path=SCRIPTDIR source=../lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
HERE="$INFRA_DIR/kafka"

KDIR="$INFRA_CACHE/kafka"
LIB="$KDIR/lib"
CONF="$KDIR/conf"
LOGS="$KDIR/logs"
PROBE_DIR="$KDIR/probe"
PIDFILE="$KDIR/kafka.pid"
DATA="${KAFKA_DATA_DIR:-$KDIR/data}"
PORT="${KAFKA_PORT:-19092}"
CPORT="${KAFKA_CONTROLLER_PORT:-19093}"
TIMEOUT="${KAFKA_START_TIMEOUT:-90}"
# Any 16 bytes in URL-safe base64 will do; these are "clearsim-kafka-1".
CLUSTER_ID="${KAFKA_CLUSTER_ID:-Y2xlYXJzaW0ta2Fma2EtMQ}"
BOOTSTRAP="127.0.0.1:$PORT"
MARKER="kafka.Kafka $CONF/server.properties"

mkdir -p "$KDIR" "$CONF" "$LOGS" "$DATA"
DATA="$(cd "$DATA" && pwd)"
cd "$KDIR"
take_lock "$KDIR/.lock"

# --- tools ------------------------------------------------------------------
if [[ -n ${JAVA_HOME:-} ]]; then
  JAVA="$JAVA_HOME/bin/java"
  JAVAC="$JAVA_HOME/bin/javac"
else
  JAVA=java
  JAVAC=javac
fi
need_pkgs=()
command -v "$JAVA" >/dev/null 2>&1 && command -v "$JAVAC" >/dev/null 2>&1 ||
  need_pkgs+=(openjdk-17-jdk-headless)
command -v mvn >/dev/null 2>&1 || need_pkgs+=(maven)
if ((${#need_pkgs[@]})); then
  apt_install "${need_pkgs[@]}"
fi

# --- jars -------------------------------------------------------------------
# Re-fetched only when pom.xml changes (its hash is stamped into the lib dir).
pom_hash=$(sha256sum "$HERE/pom.xml" | cut -d' ' -f1)
if [[ ! -f $LIB/.pom.sha256 || $(<"$LIB/.pom.sha256") != "$pom_hash" ]]; then
  log "fetching Kafka jars from Maven Central into $LIB"
  tmp="$KDIR/lib.tmp"
  : >"$LOGS/mvn.log"
  # Full plugin coordinates: no plugin-prefix lookup. A second try adds -U,
  # because Maven caches failed downloads and would not retry them otherwise.
  for extra in "" -U; do
    rm -rf "$tmp"
    # shellcheck disable=SC2086 # $extra is empty or one flag
    if mvn -B -q $extra -f "$HERE/pom.xml" \
      org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies \
      -DincludeScope=runtime -DoutputDirectory="$tmp" >>"$LOGS/mvn.log" 2>&1; then
      break
    fi
    if [[ -n $extra ]]; then
      tail -n 50 "$LOGS/mvn.log" | sed 's/\x1b\[[0-9;]*m//g' >&2
      die "mvn dependency:copy-dependencies failed (full log: $LOGS/mvn.log)"
    fi
    log "mvn failed, retrying once with -U"
  done
  printf '%s\n' "$pom_hash" >"$tmp/.pom.sha256"
  rm -rf "$LIB"
  mv "$tmp" "$LIB"
fi

# --- readiness probe (a tiny Admin client, compiled once) -------------------
probe_hash=$(cat "$HERE/KafkaReady.java" "$LIB/.pom.sha256" | sha256sum | cut -d' ' -f1)
if [[ ! -f $PROBE_DIR/.sha256 || $(<"$PROBE_DIR/.sha256") != "$probe_hash" ]]; then
  rm -rf "$PROBE_DIR"
  mkdir -p "$PROBE_DIR"
  "$JAVAC" -nowarn -cp "$LIB/*" -d "$PROBE_DIR" "$HERE/KafkaReady.java" >&2
  printf '%s\n' "$probe_hash" >"$PROBE_DIR/.sha256"
fi

# Quiet log4j config for client-side tools (the probe; also handy by hand:
# java -Dlog4j.configuration=file:$CONF/tools-log4j.properties -cp "$LIB/*" ...).
cat >"$CONF/tools-log4j.properties" <<'EOF'
log4j.rootLogger=WARN, stderr
log4j.appender.stderr=org.apache.log4j.ConsoleAppender
log4j.appender.stderr.Target=System.err
log4j.appender.stderr.layout=org.apache.log4j.PatternLayout
log4j.appender.stderr.layout.ConversionPattern=[%d] %p %m (%c)%n
EOF

probe() {
  "$JAVA" -Xmx64m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC \
    -Dlog4j.configuration="file:$CONF/tools-log4j.properties" \
    -cp "$PROBE_DIR:$LIB/*" KafkaReady "$BOOTSTRAP" 9>&-
}

show_log() {
  local f
  for f in "$LOGS/server.log" "$LOGS/kafka.out"; do
    if [[ -s $f ]]; then
      log "last 50 lines of $f:"
      tail -n 50 "$f" >&2
    fi
  done
}

# Wait until the broker with pid $1 passes the probe, or give up.
wait_ready() {
  local pid=$1 deadline=$((SECONDS + TIMEOUT)) out
  while :; do
    if ! kill -0 "$pid" 2>/dev/null; then
      show_log
      rm -f "$PIDFILE"
      die "broker (pid $pid) exited during startup"
    fi
    if port_open "$PORT" && out=$(probe 2>>"$LOGS/probe.log"); then
      log "$out"
      return 0
    fi
    if ((SECONDS >= deadline)); then
      show_log
      log "stopping broker pid $pid"
      stop_pid "$pid" 30
      rm -f "$PIDFILE"
      die "broker not ready on $BOOTSTRAP within $TIMEOUT s (probe log: $LOGS/probe.log)"
    fi
    sleep 1
  done
}

# --- already running? ---------------------------------------------------------
if pid=$(live_pid "$PIDFILE" "$MARKER"); then
  log "broker already running (pid $pid), checking readiness"
  wait_ready "$pid"
  printf '%s\n' "$BOOTSTRAP"
  exit 0
fi
rm -f "$PIDFILE"
for p in "$PORT" "$CPORT"; do
  if port_open "$p"; then
    port_owner "$p" >&2
    die "port $p on 127.0.0.1 is in use by a process this script did not start"
  fi
done

# --- config -------------------------------------------------------------------
cat >"$CONF/server.properties" <<EOF
# Written by infra/kafka/start.sh; rewritten on every start.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$CPORT
listeners=PLAINTEXT://127.0.0.1:$PORT,CONTROLLER://127.0.0.1:$CPORT
advertised.listeners=PLAINTEXT://127.0.0.1:$PORT
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$DATA
num.partitions=4
auto.create.topics.enable=false
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
num.network.threads=2
num.io.threads=4
# Faster (re)start: the broker is unfenced on a heartbeat after it has caught
# up with the metadata log; the default interval is 2000 ms.
broker.heartbeat.interval.ms=500
EOF

cat >"$CONF/log4j.properties" <<'EOF'
# Broker logging (reload4j). kafka.logs.dir is set on the java command line.
log4j.rootLogger=INFO, file
log4j.appender.file=org.apache.log4j.RollingFileAppender
log4j.appender.file.File=${kafka.logs.dir}/server.log
log4j.appender.file.MaxFileSize=20MB
log4j.appender.file.MaxBackupIndex=2
log4j.appender.file.layout=org.apache.log4j.PatternLayout
log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.request.logger=WARN
log4j.logger.state.change.logger=WARN
log4j.logger.org.apache.kafka.clients=WARN
EOF

# --- format storage (once per data dir) ---------------------------------------
if [[ ! -f $DATA/meta.properties ]]; then
  log "formatting KRaft storage in $DATA (cluster id $CLUSTER_ID)"
  "$JAVA" -Xmx256m -Dlog4j.configuration="file:$CONF/tools-log4j.properties" -cp "$LIB/*" \
    kafka.tools.StorageTool format -t "$CLUSTER_ID" -c "$CONF/server.properties" \
    --ignore-formatted >&2 9>&-
fi

# --- start --------------------------------------------------------------------
# Flags follow bin/kafka-server-start.sh and bin/kafka-run-class.sh, with a
# smaller heap and without JMX / GC logging.
read -r -a heap <<<"${KAFKA_HEAP_OPTS:--Xms256m -Xmx512m}"
: >"$LOGS/probe.log"
log "starting broker on $BOOTSTRAP (controller 127.0.0.1:$CPORT), logs in $LOGS"
nohup "$JAVA" "${heap[@]}" -server \
  -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 \
  -XX:+ExplicitGCInvokesConcurrent -XX:MaxInlineLevel=15 -Djava.awt.headless=true \
  -Dkafka.logs.dir="$LOGS" -Dlog4j.configuration="file:$CONF/log4j.properties" \
  -cp "$LIB/*" kafka.Kafka "$CONF/server.properties" \
  </dev/null >"$LOGS/kafka.out" 2>&1 9>&- &
pid=$!
printf '%s\n' "$pid" >"$PIDFILE"

started=$SECONDS
wait_ready "$pid"
log "broker ready after $((SECONDS - started)) s (pid $pid)"
printf '%s\n' "$BOOTSTRAP"
