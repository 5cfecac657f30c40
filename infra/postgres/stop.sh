#!/usr/bin/env bash
# Stop the PostgreSQL cluster started by infra/postgres/start.sh
# (pg_ctl stop -m fast: clients are disconnected, a clean shutdown checkpoint
# is written; falls back to -m immediate if that takes over 60 s).
#
#   infra/postgres/stop.sh           stop, keep the data
#   infra/postgres/stop.sh --clean   stop and delete the data dir
set -euo pipefail

LOG_TAG=postgres
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

PGROOT="$INFRA_CACHE/postgres"
DATA="${PG_DATA_DIR:-$PGROOT/data}"
[[ $DATA == /* ]] || DATA="$PWD/$DATA"

if [[ ! -d $PGROOT ]]; then
  log "not running (no $PGROOT)"
  exit 0
fi
take_lock "$PGROOT/.lock"
cd "$PGROOT"

if [[ $EUID -eq 0 ]]; then
  # Act as whoever owns the cluster (start.sh uses `postgres` when root).
  owner=postgres
  [[ -d $DATA ]] && owner=$(stat -c %U "$DATA")
  as_pg() { runuser -u "$owner" -- "$@"; }
else
  as_pg() { "$@"; }
fi

# The server binaries of the version that created the cluster.
bindir=""
if [[ -f $DATA/PG_VERSION ]]; then
  for d in "${PG_BINDIR:-}" "/usr/lib/postgresql/$(<"$DATA/PG_VERSION")/bin"; do
    if [[ -n $d && -x $d/pg_ctl ]]; then
      bindir=$d
      break
    fi
  done
fi

if [[ -f $DATA/postmaster.pid ]]; then
  [[ -n $bindir ]] || die "cluster in $DATA looks running but no matching pg_ctl was found"
  if as_pg "$bindir/pg_ctl" -D "$DATA" status >/dev/null 2>&1 9>&-; then
    log "stopping"
    if ! as_pg "$bindir/pg_ctl" -D "$DATA" -m fast -w -t 60 stop >&2 9>&-; then
      log "fast shutdown timed out; immediate shutdown"
      as_pg "$bindir/pg_ctl" -D "$DATA" -m immediate -w -t 30 stop >&2 9>&-
    fi
  else
    log "not running (stale postmaster.pid)"
  fi
else
  log "not running"
fi

if $clean; then
  log "removing data dir $DATA"
  rm -rf "$DATA"
fi
