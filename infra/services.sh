#!/usr/bin/env bash
# Real infrastructure for integration tests, on 127.0.0.1 (no Docker needed).
#
#   infra/services.sh up [--no-kafka|--no-postgres]
#                                start Kafka and PostgreSQL (idempotent), then
#                                print the env lines: eval "$(infra/services.sh up)"
#   infra/services.sh down [--clean]
#                                stop both (--clean also deletes their data)
#   infra/services.sh env        print `export KAFKA_BROKERS=...` and
#                                `export DATABASE_URL=...` lines for eval
#   infra/services.sh status     say what is running
#
# Ports and paths: see infra/README.md (KAFKA_PORT, KAFKA_CONTROLLER_PORT,
# PGPORT, CLEARSIM_INFRA_CACHE).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
KAFKA_BROKERS_VALUE="127.0.0.1:${KAFKA_PORT:-19092}"
DATABASE_URL_VALUE="postgres://clearsim:clearsim@127.0.0.1:${PGPORT:-15432}/clearsim"

usage() {
  sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

print_env() {
  printf 'export KAFKA_BROKERS=%q\n' "$KAFKA_BROKERS_VALUE"
  printf 'export DATABASE_URL=%q\n' "$DATABASE_URL_VALUE"
}

up() {
  local kafka=true postgres=true arg kpid="" ppid="" rc=0 out
  for arg in "$@"; do
    case $arg in
      --no-kafka) kafka=false ;;
      --no-postgres) postgres=false ;;
      *) usage ;;
    esac
  done
  out=$(mktemp -d)
  # Both in parallel; their progress (tagged [kafka] / [postgres]) goes to
  # stderr as it happens, their addresses to files.
  if $kafka; then
    "$HERE/kafka/start.sh" >"$out/kafka" &
    kpid=$!
  fi
  if $postgres; then
    "$HERE/postgres/start.sh" >"$out/postgres" &
    ppid=$!
  fi
  if [[ -n $kpid ]] && ! wait "$kpid"; then
    echo "[services] Kafka failed to start" >&2
    rc=1
  fi
  if [[ -n $ppid ]] && ! wait "$ppid"; then
    echo "[services] PostgreSQL failed to start" >&2
    rc=1
  fi
  if $kafka && ((rc == 0)); then KAFKA_BROKERS_VALUE=$(<"$out/kafka"); fi
  if $postgres && ((rc == 0)); then DATABASE_URL_VALUE=$(<"$out/postgres"); fi
  rm -rf "$out"
  ((rc == 0)) || exit "$rc"
  print_env
}

down() {
  local rc=0
  "$HERE/kafka/stop.sh" "$@" || rc=1
  "$HERE/postgres/stop.sh" "$@" || rc=1
  return "$rc"
}

status() {
  # shellcheck source-path=SCRIPTDIR source=lib/common.sh
  source "$HERE/lib/common.sh"
  local pid kport=${KAFKA_PORT:-19092} pport=${PGPORT:-15432}
  if pid=$(live_pid "$INFRA_CACHE/kafka/kafka.pid" "kafka.Kafka $INFRA_CACHE/kafka/conf/server.properties"); then
    echo "kafka:    running (pid $pid), 127.0.0.1:$kport $(port_open "$kport" && echo open || echo closed)"
  else
    echo "kafka:    stopped"
  fi
  if [[ -f ${PG_DATA_DIR:-$INFRA_CACHE/postgres/data}/postmaster.pid ]] && port_open "$pport"; then
    echo "postgres: running, 127.0.0.1:$pport"
  else
    echo "postgres: stopped"
  fi
}

cmd=${1:-}
[[ $# -gt 0 ]] && shift
case $cmd in
  up) up "$@" ;;
  down) down "$@" ;;
  env) print_env ;;
  status) status ;;
  *) usage ;;
esac
