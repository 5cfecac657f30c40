#!/usr/bin/env bash
# The test command (`npm test`, and what .ci/run runs): type-check, lint, build,
# fuzz the HTTP API against its OpenAPI document (test/schemathesis.sh; skip with
# CLEARSIM_NO_SCHEMATHESIS=1), start the real Kafka broker and PostgreSQL from
# infra/ when they can be started, find (or install) Chromium for the browser
# tests, run every jest tier, stop what it started; then the unit tier and the
# README's first command again on the current Node LTS line (test/node-lts.sh;
# skip with CLEARSIM_NO_NODE_LTS=1).
set -euo pipefail
cd "$(dirname "$0")/.."

npm run --silent typecheck
npm run --silent lint
npm run --silent build
if [ "${CLEARSIM_NO_SCHEMATHESIS:-}" != "1" ]; then bash test/schemathesis.sh; fi

# Chromium for the browser tests (test/browser/chromium.ts finds it): Debian's package, installed here when it is
# missing and this user can (root, or passwordless sudo), as infra/services.sh does for PostgreSQL
have_chromium() {
  if [ -n "${CLEARSIM_CHROMIUM:-}" ]; then [ -x "$CLEARSIM_CHROMIUM" ]; return; fi
  [ -x /usr/bin/chromium ] || command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1
}
if ! have_chromium; then
  as_root=""
  if [ "$(id -u)" = "0" ]; then as_root="env"; elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then as_root="sudo -n env"; fi
  if [ -n "$as_root" ] && command -v apt-get >/dev/null 2>&1; then
    echo "clearsim: installing Debian's chromium for the browser tests (apt-get install -y chromium)…" >&2
    { $as_root DEBIAN_FRONTEND=noninteractive apt-get update -qq && $as_root DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } >&2 || true
  fi
  if ! have_chromium; then
    {
      echo "clearsim: no Chromium for the browser tests (test/browser)."
      echo "  Debian/Ubuntu: sudo apt-get install -y chromium; or point CLEARSIM_CHROMIUM at a Chromium or Chrome binary."
    } >&2
    if [ "${CI:-}" = "true" ]; then
      echo "clearsim: CI=true, so nothing may be skipped: failing." >&2
      exit 1
    fi
    echo "clearsim: running the tests anyway; the browser tests will say they were skipped." >&2
  fi
fi

started=""
if [ "${CLEARSIM_NO_SERVICES:-}" != "1" ]; then
  if services_env=$(infra/services.sh up); then
    # the lines are `export NAME=…`
    eval "$services_env"
    started=1
  else
    {
      echo "clearsim: could not start Kafka and PostgreSQL from infra/ (see the messages above)."
      echo "  They need Java 17 + Maven (Kafka jars from Maven Central) and PostgreSQL's server binaries"
      echo "  (Debian/Ubuntu: sudo apt-get install -y openjdk-17-jdk-headless maven postgresql)."
      echo "  Or start them with Docker: docker compose up -d kafka postgres, then export"
      echo "  KAFKA_BROKERS=127.0.0.1:29092 DATABASE_URL=postgres://clearsim:clearsim@127.0.0.1:25432/clearsim (the ports docker-compose.yml publishes)"
    } >&2
    if [ "${CI:-}" = "true" ]; then
      echo "clearsim: CI=true, so nothing may be skipped: failing." >&2
      exit 1
    fi
    echo "clearsim: running the tests anyway; the Kafka and PostgreSQL suites will say they were skipped." >&2
  fi
fi
cleanup() { if [ -n "$started" ]; then infra/services.sh down >&2 || true; fi; }
trap cleanup EXIT

npx jest --ci "$@"

# the whole suite only (arguments narrow jest to some tests): the same code on the maintained Node LTS line
if [ "$#" -eq 0 ] && [ "${CLEARSIM_NO_NODE_LTS:-}" != "1" ]; then bash test/node-lts.sh; fi
