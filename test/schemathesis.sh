#!/usr/bin/env bash
# Schema-driven fuzzing of the HTTP API, part of the test command (test/run-all.sh).
#
# Starts the built `clearsim serve` on a temp file store with two generated API
# keys (an admin, a venue scoped to `a-`), checks that the OpenAPI document it
# serves at /docs-json is valid OpenAPI 3, then runs schemathesis against it
# once per key: every answer must be documented (status, content type, body
# schema), no 5xx, none slower than CLEARSIM_SCHEMATHESIS_MAX_RESPONSE_TIME
# seconds. Any finding fails the command.
#
# schemathesis and openapi-spec-validator come from PyPI, pinned, into
# .venv-schemathesis/ (kept between runs, ignored by git). Without python3 (and
# its venv module) the run fails under CI=true and is skipped, loudly, elsewhere.
#
# Environment:
#   CLEARSIM_SCHEMATHESIS_MAX_EXAMPLES     cases per operation and phase (default 25)
#   CLEARSIM_SCHEMATHESIS_MAX_RESPONSE_TIME  seconds (default 5)
#   CLEARSIM_SCHEMATHESIS_SEED             replay a run (its seed is printed at the end of each)
set -euo pipefail
cd "$(dirname "$0")/.."

SCHEMATHESIS_VERSION=4.32.5
OPENAPI_SPEC_VALIDATOR_VERSION=0.9.0
VENV=.venv-schemathesis
MAX_EXAMPLES=${CLEARSIM_SCHEMATHESIS_MAX_EXAMPLES:-25}
MAX_RESPONSE_TIME=${CLEARSIM_SCHEMATHESIS_MAX_RESPONSE_TIME:-5}
# a run that outlives this has stalled (the budget is ~60-120 s on a 2-core machine)
RUN_TIMEOUT=600

missing() {
  echo "clearsim: schemathesis: $1" >&2
  echo "  Debian/Ubuntu: sudo apt-get install -y python3 python3-venv" >&2
  if [ "${CI:-}" = "true" ]; then
    echo "clearsim: CI=true, so nothing may be skipped: failing." >&2
    exit 1
  fi
  echo "clearsim: SKIPPING the schemathesis run of the HTTP API (it runs in CI)." >&2
  exit 0
}

command -v python3 >/dev/null 2>&1 || missing "python3 is not installed."
python3 -c 'import venv, ensurepip' 2>/dev/null || missing "python3 has no venv/ensurepip module."

# the venv, (re)installed when the pinned versions change
stamp="$VENV/.clearsim-pins"
pins="schemathesis==$SCHEMATHESIS_VERSION openapi-spec-validator==$OPENAPI_SPEC_VALIDATOR_VERSION"
if [ ! -x "$VENV/bin/schemathesis" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$pins" ]; then
  echo "clearsim: installing $pins into $VENV" >&2
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  # shellcheck disable=SC2086 # pins is a list of requirements
  "$VENV/bin/pip" install --quiet --disable-pip-version-check $pins
  echo "$pins" >"$stamp"
fi

[ -f dist/apps/cli/src/main.js ] || npm run --silent build

work=$(mktemp -d "${TMPDIR:-/tmp}/clearsim-schemathesis.XXXXXX")
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

secret() { python3 -c 'import secrets; print(secrets.token_hex(16))'; }
admin_key=$(secret)
venue_key=$(secret)

: >"$work/serve.err" # exists before the background job's redirections do
# the keys through the environment, not argv (which any local user can list); the JSON log on stdout, the banner on stderr
CLEARSIM_API_KEYS="$admin_key:admin,$venue_key:venue:a-" ./bin/clearsim serve --store "file:$work/store" --port 0 --log-level warn \
  >"$work/serve.log" 2>"$work/serve.err" &
server_pid=$!

url=""
for _ in $(seq 1 300); do
  url=$(sed -n 's/^clearsim serve: listening on \(http:[^ ]*\).*/\1/p' "$work/serve.err" | head -n 1)
  [ -n "$url" ] && break
  if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "clearsim: schemathesis: clearsim serve exited before listening:" >&2
    cat "$work/serve.err" "$work/serve.log" >&2
    exit 1
  fi
  sleep 0.2
done
[ -n "$url" ] || { echo "clearsim: schemathesis: clearsim serve did not start within 60 s" >&2; cat "$work/serve.err" >&2; exit 1; }
echo "clearsim: schemathesis against $url (store $work/store)" >&2

python3 - "$url/docs-json" "$work/openapi.json" <<'EOF'
import sys, urllib.request
with urllib.request.urlopen(sys.argv[1], timeout=30) as response, open(sys.argv[2], "wb") as out:
    out.write(response.read())
EOF
"$VENV/bin/openapi-spec-validator" "$work/openapi.json"

failed=0
# Each run's own report goes to a file and is shown whole only when it finds
# something: its pytest-style closing banner ("=== 1 warning in 17s ===") would
# otherwise read, to a CI log scanner, as a pytest session that ran no test.
run() {
  local who=$1 key=$2 log="$work/schemathesis-$1.log"
  echo "clearsim: schemathesis with the $who key" >&2
  # The SSE stream never ends by design (the e2e tests cover it); everything else is fuzzed.
  if timeout "$RUN_TIMEOUT" "$VENV/bin/schemathesis" run "$work/openapi.json" --url "$url" \
    --header "x-api-key: $key" \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
    --max-response-time "$MAX_RESPONSE_TIME" --request-timeout 30 \
    --max-examples "$MAX_EXAMPLES" \
    ${CLEARSIM_SCHEMATHESIS_SEED:+--seed "$CLEARSIM_SCHEMATHESIS_SEED"} \
    --exclude-path /v1/decisions/stream \
    --workers 1 --no-color >"$log" 2>&1; then
    local cases seed
    cases=$(sed -n 's/^ *\([0-9][0-9]*\) generated, .*/\1/p' "$log" | tail -n 1)
    seed=$(sed -n 's/^Seed: *//p' "$log" | tail -n 1)
    echo "clearsim: schemathesis with the $who key: ${cases:-?} generated cases, no finding (seed ${seed:-?})" >&2
    grep -E '^ *⚠️' "$log" | sed 's/^ */  warning: /' >&2 || true
  else
    cat "$log" >&2
    failed=1
  fi
}
run admin "$admin_key"
run venue "$venue_key"

if ! kill -0 "$server_pid" 2>/dev/null; then
  echo "clearsim: schemathesis: clearsim serve died during the run:" >&2
  cat "$work/serve.err" >&2
  tail -n 50 "$work/serve.log" >&2
  exit 1
fi
if [ "$failed" != 0 ]; then
  echo "clearsim: schemathesis found problems (above). The server's log:" >&2
  grep -E '"level":(50|60)' "$work/serve.log" | head -n 50 >&2 || true
  exit 1
fi
echo "clearsim: schemathesis: no 5xx, no undocumented status, content type or body." >&2
