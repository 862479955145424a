#!/usr/bin/env bash
# `npm run dev`: the API and a worker from source, restarted on change.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/node-env.sh
export SWCRC=true
run() { node --watch-path=src -r @swc-node/register "src/$1.ts"; }
run main.api & api=$!
run main.worker & worker=$!
trap 'kill $api $worker 2>/dev/null' INT TERM EXIT
wait
