#!/usr/bin/env bash
# The tests on the current Node LTS line besides the machine's Node (part of
# `npm test`, test/run-all.sh): the unit tier, then the README's first command
# (Black Thursday) with its golden outputHash, under Node $CLEARSIM_NODE_LTS
# (default 24). The binary comes from the npm registry's `node` package,
# installed once into .infra-cache/node-<major>/ (gitignored). Skip with
# CLEARSIM_NO_NODE_LTS=1; where it cannot be installed it says so and, under
# CI=true, fails (nothing may be skipped in CI).
set -euo pipefail
cd "$(dirname "$0")/.."

major="${CLEARSIM_NODE_LTS:-24}"
# the README's figure (test/cli/cli.e2e.spec.ts pins it too)
black_thursday_hash="6332442a02fc5769fde84580ad4098073a53b67f3c72da59a28edc7051ca64ba"
cache="$PWD/.infra-cache/node-$major"
node_bin="$cache/node_modules/.bin/node"

if [ ! -x "$node_bin" ] || ! "$node_bin" --version | grep -q "^v$major\."; then
  echo "clearsim: installing Node $major (the npm registry's node@$major) into $cache" >&2
  mkdir -p "$cache"
  if ! npm install --prefix "$cache" --no-audit --no-fund --loglevel=error "node@$major" >&2 || ! "$node_bin" --version >/dev/null 2>&1; then
    echo "clearsim: could not install Node $major from the npm registry (npm install node@$major): see the messages above." >&2
    echo "  Without the registry, set CLEARSIM_NO_NODE_LTS=1 to run on the machine's Node only." >&2
    if [ "${CI:-}" = "true" ]; then
      echo "clearsim: CI=true, so nothing may be skipped: failing." >&2
      exit 1
    fi
    echo "clearsim: the Node $major tier was SKIPPED." >&2
    exit 0
  fi
fi

machine_node=$(node --version)
# every `node` below — jest, its workers, bin/clearsim — is the LTS one
export PATH="$cache/node_modules/.bin:$PATH"
echo "clearsim: the unit tier and the README's first command on Node $(node --version) (besides the machine's $machine_node)" >&2
started=$(date +%s)
npx jest --ci --selectProjects unit
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
summary=$(./bin/clearsim run examples/incidents/2020-03-12-black-thursday.yaml --store "file:$scratch/store" --reset --report "$scratch/black-thursday.html" --json)
if ! grep -q "\"outputHash\": *\"$black_thursday_hash\"" <<<"$summary"; then
  echo "clearsim: Black Thursday on Node $major did not give the golden outputHash $black_thursday_hash:" >&2
  echo "$summary" | head -c 2000 >&2
  exit 1
fi
[ -s "$scratch/black-thursday.html" ] || { echo "clearsim: no report written on Node $major" >&2; exit 1; }
echo "clearsim: Node $major: unit tier and Black Thursday (outputHash $black_thursday_hash) passed in $(( $(date +%s) - started )) s" >&2
