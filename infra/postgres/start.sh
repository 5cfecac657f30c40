#!/usr/bin/env bash
# Start a private PostgreSQL cluster on 127.0.0.1 for integration tests, using
# Debian's PostgreSQL server binaries (apt-get installs them if none are found).
#
# Idempotent: initdb runs once per data dir; if the cluster is already running
# it only makes sure the role and database exist. On success prints the
# connection URL on stdout; progress goes to stderr.
#
# The cluster belongs to the OS user `postgres` when run as root (the server
# refuses to run as root), else to the calling user. TCP on 127.0.0.1 only,
# password (SCRAM) auth; the superuser `postgres` is reachable only through a
# unix socket in a private directory. fsync stays on: tests check durability.
#
# Environment (all optional):
#   CLEARSIM_INFRA_CACHE  cache root (default: <repo>/.infra-cache)
#   PGPORT                TCP port (default 15432)
#   PG_DATA_DIR           data dir (default: $CLEARSIM_INFRA_CACHE/postgres/data)
#   PG_BINDIR             directory holding initdb/pg_ctl/postgres to use
#   PG_START_TIMEOUT      seconds pg_ctl waits for startup (default 60)
set -euo pipefail

LOG_TAG=postgres
# shellcheck source-path=SCRIPTDIR source=../lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"

PGROOT="$INFRA_CACHE/postgres"
PORT="${PGPORT:-15432}"
DATA="${PG_DATA_DIR:-$PGROOT/data}"
LOGFILE="$PGROOT/log/postgres.log"
TIMEOUT="${PG_START_TIMEOUT:-60}"
DB=clearsim
ROLE=clearsim
PASSWORD=clearsim
URL="postgres://$ROLE:$PASSWORD@127.0.0.1:$PORT/$DB"

mkdir -p "$PGROOT"
[[ $DATA == /* ]] || DATA="$PWD/$DATA"
take_lock "$PGROOT/.lock"
cd "$PGROOT"

# --- server binaries ----------------------------------------------------------
# A bin dir counts only if it has the server itself, not just client wrappers.
is_server_bindir() {
  [[ -x $1/initdb && -x $1/pg_ctl && -x $1/postgres ]]
}
find_bindir() {
  local d want=""
  if [[ -n ${PG_BINDIR:-} ]]; then
    is_server_bindir "$PG_BINDIR" || die "PG_BINDIR=$PG_BINDIR has no initdb/pg_ctl/postgres"
    printf '%s\n' "$PG_BINDIR"
    return 0
  fi
  # An existing cluster must be run by the major version that created it.
  [[ -f $DATA/PG_VERSION ]] && want=$(<"$DATA/PG_VERSION")
  if [[ -n $want ]] && is_server_bindir "/usr/lib/postgresql/$want/bin"; then
    printf '%s\n' "/usr/lib/postgresql/$want/bin"
    return 0
  fi
  # Debian's layout, newest version first.
  while read -r d; do
    if is_server_bindir "$d"; then
      printf '%s\n' "$d"
      return 0
    fi
  done < <(compgen -G '/usr/lib/postgresql/*/bin' | sort -t/ -k5,5 -Vr)
  # Anything on PATH (e.g. /usr/local/bin/pg_ctl, a symlink into the above).
  if d=$(command -v pg_ctl 2>/dev/null); then
    d=$(dirname "$(readlink -f "$d")")
    if is_server_bindir "$d"; then
      printf '%s\n' "$d"
      return 0
    fi
  fi
  return 1
}

install_server() {
  local cc=/etc/postgresql-common/createcluster.conf saved=""
  # Debian's postinst would create (and, without systemd, start) a system-wide
  # "main" cluster on port 5432 that nobody here uses. Its switch is
  # create_main_cluster in createcluster.conf (shipped by postgresql-common):
  # turn it off for this install only, then put the file back as it was.
  [[ -f $cc ]] || apt_install postgresql-common
  if [[ -f $cc ]]; then
    saved=$(mktemp)
    cp -p "$cc" "$saved"
    # shellcheck disable=SC2064 # expand now: restore this very file
    trap "cp -p '$saved' '$cc'; rm -f '$saved'" EXIT
    printf '\n# temporarily added by clearsim infra/postgres/start.sh\ncreate_main_cluster = false\n' >>"$cc"
  fi
  apt_install postgresql
  if [[ -n $saved ]]; then
    cp -p "$saved" "$cc"
    rm -f "$saved"
    trap - EXIT
  fi
}

if ! BINDIR=$(find_bindir); then
  log "no PostgreSQL server binaries found"
  install_server
  BINDIR=$(find_bindir) || die "installed postgresql but found no initdb/pg_ctl/postgres"
fi
PSQL="$BINDIR/psql"
[[ -x $PSQL ]] || PSQL=$(command -v psql) || die "no psql found"
PG_ISREADY="$BINDIR/pg_isready"
[[ -x $PG_ISREADY ]] || PG_ISREADY=$(command -v pg_isready) || die "no pg_isready found"

# --- who runs the server ------------------------------------------------------
if [[ $EUID -eq 0 ]]; then
  OS_USER=postgres
  if ! id -u "$OS_USER" >/dev/null 2>&1; then
    log "creating system user $OS_USER"
    useradd --system --user-group --home-dir /var/lib/postgresql --shell /bin/bash "$OS_USER"
  fi
  as_pg() { runuser -u "$OS_USER" -- "$@"; }
  # Every directory above the data dir must be searchable by that user.
  if ! as_pg test -x "$PGROOT"; then
    die "user $OS_USER cannot reach $PGROOT; set CLEARSIM_INFRA_CACHE to a directory it can traverse"
  fi
else
  OS_USER=$(id -un)
  as_pg() { "$@"; }
fi

# The superuser connects over a unix socket in a private dir. Socket paths are
# limited to ~107 bytes, so fall back to a short path for deep checkouts.
SOCKDIR="$PGROOT/run"
if ((${#SOCKDIR} + 20 > 100)); then
  SOCKDIR="/tmp/clearsim-pg-$PORT"
fi
mkdir -p "$SOCKDIR" "$PGROOT/log" "$DATA"
if [[ $EUID -eq 0 ]]; then
  chown "$OS_USER:" "$PGROOT" "$SOCKDIR" "$PGROOT/log" "$DATA"
fi
chmod 700 "$SOCKDIR" "$DATA"

psql_admin() {
  as_pg "$PSQL" -X -q -v ON_ERROR_STOP=1 -h "$SOCKDIR" -p "$PORT" -U postgres -d postgres "$@" 9>&-
}

# --- initdb (once) --------------------------------------------------------------
if [[ ! -f $DATA/PG_VERSION ]]; then
  log "initdb $DATA ($("$BINDIR/postgres" --version))"
  if ! as_pg "$BINDIR/initdb" -D "$DATA" -U postgres -E UTF8 --locale=C \
    --auth-local=trust --auth-host=scram-sha-256 --no-instructions \
    >"$PGROOT/log/initdb.log" 2>&1 9>&-; then
    tail -n 50 "$PGROOT/log/initdb.log" >&2
    die "initdb failed"
  fi
  echo "include_if_exists = 'clearsim.conf'" >>"$DATA/postgresql.conf"
fi

# Our settings, rewritten on every start (included from postgresql.conf).
conf=$(
  cat <<EOF
# Written by infra/postgres/start.sh; rewritten on every start.
listen_addresses = '127.0.0.1'
port = $PORT
unix_socket_directories = '$SOCKDIR'
unix_socket_permissions = 0700
password_encryption = 'scram-sha-256'
# Durability on, as in production: integration tests rely on it.
fsync = on
synchronous_commit = on
full_page_writes = on
max_connections = 100
log_min_messages = warning
log_line_prefix = '%m [%p] %q%u@%d '
EOF
)
if [[ ! -f $DATA/clearsim.conf || $(<"$DATA/clearsim.conf") != "$conf" ]]; then
  printf '%s\n' "$conf" >"$DATA/clearsim.conf"
  [[ $EUID -ne 0 ]] || chown "$OS_USER:" "$DATA/clearsim.conf"
  conf_changed=true
else
  conf_changed=false
fi

# --- start ----------------------------------------------------------------------
pg_running() { as_pg "$BINDIR/pg_ctl" -D "$DATA" status >/dev/null 2>&1 9>&-; }
ready() { "$PG_ISREADY" -q -h 127.0.0.1 -p "$PORT" -t 2 9>&-; }

if pg_running && ! $conf_changed && ready; then
  log "already running on 127.0.0.1:$PORT"
else
  if pg_running; then
    log "running with other settings; restarting"
    action=restart
  else
    if port_open "$PORT"; then
      port_owner "$PORT" >&2
      die "port $PORT on 127.0.0.1 is in use by a server this script did not start"
    fi
    action=start
  fi
  log "pg_ctl $action on 127.0.0.1:$PORT, data $DATA, log $LOGFILE"
  started=$SECONDS
  if ! as_pg "$BINDIR/pg_ctl" -D "$DATA" -l "$LOGFILE" -w -t "$TIMEOUT" "$action" >&2 9>&-; then
    log "last 50 lines of $LOGFILE:"
    tail -n 50 "$LOGFILE" >&2 || true
    die "PostgreSQL did not start"
  fi
  ready || die "started, but pg_isready fails on 127.0.0.1:$PORT"
  log "up after $((SECONDS - started)) s"
fi

# --- role and database ------------------------------------------------------------
if [[ $(psql_admin -tAc "SELECT 1 FROM pg_roles WHERE rolname = '$ROLE'") == 1 ]]; then
  psql_admin -c "ALTER ROLE $ROLE WITH LOGIN CREATEDB PASSWORD '$PASSWORD'"
else
  log "creating role $ROLE"
  psql_admin -c "CREATE ROLE $ROLE WITH LOGIN CREATEDB PASSWORD '$PASSWORD'"
fi
if [[ $(psql_admin -tAc "SELECT 1 FROM pg_database WHERE datname = '$DB'") != 1 ]]; then
  log "creating database $DB"
  psql_admin -c "CREATE DATABASE $DB OWNER $ROLE"
fi

# Check the URL itself works (TCP + password), as the application will use it.
"$PSQL" -X -q -tA "$URL" -c 'SELECT 1' >/dev/null 9>&- || die "cannot connect to $URL"
printf '%s\n' "$URL"
