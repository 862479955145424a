#!/usr/bin/env bash
# `npm test`: the whole suite (unit specs beside the code, e2e under test/) on Node 24
# against the real Postgres and Redis. Jest loads NestJS 12 (ESM-only) through Node's
# require(esm), which Jest supports on Node >= 24.9 with vm modules enabled.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/node-env.sh
export NODE_OPTIONS="${NODE_OPTIONS:-} --experimental-vm-modules --no-warnings=ExperimentalWarning"
exec npx --no-install jest --runInBand "$@"
