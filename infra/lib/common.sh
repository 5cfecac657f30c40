# shellcheck shell=bash
# Helpers shared by infra/*/start.sh and stop.sh. Source it, don't run it.
#
# Conventions: progress goes to stderr; a start script prints only the address
# of what it started on stdout, so `x=$(infra/kafka/start.sh)` works.

INFRA_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
REPO_DIR="$(cd "$INFRA_DIR/.." && pwd)"
# Jars, data dirs, logs and pid files all live here (git-ignored).
INFRA_CACHE="${CLEARSIM_INFRA_CACHE:-$REPO_DIR/.infra-cache}"
mkdir -p "$INFRA_CACHE"
INFRA_CACHE="$(cd "$INFRA_CACHE" && pwd)"

log() { printf '[%s] %s\n' "${LOG_TAG:-infra}" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# True if something accepts TCP connections on 127.0.0.1:$1.
port_open() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# Print the pid in pid file $1 if that process is alive and its command line
# contains $2; otherwise fail (stale pid files and recycled pids don't count).
live_pid() {
  local pidfile=$1 marker=$2 pid args
  [[ -f $pidfile ]] || return 1
  pid=$(<"$pidfile")
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  if [[ -r /proc/$pid/cmdline ]]; then
    args=$(tr '\0' ' ' <"/proc/$pid/cmdline")
  else
    args=$(ps -ww -o args= -p "$pid" 2>/dev/null) || return 1
  fi
  [[ $args == *"$marker"* ]] || return 1
  printf '%s\n' "$pid"
}

# Describe who listens on port $1 (best effort, for error messages).
port_owner() {
  if command -v ss >/dev/null 2>&1; then
    ss -Hltnp "sport = :$1" 2>/dev/null || true
  fi
}

# apt-get install the given Debian packages (only called when something is missing).
apt_install() {
  [[ $EUID -eq 0 ]] || die "need root to apt-get install $* (or install it yourself)"
  command -v apt-get >/dev/null 2>&1 || die "no apt-get: install $* yourself"
  log "installing Debian packages: $*"
  # Kafka's and Postgres' start scripts may run at once (services.sh up):
  # take turns, and wait for any other apt/dpkg user instead of failing.
  (
    if command -v flock >/dev/null 2>&1; then
      exec 8>"$INFRA_CACHE/.apt.lock"
      flock -w 900 8 || die "could not lock $INFRA_CACHE/.apt.lock"
    fi
    apt-get -o DPkg::Lock::Timeout=600 update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install \
      -y -qq --no-install-recommends "$@" >&2
  ) 9>&-
}

# Take an exclusive lock on file $1 for the rest of the script (fd 9), so two
# starts/stops of the same service don't race. Children we leave running must
# not inherit fd 9: launch them with `9>&-`.
take_lock() {
  mkdir -p "$(dirname "$1")"
  exec 9>"$1"
  if command -v flock >/dev/null 2>&1; then
    flock -w 300 9 || die "could not lock $1 within 300 s"
  fi
}

# Stop process $1: SIGTERM (a clean shutdown), wait up to $2 seconds, then
# SIGKILL and wait for it to be gone.
stop_pid() {
  local pid=$1 timeout=$2 deadline
  kill -TERM "$pid" 2>/dev/null || return 0
  deadline=$((SECONDS + timeout))
  while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do
    sleep 0.5
  done
  if kill -0 "$pid" 2>/dev/null; then
    log "pid $pid still running after $timeout s, sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null; do sleep 0.2; done
  fi
}
