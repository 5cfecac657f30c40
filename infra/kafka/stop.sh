#!/usr/bin/env bash
# Stop the Kafka broker started by infra/kafka/start.sh: SIGTERM (a clean,
# controlled shutdown), wait up to KAFKA_STOP_TIMEOUT seconds (default 30),
# then SIGKILL. Only the process recorded in our pid file is touched.
#
#   infra/kafka/stop.sh           stop, keep topics and offsets
#   infra/kafka/stop.sh --clean   stop and delete the data dir (jars stay cached)
set -euo pipefail

LOG_TAG=kafka
# shellcheck source-path=SCRIPTDIR source=../lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"

clean=false
for arg in "$@"; do
  case $arg in
    --clean) clean=true ;;
    -h | --help)
      sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    *) die "unknown argument: $arg (usage: stop.sh [--clean])" ;;
  esac
done

KDIR="$INFRA_CACHE/kafka"
CONF="$KDIR/conf"
PIDFILE="$KDIR/kafka.pid"
DATA="${KAFKA_DATA_DIR:-$KDIR/data}"
[[ $DATA == /* ]] || DATA="$PWD/$DATA"
TIMEOUT="${KAFKA_STOP_TIMEOUT:-30}"
MARKER="kafka.Kafka $CONF/server.properties"

take_lock "$KDIR/.lock"

if pid=$(live_pid "$PIDFILE" "$MARKER"); then
  log "stopping broker (pid $pid)"
  stop_pid "$pid" "$TIMEOUT"
  log "stopped"
else
  log "not running"
fi
rm -f "$PIDFILE"

if $clean; then
  log "removing data dir $DATA"
  rm -rf "$DATA"
fi
