#!/usr/bin/env bash
# Generates the Prisma client offline. `prisma generate` insists on a schema engine
# path even though it never runs it; the real engine cannot be downloaded here, so any
# existing file satisfies the check (see shared/spec/environment.md).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/node-env.sh
export PRISMA_SCHEMA_ENGINE_BINARY="${PRISMA_SCHEMA_ENGINE_BINARY:-$(command -v node)}"
exec npx --no-install prisma generate "$@"
