#!/usr/bin/env bash
# Runs one benchmark from bench/ on Node 24: bash scripts/bench.sh auth [--smoke]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/node-env.sh
name="$1"; shift
export SWCRC=true
exec node -r @swc-node/register "bench/$name.ts" "$@"
